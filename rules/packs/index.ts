/** Every bundled pack, in the order the docs list them. */
import type { RulePack } from '../model.js';
import { clientsPack } from './clients.js';
import { hostPack } from './host.js';
import { httpPack } from './http.js';
import { larderPack } from './larder.js';
import { nodejsPack } from './nodejs.js';

export const PACKS: readonly RulePack[] = [hostPack, nodejsPack, httpPack, clientsPack, larderPack];

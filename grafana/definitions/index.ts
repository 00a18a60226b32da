/** Every dashboard, listed explicitly. */
import type { DashboardDef } from '../model.js';
import { BUSINESS } from './business.js';
import { HOST } from './host.js';
import { LARDER } from './larder.js';
import { NODEJS } from './nodejs.js';

export const DASHBOARDS: readonly DashboardDef[] = [HOST, NODEJS, BUSINESS, LARDER];

/**
 * Child process of pg-tier-pack.test.ts, SIGKILLed by the parent at the worst moment:
 *   pack <schema> <chunk>        packs a tier chunk, printing "filled" inside the transaction and waiting there
 *   rollup <schema>              rolls up host b's series, printing "slice" inside the first slice's
 *                                transaction (after its merge into a packed chunk) and waiting there
 *   late <schema> <id> <ms> <v>  writes one sample (the parent holds series_latest locked, so the write
 *                                waits inside its transaction after merging into the packed day); prints "writing"
 */
import { openPgStore } from '../../storage/pg-store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { PG } from '../helpers/peers.js';

const [mode, schema, ...args] = process.argv.slice(2);
const NOW = Date.UTC(2026, 0, 20);
const hang = (): Promise<never> => new Promise<never>(() => undefined);
if (mode === 'pack') {
  const store = await openPgStore({ ...PG, schema: schema!, now: () => NOW });
  const chunk = (await store.listChunks()).find((c) => c.name === args[0]);
  if (chunk === undefined) throw new Error(`no chunk ${String(args[0])}`);
  await store.packChunk(chunk, async () => {
    process.stdout.write('filled\n');
    await hang();
  });
} else if (mode === 'rollup') {
  const store = await openPgStore({ ...PG, schema: schema!, now: () => NOW, instance: 'b' });
  const engine = new RollupEngine({
    store,
    tiers: DEFAULT_TIERS,
    now: () => NOW,
    instance: 'b',
    concurrency: 1,
    onSlice: async () => {
      process.stdout.write('slice\n');
      await hang();
    },
  });
  await engine.run();
} else if (mode === 'late') {
  const store = await openPgStore({ ...PG, schema: schema!, now: () => NOW, instance: 'b', writeTimeoutMs: 600_000 });
  process.stdout.write('writing\n');
  await store.writeSamples([{ seriesId: Number(args[0]), timeMs: Number(args[1]), value: Number(args[2]) }]);
  process.stdout.write('written\n');
  await store.close();
} else throw new Error(`unknown mode ${String(mode)}`);

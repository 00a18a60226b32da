/**
 * Child process of idempotence.test.ts: opens the store given on the command line and
 * rolls up with a fixed clock, small transactions, and (when asked) a pause inside the
 * Nth slice's open transaction, announced on stdout, so the parent can SIGKILL it there.
 * argv: <sqlite|postgresql> <path or schema> <nowMs> <pauseAtSlice|0>
 */
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { openPgStore } from '../../storage/pg-store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { PG } from '../helpers/peers.js';

const [dialect, where, nowArg, pauseArg] = process.argv.slice(2);
const now = Number(nowArg);
const pauseAt = Number(pauseArg);
const store = dialect === 'sqlite' ? await openSqliteStore({ path: where!, now: () => now }) : await openPgStore({ ...PG, schema: where!, now: () => now });
let slices = 0;
const engine = new RollupEngine({
  store,
  tiers: DEFAULT_TIERS,
  graceMs: 120_000,
  maxBucketsPerTransaction: 6,
  now: () => now,
  async onSlice(tier, from, to) {
    slices++;
    if (slices === pauseAt) {
      process.stdout.write(`PAUSED ${tier} ${from} ${to}\n`);
      await new Promise((r) => setTimeout(r, 60_000));
    }
  },
});
await engine.run();
await store.close();
process.stdout.write(`DONE ${slices}\n`);

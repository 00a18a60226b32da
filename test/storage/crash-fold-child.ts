/**
 * A writer for the fold crash test: fills the raw-sample head with TICKS ticks of SERIES
 * series, prints "written <rows>", then folds it step by step (small steps, so there are
 * many), printing "step <k>" after each step's transaction has committed.
 * Usage: crash-fold-child.ts <db path>
 */
import { SqliteEngine } from '../../storage/sqlite-engine.js';

export const SERIES = 500;
export const TICKS = 120;
export const T0 = Date.UTC(2026, 0, 10);

const [path] = process.argv.slice(2);
if (path !== undefined) {
  // maxRows above what is written: nothing rotates until the ticks are all in.
  const e = new SqliteEngine({ path, nowMs: T0, head: { maxRows: SERIES * TICKS, stepRows: 3000 } });
  const ids = e.resolveSeries(Array.from({ length: SERIES }, (_, i) => ({ name: 'crash_fold', labels: { i: String(i) }, type: 'gauge' as const })), T0);
  for (let k = 0; k < TICKS; k++) e.writeSamples(ids.map((id) => ({ seriesId: id, timeMs: T0 + k * 15_000, value: k })), T0);
  process.stdout.write(`written ${SERIES * TICKS}\n`);
  for (let k = 0; e.maintainHead(); k++) process.stdout.write(`step ${k}\n`);
  process.stdout.write('done\n');
}

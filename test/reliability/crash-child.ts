/**
 * A Larder-like writer the crash suite SIGKILLs (crash.test.ts). Opens the store (timed),
 * reports what it found, writes the old region if the store is new, then works in one
 * mode until killed:
 *   record     small batches back to back (the batch that comes next may be a backfill)
 *   backfill   small batches up to the next backfill batch, then that one ("big" first)
 *   rollup     a few batches, then a rollup catch-up ("rolling"), again and again
 *   retention  drops the old region's raw chunks, oldest first, one by one ("dropping")
 *   sizecap    the size cap's own run (rollup/retention.ts) over a store far over its cap,
 *              its clock at T0, so it drops every chunk before the main region ("capping")
 *   backup     backups of the store in a loop ("backup", then "backed-up" after each)
 * Lines: "ready <openMs> <integrity> <mainRows> <oldChunksBad>", "writing k", "committed k", and the mode's marker.
 * argv: <db path> <mode>
 */
import { join, dirname } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { applySizeCap, retentionTargets } from '../../rollup/retention.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { DAY, MAIN_DEFS, OLD_DAYS, OLD_DEFS, T0, batch, batchOfRows, endOf, steps } from './crash-data.js';

const [path, mode] = process.argv.slice(2) as [string, string];
const say = (line: string): boolean => process.stdout.write(`${line}\n`);
const started = Date.now();
let clock = T0;
const store = await openSqliteStore({ path, now: () => clock });
const openMs = Date.now() - started;
const integrity = (await store.query<{ integrity_check: string }>('PRAGMA integrity_check')).map((r) => r.integrity_check).join(';');
const ids = await store.resolveSeries(MAIN_DEFS);
const oldIds = await store.resolveSeries(OLD_DEFS);
const inList = (xs: readonly number[]): string => xs.join(', ');
const mainRows = Number((await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM samples_all WHERE series_id IN (${inList(ids)})`))[0]!.n);
// Each old-region day is whole or gone (dropped by retention), never partial.
const perOldDay = await store.query<{ d: number; n: number }>(
  `SELECT (ts - ${T0 - OLD_DAYS * DAY}) / ${DAY} AS d, COUNT(*) AS n FROM samples_all WHERE series_id IN (${inList(oldIds)}) GROUP BY d`,
);
const oldBad = perOldDay.filter((r) => Number(r.n) !== OLD_DEFS.length * 24).length;
say(`ready ${openMs} ${integrity.replace(/\s+/g, '_')} ${mainRows} ${oldBad}`);

let next = (batchOfRows(mainRows) ?? -2) + 1;
if (next < 0) {
  say('partial'); // reported above; nothing sensible to continue from
  await new Promise(() => undefined);
}
const writeNext = async (): Promise<void> => {
  say(`writing ${next}`);
  clock = endOf(next);
  await store.writeSamples(batch(ids, next));
  say(`committed ${next}`);
  next++;
};

if (mainRows === 0 && perOldDay.length === 0) {
  for (let d = 0; d < OLD_DAYS; d++) {
    const day = T0 - (OLD_DAYS - d) * DAY;
    await store.writeSamples(Array.from({ length: 24 }, (_, h) => oldIds.map((id) => ({ seriesId: id, timeMs: day + h * 3_600_000, value: h }))).flat());
  }
}

switch (mode) {
  case 'record':
    for (;;) await writeNext();
  case 'backfill':
    while (steps(next) === 1) await writeNext();
    say('big');
    for (;;) await writeNext();
  case 'rollup': {
    const engine = new RollupEngine({ store, tiers: DEFAULT_TIERS, now: () => clock });
    for (;;) {
      for (let i = 0; i < 3; i++) await writeNext();
      say('rolling');
      await engine.run();
      say('rolled');
    }
  }
  case 'retention': {
    say('dropping');
    for (const c of await store.listChunks('samples')) {
      if (c.endMs > T0) break;
      await store.dropChunk('samples', c.name);
      say(`dropped ${c.name}`);
    }
    say('dropped all');
    for (;;) await writeNext();
  }
  case 'sizecap': {
    // A cap of one byte: the cap drops chunk after chunk, measuring between drops, as
    // the 10 s job does. No watermarks: nothing counts as rolled up.
    say('capping');
    const r = await applySizeCap(store, retentionTargets(DEFAULT_TIERS, 90 * DAY, new Map()), 1, T0);
    say(`capped ${r.dropped.length}`);
    for (;;) await writeNext();
  }
  case 'backup':
    say('backup');
    for (;;) {
      await store.backup(join(dirname(path), 'backup.db'));
      say('backed-up');
    }
  default:
    throw new Error(`unknown mode ${mode}`);
}

/**
 * A writer for the tick log's crash test: a store that commits ticks at most every
 * <commit ms> writes a tick of SERIES series every 20 ms, from tick <first> on, and prints
 * "acked <k>" once tick k is acknowledged (logged or committed), until it is killed.
 * Usage: tick-log-child.ts <db path> <commit ms> <first>
 */
import { openSqliteStore } from '../../storage/sqlite-store.js';

export const SERIES = 50;
export const T0 = Date.UTC(2026, 0, 10);

const [path, commitMs, first] = process.argv.slice(2);
if (path !== undefined) {
  const s = await openSqliteStore({ path, commitIntervalMs: Number(commitMs ?? 3_600_000), now: () => T0 });
  const ids = await s.resolveSeries(Array.from({ length: SERIES }, (_, i) => ({ name: 'tick_log', labels: { i: String(i) }, type: 'gauge' as const })));
  for (let k = Number(first ?? 0); ; k++) {
    await s.writeSamples(ids.map((id) => ({ seriesId: id, timeMs: T0 + k * 15_000, value: k })));
    process.stdout.write(`acked ${k}\n`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

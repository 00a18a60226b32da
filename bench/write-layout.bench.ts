/**
 * Disk bytes written per sample by a record tick, by table layout and page size, in
 * the engine Larder records with (node-sqlite3-wasm, rollback journal, synchronous
 * NORMAL, as storage/sqlite-engine.ts sets it). Each tick is one transaction of SERIES
 * samples at the next timestamp. The figure is `write_bytes` of /proc/self/io over the
 * MEASURE_TICKS ticks into an empty table and into one already holding AGE_TICKS ticks:
 * how far into a chunk the tick lands decides how many B-tree leaves it touches.
 *
 *   ./scripts/run-bench.sh write-layout   (SERIES=500 AGE_TICKS=960 MEASURE_TICKS=40)
 *
 * Layouts: `keyed` is today's chunk table, `(series_id, ts)` WITHOUT ROWID, every series'
 * newest rows in their own leaf once the chunk has aged; `append` is a rowid table in
 * arrival order (a head table folded into keyed order later), so a tick fills the
 * last leaf or two.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';
import { fmt, printTable } from './lib/stats.js';
import { writeBytes } from './lib/proc.js';

const SERIES = Number(process.env['SERIES'] ?? 500);
const AGE = Number(process.env['AGE_TICKS'] ?? 960);
const MEASURE = Number(process.env['MEASURE_TICKS'] ?? 40);
const STEP_MS = 15_000;

const LAYOUTS = {
  keyed: 'CREATE TABLE s (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, PRIMARY KEY (series_id, ts)) WITHOUT ROWID',
  append: 'CREATE TABLE s (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL)',
  // the head Larder appends to (storage/sqlite-head.ts): time-keyed, so a tick writes the right edge
  head: 'CREATE TABLE s (ts INTEGER NOT NULL, series_id INTEGER NOT NULL, value REAL, PRIMARY KEY (ts, series_id)) WITHOUT ROWID',
} as const;

/** Bytes written per sample over the measured ticks of one layout and page size. */
function perSample(dir: string, layout: keyof typeof LAYOUTS, pageSize: number, age: number): number {
  const db = new sqlite3.Database(join(dir, `${layout}-${pageSize}-${age}.db`));
  try {
    db.exec(`PRAGMA page_size = ${pageSize}`);
    db.exec('PRAGMA journal_mode = DELETE');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA cache_size = -4000');
    db.exec(LAYOUTS[layout]);
    const insert = db.prepare('INSERT INTO s (series_id, ts, value) VALUES (?, ?, ?)');
    const tick = (n: number): void => {
      db.exec('BEGIN');
      for (let id = 1; id <= SERIES; id++) insert.run([id, n * STEP_MS, Math.random() * 1000]);
      db.exec('COMMIT');
    };
    // the aged part in one transaction per 40 ticks (fast; the layout comes out the same)
    for (let n = 0; n < age; n += 40) {
      db.exec('BEGIN');
      for (let k = n; k < Math.min(age, n + 40); k++) for (let id = 1; id <= SERIES; id++) insert.run([id, k * STEP_MS, Math.random() * 1000]);
      db.exec('COMMIT');
    }
    const before = writeBytes(process.pid);
    for (let n = age; n < age + MEASURE; n++) tick(n);
    const written = writeBytes(process.pid) - before;
    insert.finalize();
    return written / (MEASURE * SERIES);
  } finally {
    db.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'larder-layout-'));
try {
  console.log(`${SERIES} series, one transaction per tick, ${MEASURE} ticks measured; bytes written per sample:`);
  const hours = (ticks: number): string => `${fmt((ticks * STEP_MS) / 3_600_000, 1)} h into the chunk`;
  const rows: string[][] = [['layout', 'page size', hours(0), hours(AGE)]];
  for (const layout of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) {
    for (const pageSize of [4096, 1024]) rows.push([layout, String(pageSize), fmt(perSample(dir, layout, pageSize, 0), 1), fmt(perSample(dir, layout, pageSize, AGE), 1)]);
  }
  printTable(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

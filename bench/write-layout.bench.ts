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

// ---- the engine itself: Larder's write path before (every sample to its chunk) and with the head ----

const TICKS_PER_HOUR = 3_600_000 / STEP_MS;
/** Ticks whose bytes are measured: an hour's head and the ticks its fold runs after (one step each). */
const ENGINE_TICKS = Number(process.env['ENGINE_TICKS'] ?? TICKS_PER_HOUR + 20);

interface EngineFigures {
  bytesPerSample: number;
  longestTickMs: number;
  longestStepMs: number;
  reads: { day: number; hour: number; many: number };
}

/** Median of `n` timed runs of `f`, ms. */
function timeMs(f: () => void, n = 5): number {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    f();
    out.push(performance.now() - a);
  }
  return out.sort((a, b) => a - b)[n >> 1]!;
}

/** A store aged `age` ticks into its chunk, then `hours` of ticks as the worker runs them (a fold step after each). */
async function engineRun(dir: string, head: boolean, age: number): Promise<EngineFigures> {
  const { SqliteEngine } = await import('../storage/sqlite-engine.js');
  const T0 = Date.UTC(2026, 0, 10);
  const e = new SqliteEngine({ path: join(dir, `engine-${head}-${age}.db`), nowMs: T0, head: { enabled: head } });
  try {
    const ids = e.resolveSeries(Array.from({ length: SERIES }, (_, i) => ({ name: 'bench', labels: { i: String(i) }, type: 'gauge' as const })), T0);
    const tick = (k: number): Float64Array => {
      const p = new Float64Array(SERIES * 3);
      ids.forEach((id, i) => p.set([id, T0 + k * STEP_MS, Math.random() * 1000], i * 3));
      return p;
    };
    for (let n = 0; n < age; n += 40) {
      const parts = Array.from({ length: Math.min(40, age - n) }, (_, j) => tick(n + j));
      const p = new Float64Array(parts.reduce((x, q) => x + q.length, 0));
      parts.reduce((o, q) => (p.set(q, o), o + q.length), 0);
      e.writePacked(p, T0);
    }
    if (head) e.foldHead();
    let longestTickMs = 0;
    let longestStepMs = 0;
    const ticks = ENGINE_TICKS;
    const before = writeBytes(process.pid);
    let bytesPerSample = 0;
    // With the head, go on until it holds its most (just before its next rotation): the reads' worst case.
    const total = head ? Math.max(ticks, 2 * TICKS_PER_HOUR) : ticks;
    for (let k = age; k < age + total; k++) {
      const a = performance.now();
      e.writePacked(tick(k), T0);
      const b = performance.now();
      e.maintainHead();
      longestTickMs = Math.max(longestTickMs, b - a);
      longestStepMs = Math.max(longestStepMs, performance.now() - b);
      if (k === age + ticks - 1) bytesPerSample = (writeBytes(process.pid) - before) / (ticks * SERIES);
    }
    const end = T0 + (age + total) * STEP_MS;
    const one = [ids[SERIES >> 1]!];
    const reads = {
      day: timeMs(() => e.readPacked({ seriesIds: one, fromMs: T0, toMs: end })),
      hour: timeMs(() => e.readPacked({ seriesIds: one, fromMs: end - 3_600_000, toMs: end })),
      many: timeMs(() => e.readPacked({ seriesIds: ids, fromMs: end - 300_000, toMs: end })),
    };
    return { bytesPerSample, longestTickMs, longestStepMs, reads };
  } finally {
    e.close();
  }
}

const dir2 = mkdtempSync(join(tmpdir(), 'larder-layout-'));
try {
  console.log(`\nThe engine (storage/sqlite-engine.ts), ${SERIES} series, ${ENGINE_TICKS} ticks measured (a fold step after each, as the worker runs it: an hour's head and its fold); reads with the head at its fullest:`);
  const rows: string[][] = [['write path', 'into the chunk', 'bytes/sample', 'longest tick', 'longest fold step', 'read: 1 series, day', '1 series, last hour', `${SERIES} series, 5 min`]];
  for (const age of [0, AGE]) {
    for (const head of [false, true]) {
      const f = await engineRun(dir2, head, age);
      rows.push([
        head ? 'head' : 'chunk (before)',
        `${fmt((age * STEP_MS) / 3_600_000, 1)} h`,
        fmt(f.bytesPerSample, 1),
        `${fmt(f.longestTickMs, 1)} ms`,
        head ? `${fmt(f.longestStepMs, 1)} ms` : '',
        `${fmt(f.reads.day, 2)} ms`,
        `${fmt(f.reads.hour, 2)} ms`,
        `${fmt(f.reads.many, 2)} ms`,
      ]);
    }
  }
  printTable(rows);
} finally {
  rmSync(dir2, { recursive: true, force: true });
}

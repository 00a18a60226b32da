/**
 * PostgreSQL's first tier (raw samples to 5-minute rows) for one slice, folded in Node
 * (fold.ts) as SQLite's store task folds it in its worker (sqlite-fold-task.ts), instead
 * of the SQL of sql.ts. Each series' samples leave the server as one COPY row of arrays
 * (array_agg, hashed by series: no sort), in the order they lie on disk; they are put in
 * time order here where they are not already, folded, and the rows go back by binary
 * COPY, all in the engine's slice transaction. Why: the SQL's sort, window and GROUP BY cost ~1.9 s of the
 * server's CPU per day of 1,000 series at 60 s (EXPLAIN ANALYZE: scan 0.2, sort 0.5,
 * window 0.5, group 0.3, insert 0.4), and the server's CPU is what the hosts share. One
 * COPY row per sample instead of per series measured 3x the Node CPU (a protocol
 * message and a Buffer per row). The rows are those of the SQL (the sums compensated,
 * as SQLite's fold sums: equal within rounding); docs/storage.md, Rollup time.
 */
import { CopyArraysReader, encodeNumberTuples, type CopyType } from '../storage/pg-copy-binary.js';
import { pgLive } from '../storage/stale.js';
import type { SqlExecutor } from '../storage/store.js';
import { RawFold, ROW_WIDTH } from './fold.js';
import type { IncreaseRow } from './quantile-rows.js';
import { counterLike, ident, ROLLUP_COLUMNS } from './sql.js';

/** What the engine asks of one slice of the first tier (as FoldSliceInput on SQLite, plus the owner). */
export interface PgFoldInput {
  /** The table written to (a chunk, or the temporary table of a packed one). */
  readonly target: string;
  /** The raw chunks read, oldest first. */
  readonly sources: readonly string[];
  readonly resolutionMs: number;
  readonly from: number;
  readonly to: number;
  /** The carry table and the tier's name in it. */
  readonly carryTable: string;
  readonly tier: string;
  /** The Larder whose series are rolled up (`series.host`). */
  readonly host: string;
}

/** What a slice wrote, and the histogram series' rows for the quantiles. */
export interface PgFoldResult {
  readonly rows: number;
  /** Source rows read. */
  readonly scanned: number;
  readonly increases: IncreaseRow[];
}

/**
 * Bytes of source rows held at once (in Node as Float64Arrays; the server's hash of
 * arrays is about as large, hence work_mem below): the series are read in batches sized
 * from the rows per series of the batch before (the first is small), so a host with many
 * series or a long slice does not hold the whole slice.
 */
const BATCH_BYTES = 48 * 1024 * 1024;
const FIRST_BATCH_SERIES = 100;
/** work_mem of the slice's transaction: the batch's arrays hashed by series in memory, not sorted on disk. */
const WORK_MEM = '64MB';
/** Rows per COPY piece written. */
const PIECE_ROWS = 4096;
/** Samples folded between two turns of the event loop: the fold runs on the thread that serves /metrics. */
const STRIDE = 1 << 13;

const ROW_TYPES: readonly CopyType[] = ['int4', 'timestamptz', 'int4', 'float8', 'float8', 'float8', 'float8', 'float8', 'float8'];
/** Element types of the arrays read: the times, then the values. */
const RAW_ARRAYS: readonly CopyType[] = ['timestamptz', 'float8'];

/** Lets the event loop run (a scrape, a timer) between two strides of a long loop. */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A time literal for COPY, which takes no parameters. */
function timeLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`rollup: not a time in whole ms: ${ms}`);
  return `to_timestamp(${ms}::double precision / 1000)`;
}

/** One series' samples of a slice: columns[0] the times, columns[1] the values. */
interface SeriesRows {
  readonly id: number;
  columns: Float64Array[];
}

/**
 * The columns in time order: as they are when the times already rise (rows written in
 * time order), else reordered by time (late samples, updates, several source chunks).
 */
export function inTimeOrder(columns: Float64Array[]): Float64Array[] {
  const ts = columns[0]!;
  let sorted = true;
  for (let i = 1; i < ts.length && sorted; i++) sorted = ts[i - 1]! < ts[i]!;
  if (sorted) return columns;
  const order = Array.from(ts.keys()).sort((a, b) => ts[a]! - ts[b]!);
  return columns.map((c) => Float64Array.from(order, (i) => c[i]!));
}

/**
 * Rolls up one slice of PostgreSQL's first tier by folding in Node; `after` is the
 * previous slice's end: the carry this one reads is written by that one, so it waits for
 * it after reading its first batch of samples (the server's part runs meanwhile).
 */
export async function pgFoldSlice(tx: SqlExecutor, input: PgFoldInput, after: Promise<unknown>): Promise<PgFoldResult> {
  const { copyOut, copyIn } = tx;
  if (copyOut === undefined || copyIn === undefined) throw new TypeError('pgFoldSlice: the executor cannot COPY');
  const own = await tx.query<{ id: unknown; h: unknown; c: unknown }>(
    `SELECT se.id, se.type = 'histogram' AS h, ${counterLike('se')} AS c FROM series se WHERE se.host = $1 ORDER BY se.id`,
    [input.host],
  );
  const ids = own.map((r) => Number(r.id));
  const histograms = new Set(own.filter((r) => r.h === true).map((r) => Number(r.id)));
  const counters = new Set(own.filter((r) => r.c === true).map((r) => Number(r.id)));
  const where = `ts >= ${timeLiteral(input.from)} AND ts < ${timeLiteral(input.to)} AND ${pgLive('value')}`;
  await tx.execute(`SET LOCAL work_mem = '${WORK_MEM}'`);

  const read = async (batch: readonly number[]): Promise<{ series: SeriesRows[]; rows: number }> => {
    const series: SeriesRows[] = [];
    let rows = 0;
    if (batch.length === 0 || input.sources.length === 0) return { series, rows };
    const mine = `series_id = ANY ('{${batch.join(',')}}'::integer[])`;
    const src = input.sources.map((c) => `SELECT series_id, ts, value FROM ${ident(c)} WHERE ${mine} AND ${where}`).join(' UNION ALL ');
    const reader = new CopyArraysReader(RAW_ARRAYS, (id, columns) => {
      series.push({ id, columns });
      rows += columns[0]!.length;
    });
    await copyOut(`COPY (SELECT series_id, array_agg(ts), array_agg(value) FROM (${src}) s GROUP BY series_id) TO STDOUT (FORMAT binary)`, (piece) => reader.push(piece));
    if (!reader.ended) throw new Error('rollup: binary COPY ended without its trailer');
    // Series in id order, as the SQL wrote them: the new rows go into the key in order.
    series.sort((a, b) => a.id - b.id);
    return { series, rows };
  };

  // Folded rows, written in pieces by COPY; the histogram rows' increases kept for the quantiles.
  const increases: IncreaseRow[] = [];
  let pieces: Buffer[] = [];
  const out = new Float64Array(PIECE_ROWS * ROW_WIDTH);
  let filled = 0;
  const flush = (): void => {
    if (filled > 0) pieces.push(encodeNumberTuples(ROW_TYPES, out.subarray(0, filled)));
    filled = 0;
  };
  const sink = (row: Float64Array): void => {
    if (histograms.has(row[0]!)) increases.push({ seriesId: row[0]!, ts: row[1]!, increase: Number.isNaN(row[8]!) ? null : row[8]! });
    out.set(row, filled);
    filled += ROW_WIDTH;
    if (filled === out.length) flush();
  };

  let size = Math.min(ids.length, FIRST_BATCH_SERIES);
  let batch = ids.slice(0, size);
  let got = await read(batch);
  await after;
  // Each series' last value before the slice, for the delta into its first bucket.
  const carry = new Map<number, number>();
  const carried = await tx.query<{ series_id: unknown; last: unknown }>(
    `SELECT c.series_id, c.last FROM ${ident(input.carryTable)} c JOIN series se ON se.id = c.series_id WHERE c.tier = $1 AND c.ts < $2::bigint AND se.host = $3`,
    [input.tier, input.from, input.host],
  );
  for (const r of carried) carry.set(Number(r.series_id), r.last === null ? Number.NaN : Number(r.last));
  let written = 0;
  let scanned = 0;
  const last: { seriesId: number; bucket: number; last: number }[] = [];
  let done = 0;
  let sinceBreath = 0;
  for (;;) {
    scanned += got.rows;
    const fold = new RawFold(input.resolutionMs, (id) => counters.has(id), carry, sink);
    for (const s of got.series) {
      const [ts, v] = inTimeOrder(s.columns) as [Float64Array, Float64Array];
      s.columns = [];
      for (let k = 0; k < ts.length; k++) fold.add(s.id, ts[k]!, v[k]!);
      sinceBreath += ts.length;
      if (sinceBreath >= STRIDE) {
        sinceBreath = 0;
        await breathe();
      }
    }
    fold.finish();
    written += fold.rows;
    last.push(...fold.lastValues());
    flush();
    if (pieces.length > 0) await copyIn(`COPY ${ident(input.target)} (${ROLLUP_COLUMNS}) FROM STDIN (FORMAT binary)`, pieces);
    pieces = [];
    done += batch.length;
    if (done >= ids.length) break;
    // The next batch holds about BATCH_BYTES of rows, going by this one's rows per series.
    const perSeries = got.rows / batch.length;
    size = Math.max(1, perSeries > 0 ? Math.floor(BATCH_BYTES / (8 * RAW_ARRAYS.length * perSeries)) : ids.length);
    batch = ids.slice(done, done + size);
    got = await read(batch);
  }

  // Each series' last value in the slice becomes its carry (as carryUpdateSql does).
  for (let i = 0; i < last.length; i += 500) {
    const part = last.slice(i, i + 500);
    const params = part.flatMap((l) => [input.tier, l.seriesId, l.bucket, Number.isNaN(l.last) ? null : l.last]);
    const values = part.map((_, k) => `($${4 * k + 1}, $${4 * k + 2}::integer, $${4 * k + 3}::bigint, $${4 * k + 4}::double precision)`);
    await tx.execute(
      `INSERT INTO ${ident(input.carryTable)} (tier, series_id, ts, last) VALUES ${values.join(', ')}
       ON CONFLICT (tier, series_id) DO UPDATE SET ts = excluded.ts, last = excluded.last`,
      params,
    );
  }
  return { rows: written, scanned, increases };
}

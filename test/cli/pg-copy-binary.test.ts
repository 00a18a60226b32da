/**
 * The binary COPY codec of `larder migrate`: the tuples it encodes are the bytes the real
 * PostgreSQL gives back with COPY … TO STDOUT (FORMAT binary) for the same rows (NaN,
 * ±Inf, NULL, times before and after 2000 included), and the reader counts and passes on
 * exactly the tuples whatever the pieces the stream arrives in.
 */
import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import t from 'tap';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { COPY_HEADER, COPY_TRAILER, CopyTupleReader, encodeTuples, type CopyType } from '../../storage/pg-copy-binary.js';
import { need, PG } from '../helpers/peers.js';

const TYPES: CopyType[] = ['int4', 'timestamptz', 'int4', 'float8'];
const ROWS: unknown[][] = [
  [1, Date.UTC(2026, 0, 1), 7, 1.5],
  [1, Date.UTC(2026, 0, 1, 0, 0, 0, 1), null, Number.NaN],
  [2, 0, -3, Number.POSITIVE_INFINITY],
  [2, Date.UTC(1999, 11, 31, 23, 59, 59, 999), 2_147_483_647, Number.NEGATIVE_INFINITY],
  [3, Date.UTC(9999, 11, 31, 23, 59, 59, 999), 0, null],
  [4, 1_767_225_600_123, 1, -0.1 + 0.3],
];

function stream(pieces: readonly Buffer[]): { rows: number; ended: boolean; bytes: Buffer } {
  const got: Buffer[] = [];
  const r = new CopyTupleReader((b) => void got.push(Buffer.from(b)));
  for (const p of pieces) r.push(p);
  return { rows: r.rows, ended: r.ended, bytes: Buffer.concat(got) };
}

t.test('reader: whole tuples in any split of the stream', async (t) => {
  const tuples = encodeTuples(TYPES, ROWS);
  const whole = Buffer.concat([COPY_HEADER, tuples, COPY_TRAILER]);
  const one = stream([whole]);
  t.same(one, { rows: ROWS.length, ended: true, bytes: tuples });
  for (const size of [1, 2, 3, 7, 19, 20, 33]) {
    const pieces: Buffer[] = [];
    for (let o = 0; o < whole.length; o += size) pieces.push(whole.subarray(o, o + size));
    t.same(stream(pieces), { rows: ROWS.length, ended: true, bytes: tuples }, `pieces of ${size} bytes`);
  }
  const cut = stream([whole.subarray(0, whole.length - 5)]);
  t.equal(cut.ended, false, 'a stream cut short is not ended');
  t.equal(cut.rows, ROWS.length - 1, 'the cut tuple is not counted');
  t.throws(() => stream([Buffer.from('PGCOPY\nnot binary copy header')]), /bad signature/);
  t.throws(() => encodeTuples(['int4'], [[1.5]]), /not an integer: 1.5/);
});

t.test('the bytes PostgreSQL reads and gives back are the bytes encoded', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const c = new pg.Client({ ...PG });
  await c.connect();
  t.teardown(() => c.end());
  await c.query('CREATE TEMP TABLE copy_codec (series_id integer NOT NULL, ts timestamptz NOT NULL, count integer, value double precision)');
  const tuples = encodeTuples(TYPES, ROWS);
  const into = c.query(copyFrom('COPY copy_codec FROM STDIN (FORMAT binary)'));
  into.end(Buffer.concat([COPY_HEADER, tuples, COPY_TRAILER]));
  await finished(into);
  t.equal(into.rowCount, ROWS.length);
  const text = await c.query<{ ts: string; value: string | null; count: number | null }>(
    "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') AS ts, value::text AS value, count FROM copy_codec ORDER BY series_id, ts",
  );
  t.same(
    text.rows.map((r) => [r.ts, r.value, r.count]),
    [
      ['2026-01-01T00:00:00.000', '1.5', 7],
      ['2026-01-01T00:00:00.001', 'NaN', null],
      ['1970-01-01T00:00:00.000', 'Infinity', -3],
      ['1999-12-31T23:59:59.999', '-Infinity', 2147483647],
      ['9999-12-31T23:59:59.999', null, 0],
      ['2026-01-01T00:00:00.123', '0.19999999999999998', 1],
    ],
    'each value as PostgreSQL reads it',
  );
  const h = createHash('sha256');
  const reader = new CopyTupleReader((b) => h.update(b));
  for await (const piece of c.query(copyTo('COPY (SELECT * FROM copy_codec ORDER BY series_id, ts) TO STDOUT (FORMAT binary)'))) reader.push(piece as Buffer);
  t.equal(reader.rows, ROWS.length);
  t.ok(reader.ended);
  t.equal(h.digest('hex'), createHash('sha256').update(tuples).digest('hex'), 'read back: the same bytes');
});

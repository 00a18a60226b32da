/**
 * COPY inside a PostgreSQL store transaction (`copyOut`, `copyIn`: the rollups' reads and
 * writes, rollup/pg-fold.ts), against the real server: rows written with
 * encodeNumberTuples come back through array_agg and CopyArraysReader as the same
 * numbers (NULL as NaN, times before 2000, ±Inf) whatever the pieces the stream arrives
 * in; a COPY that fails, on either side, rolls its transaction back and leaves the pool
 * working; and pg's query_timeout timer, which pg-copy-streams' COPY TO never clears
 * itself, is cleared (it would fire later at the finished query).
 */
import t, { type Test } from 'tap';
import { CopyArraysReader, encodeNumberTuples, type CopyType } from '../../storage/pg-copy-binary.js';
import { openPgStore, type PgStore } from '../../storage/pg-store.js';
import { dropSchema, freshSchema } from '../rollup/stores.js';
import { need, PG } from '../helpers/peers.js';

const TYPES: CopyType[] = ['int4', 'timestamptz', 'float8', 'int4'];
const ROWS = [
  [1, Date.UTC(2026, 0, 1), 1.5, 7],
  [1, Date.UTC(2026, 0, 1, 0, 0, 0, 1), Number.NaN, Number.NaN],
  [2, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Number.POSITIVE_INFINITY, -3],
  [2, 0, Number.NEGATIVE_INFINITY, 2_147_483_647],
  [2, -1, -0.1 + 0.3, 0],
  [3, 1_767_225_600_123, 0, 1],
];

async function open(t: Test, opts: { queryTimeoutMs?: number } = {}): Promise<PgStore> {
  const schema = freshSchema('copy');
  const store = await openPgStore({ ...PG, schema, poolSize: 1, ...opts });
  t.teardown(async () => {
    await store.close();
    await dropSchema(schema);
  });
  await store.execute('CREATE TABLE c (id integer NOT NULL, ts timestamptz NOT NULL, v double precision, n integer, PRIMARY KEY (id, ts))');
  return store;
}

const COPY_IN = 'COPY c (id, ts, v, n) FROM STDIN (FORMAT binary)';
const COPY_OUT = 'COPY (SELECT id, array_agg(ts ORDER BY ts), array_agg(v ORDER BY ts), array_agg(n ORDER BY ts) FROM c GROUP BY id ORDER BY id) TO STDOUT (FORMAT binary)';

/** Rows as array_agg gives them back: per id, the columns in time order. */
function expected(): Map<number, number[][]> {
  const m = new Map<number, number[][]>();
  for (const r of [...ROWS].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)) {
    const cols = m.get(r[0]!) ?? [[], [], []];
    cols.forEach((c, i) => c.push(r[i + 1]!));
    m.set(r[0]!, cols);
  }
  return m;
}

t.test('rows copied in come back as arrays, whatever the pieces', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const store = await open(t);
  const tuples = encodeNumberTuples(TYPES, Float64Array.from(ROWS.flat()));
  // In two pieces cut inside a tuple: the server gets the stream, not whole tuples per piece.
  await store.transaction((tx) => tx.copyIn!(COPY_IN, [tuples.subarray(0, 30), tuples.subarray(30)]));
  const nulls = await store.query<{ n: string }>('SELECT count(*) AS n FROM c WHERE v IS NULL AND n IS NULL');
  t.equal(Number(nulls[0]!.n), 1, 'NaN was written as NULL');
  const whole: Buffer[] = [];
  await store.transaction((tx) => tx.copyOut!(COPY_OUT, (p) => void whole.push(Buffer.from(p))));
  const bytes = Buffer.concat(whole);
  for (const size of [1, 2, 7, 19, 20, 64, bytes.length]) {
    const got = new Map<number, number[][]>();
    const reader = new CopyArraysReader(['timestamptz', 'float8', 'int4'], (id, cols) => got.set(id, cols.map((c) => [...c])));
    for (let o = 0; o < bytes.length; o += size) reader.push(bytes.subarray(o, o + size));
    t.ok(reader.ended, `pieces of ${size}: the trailer was seen`);
    t.equal(reader.rows, 3, `pieces of ${size}: one row per id`);
    t.same(got, expected(), `pieces of ${size}: the same numbers (NULL as NaN)`);
  }
});

t.test('a COPY that fails rolls its transaction back and the pool goes on', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const store = await open(t);
  await store.transaction((tx) => tx.copyIn!(COPY_IN, [encodeNumberTuples(TYPES, Float64Array.from(ROWS.flat()))]));
  // Reading: the consumer throws half way (as a decoding error would).
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.execute('DELETE FROM c WHERE id = 1');
      await tx.copyOut!(COPY_OUT, () => {
        throw new Error('consumer failed');
      });
    }),
    /consumer failed/,
  );
  // Writing: a duplicate key, refused by the server in the middle of the stream.
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.execute('DELETE FROM c WHERE id = 2');
      await tx.copyIn!(COPY_IN, [encodeNumberTuples(TYPES, Float64Array.from([9, 0, 1, 1, 9, 0, 2, 2]))]);
    }),
    /duplicate key/,
  );
  // One connection in the pool: these run on the connection the failures used, or on its replacement.
  const n = await store.query<{ n: string }>('SELECT count(*) AS n FROM c');
  t.equal(Number(n[0]!.n), ROWS.length, 'nothing of either transaction was kept');
  const more: Buffer[] = [];
  await store.transaction((tx) => tx.copyOut!(COPY_OUT, (p) => void more.push(p)));
  t.ok(Buffer.concat(more).length > 0, 'the next COPY works');
});

t.test("COPY TO clears pg's query timeout timer", async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const store = await open(t, { queryTimeoutMs: 300 });
  const errors: unknown[] = [];
  const onError = (e: unknown): void => void errors.push(e);
  process.on('uncaughtException', onError);
  t.teardown(() => void process.off('uncaughtException', onError));
  await store.transaction(async (tx) => {
    await tx.copyOut!(COPY_OUT, () => undefined);
    // Past the timeout: an armed timer would fire at the finished COPY now.
    await new Promise((r) => setTimeout(r, 600));
    await tx.query('SELECT 1');
  });
  t.same(await store.query('SELECT 2 AS x'), [{ x: 2 }], 'the connection still answers');
  t.same(errors, [], 'no timeout fired');
});

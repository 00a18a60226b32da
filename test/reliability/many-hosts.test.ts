/**
 * Many hosts, one PostgreSQL schema, real processes: two and then three `larder serve`
 * (separate spools and ports, --instance h1/h2/h3) record every second into one schema,
 * rolling up every 5 s into a 1m and a 5m tier. Host h2 reaches PostgreSQL through a
 * fault proxy that refuses it for 80 s (over a 1m bucket and many rollup runs) while the
 * others go on. Then: every series says which host it came from and no two hosts share
 * one; each host's tier rows equal a recomputation from that host's raw rows alone (so
 * h2's spooled samples reached raw and its buckets were computed once, after they
 * arrived); no duplicate key and no job error in any log (h2's only while cut off).
 */
import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { PG, need } from '../helpers/peers.js';
import { startLarderProcess, type LarderProcess } from '../helpers/larder-process.js';
import { staleNaN } from '../../storage/stale.js';
import { dropSchema, schemaName, tempDir } from '../storage/fixtures/stores.js';
import { openPgStore } from '../../storage/pg-store.js';
import { RollupEngine } from '../../rollup/engine.js';
import { parseTiers } from '../../rollup/tiers.js';
import { ident } from '../../rollup/sql.js';
import { FaultProxy } from './fault-proxy.js';
import { figure } from './figures.js';

const TIERS = '1m:1d,5m:7d';
const GRACE_MS = 15_000;
const CUT_MS = 80_000;
/**
 * Fewer collectors than the default (about 900 series here): the spool forwards in
 * batches, and on this shared 2-core machine a host recording 900 series a second never
 * drained a spool while it kept spooling (see the report); the rollups are what is tested.
 */
const OFF = ['cpu', 'meminfo', 'filesystem', 'diskstats', 'netdev', 'netclass', 'netstat', 'sockstat', 'softnet', 'conntrack', 'stat', 'vmstat', 'pressure', 'entropy', 'processes', 'usage', 'cgroup', 'textfile'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('three Larders on one schema, one cut off for over a bucket', { timeout: 900_000 }, async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const schema = schemaName();
  const dir = tempDir(t);
  const proxy = new FaultProxy(PG.host, PG.port);
  await proxy.start();
  const pgp = pgPromise({ noWarnings: true });
  const db = pgp({ connectionString: `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}?options=${encodeURIComponent(`-c search_path=${schema}`)}` });
  const procs: LarderProcess[] = [];
  t.teardown(async () => {
    if (process.env['MANY_HOSTS_LOGS']) procs.forEach((p, i) => writeFileSync(join(process.env['MANY_HOSTS_LOGS']!, `h${i + 1}.log`), p.stdout() + p.stderr()));
    for (const p of procs) await p.stop('SIGKILL');
    await proxy.stop();
    await db.$pool.end();
    await dropSchema(schema);
  });
  const start = async (instance: string, pgPort: number): Promise<LarderProcess> => {
    const p = await startLarderProcess(
      await freePort(),
      [`--instance=${instance}`, '--record-interval=1s', '--collect-interval=1s', `--rollup.tiers=${TIERS}`, `--rollup.grace=${GRACE_MS / 1000}s`, '--rollup.cron=*/5 * * * * *', '--log.level=info', ...OFF.map((c) => `--no-collector.${c}`)],
      { MONITORING_DB: 'postgresql', DB_HOST: PG.host, DB_PORT: String(pgPort), DB_NAME: PG.database, DB_USER: PG.user, LARDER_PG_SCHEMA: schema, LARDER_SPOOL_PATH: join(dir, `${instance}-spool.db`) },
    );
    procs.push(p);
    return p;
  };
  const ownWatermark = async (host: string, tier = '1m'): Promise<number | undefined> => {
    const r = await db.oneOrNone<{ w: string }>('SELECT watermark_ms::text AS w FROM rollup_watermarks WHERE tier = $1 AND host = $2', [tier, host]).catch(() => null);
    return r ? Number(r.w) : undefined;
  };
  const waitFor = async (what: string, cond: () => Promise<boolean>, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
      await sleep(1000);
    }
  };

  // Two hosts.
  const h1 = await start('h1', PG.port);
  const h2 = await start('h2', proxy.port);
  await waitFor('h1 and h2 to roll up a bucket', async () => (await ownWatermark('h1')) !== undefined && (await ownWatermark('h2')) !== undefined, 150_000);
  // A third joins, and h2 is cut off from PostgreSQL.
  const h3 = await start('h3', PG.port);
  const cutFrom = Date.now();
  await proxy.set('refuse');
  const h2Before = (await ownWatermark('h2'))!;
  await sleep(CUT_MS);
  const h1During = (await ownWatermark('h1'))!;
  const h2During = (await ownWatermark('h2'))!;
  t.equal(h2During, h2Before, 'h2 rolled up nothing while cut off');
  t.ok(h1During >= h2Before + 60_000, 'h1 went on rolling up meanwhile');
  await proxy.set('forward');
  const cutTo = Date.now();
  await waitFor('h2 to catch up past the cut', async () => ((await ownWatermark('h2')) ?? 0) > cutTo, 180_000);
  await waitFor('h3 to roll up a bucket', async () => (await ownWatermark('h3')) !== undefined, 120_000);
  for (const p of procs) t.equal(await p.stop(), 0, 'stops cleanly');
  t.match(h2.stdout(), /PostgreSQL back: spool drained/, 'h2 spooled and drained');
  figure(t, 'many-hosts: h2 cut off', (cutTo - cutFrom) / 1000, 's');

  // Every series says where it came from; hosts never share one.
  const series = await db.any<{ id: number; name: string; labels: Record<string, string>; host: string }>('SELECT id, name, labels, host FROM series');
  for (const h of ['h1', 'h2', 'h3']) t.ok(series.filter((s) => s.host === h).length > 20, `${h} owns its series`);
  t.same(series.filter((s) => !['h1', 'h2', 'h3'].includes(s.host)), [], 'no series without an owner');
  t.same(series.filter((s) => s.labels['instance'] === undefined || s.labels['job'] === undefined).map((s) => s.name), [], 'every series has instance and job');
  // ALERTS and ALERTS_FOR_STATE carry the labels of the series that fired (another host's
  // instance, when a Larder's rules read every host's series in the shared store)
  const evaluated = new Set(['ALERTS', 'ALERTS_FOR_STATE']);
  t.same(series.filter((s) => !evaluated.has(s.name) && s.labels['job'] === 'larder' && s.labels['instance'] !== s.host).map((s) => s.name), [], "a Larder's own series carry its instance");
  // A stale marker is a NULL value on PostgreSQL (docs/storage.md): each host's clean stop ends the series with one.
  const batches = await db.any<{ i: string; v: number[]; ended: boolean; markers: number }>(
    `SELECT se.labels->>'instance' AS i, array_agg(s.value ORDER BY s.ts) FILTER (WHERE s.value IS NOT NULL) AS v,
            (array_agg(s.value IS NULL ORDER BY s.ts DESC))[1] AS ended, count(*) FILTER (WHERE s.value IS NULL)::int AS markers
       FROM samples s JOIN series se ON se.id = s.series_id WHERE se.name = 'larder_recorder_batches_total' GROUP BY 1 ORDER BY 1`,
  );
  t.same(batches.map((b) => b.i), ['h1', 'h2', 'h3'], 'one larder_recorder_batches_total per host');
  for (const b of batches) t.ok(b.v.every((v, i) => i === 0 || v >= b.v[i - 1]!), `${b.i}: its counter never goes back (no interleaving)`);
  for (const b of batches) t.ok(b.ended && b.markers === 1, `${b.i}: ends with the one stale marker of its clean stop (${b.markers})`);
  const h2Cut = await db.one<{ n: number }>(
    `SELECT count(*)::int AS n FROM samples s JOIN series se ON se.id = s.series_id WHERE se.name = 'larder_recorder_batches_total' AND se.host = 'h2' AND s.ts >= to_timestamp($1 / 1000.0) AND s.ts < to_timestamp($2 / 1000.0)`,
    [cutFrom + 5000, cutTo - 5000],
  );
  t.ok(h2Cut.n >= ((cutTo - cutFrom - 10_000) / 1000) * 0.8, `h2's samples of the cut reached raw (${h2Cut.n})`);

  // Each tier equals what that host's raw rows alone give.
  const tiers = parseTiers(TIERS);
  for (const h of ['h1', 'h2', 'h3']) {
    const wm = (await ownWatermark(h))!;
    const alone = schemaName();
    t.teardown(() => dropSchema(alone));
    const store = await openPgStore({ ...PG, schema: alone, instance: h, now: () => wm + GRACE_MS, poolSize: 2 });
    try {
      const mine = series.filter((s) => s.host === h).sort((a, b) => a.id - b.id);
      const full = await db.any<{ id: number; type: string }>('SELECT id, type FROM series WHERE host = $1 ORDER BY id', [h]);
      const typeOf = new Map(full.map((s) => [s.id, s.type]));
      const ids = await store.resolveSeries(mine.map((s) => ({ name: s.name, labels: s.labels, type: typeOf.get(s.id) as 'gauge', help: '' })));
      const idOf = new Map(mine.map((s, i) => [s.id, ids[i]!]));
      const raw = await db.any<{ id: number; t: number; v: number | null }>(
        `SELECT series_id AS id, (extract(epoch from ts) * 1000)::float8 AS t, value AS v FROM samples WHERE series_id IN (SELECT id FROM series WHERE host = $1)`,
        [h],
      );
      // a NULL value is PostgreSQL's stale marker (storage/stale.ts)
      for (let i = 0; i < raw.length; i += 20_000) await store.writeSamples(raw.slice(i, i + 20_000).map((r) => ({ seriesId: idOf.get(r.id)!, timeMs: r.t, value: r.v === null ? staleNaN() : r.v })));
      await new RollupEngine({ store, tiers, graceMs: GRACE_MS, now: () => wm + GRACE_MS, instance: h }).run();
      for (const tier of tiers) {
        const until = Math.min((await ownWatermark(h, tier.name)) ?? 0, Number((await store.query<{ w: string }>('SELECT watermark_ms::text AS w FROM rollup_watermarks WHERE tier = $1', [tier.name]))[0]?.w ?? 0));
        const cols = 'count, sum, min, max, first, last, increase';
        const shared = await db.any<Record<string, unknown>>(
          `SELECT series_id AS id, (extract(epoch from ts) * 1000)::float8 AS t, ${cols} FROM ${ident(`rollup_${tier.name}`)} WHERE series_id IN (SELECT id FROM series WHERE host = $1) AND ts < to_timestamp($2 / 1000.0) ORDER BY 1, 2`,
          [h, until],
        );
        const back = new Map([...idOf].map(([a, b]) => [b, a]));
        const own = (await store.query<Record<string, unknown>>(`SELECT series_id AS id, (extract(epoch from ts) * 1000)::float8 AS t, ${cols} FROM ${ident(`rollup_${tier.name}`)} WHERE ts < to_timestamp($1 / 1000.0)`, [until]))
          .map((r): Record<string, unknown> => ({ ...r, id: back.get(Number(r['id'])) }))
          .sort((a, b) => Number(a['id']) - Number(b['id']) || Number(a['t']) - Number(b['t']));
        const norm = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => Object.values(r).map((v) => (v === null ? null : Number(v))));
        t.ok(shared.length > 0 || tier.name !== '1m', `${h} ${tier.name}: rows to compare (${shared.length})`);
        // Equal up to float rounding: a sum's order may differ between two runs' plans.
        const a = norm(shared) as (number | null)[][];
        const b = norm(own) as (number | null)[][];
        const near = (x: number | null, y: number | null): boolean => (x === null || y === null ? x === y : Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)));
        const differ = a.filter((row, i) => row.length !== b[i]?.length || row.some((v, j) => !near(v, b[i]![j]!)));
        t.equal(a.length, b.length, `${h} ${tier.name}: as many rows as a recomputation from ${h}'s raw rows alone`);
        t.same(differ.slice(0, 3), [], `${h} ${tier.name}: every row equals that recomputation (up to float rounding)`);
      }
    } finally {
      await store.close();
    }
  }
  {
    const cutBuckets = await db.one<{ n: number }>(
      `SELECT coalesce(sum(r.count), 0)::int AS n FROM rollup_1m r JOIN series se ON se.id = r.series_id WHERE se.name = 'larder_recorder_batches_total' AND se.host = 'h2' AND r.ts >= to_timestamp($1 / 1000.0) AND r.ts < to_timestamp($2 / 1000.0)`,
      [Math.floor(cutFrom / 60_000) * 60_000, cutTo],
    );
    t.ok(cutBuckets.n >= h2Cut.n, `h2's 1m buckets over the cut hold its spooled samples (${cutBuckets.n} ≥ ${h2Cut.n})`);
  }

  // Logs: no duplicate key anywhere, no error from h1 and h3, h2's only about the outage.
  for (const [name, p] of [['h1', h1], ['h2', h2], ['h3', h3]] as const) {
    t.notMatch(p.stderr() + p.stdout(), /duplicate key/, `${name}: no duplicate key`);
    const errors = p.stderr().split('\n').filter((l) => l.includes('level=error'));
    if (name === 'h2') t.same(errors.filter((l) => !/unreachable|ECONNREFUSED|Connection terminated|connect|timeout|not queryable/i.test(l)), [], 'h2: errors only about PostgreSQL out of reach');
    else t.same(errors, [], `${name}: no error logged`);
  }
});

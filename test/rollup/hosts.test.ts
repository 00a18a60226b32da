/**
 * Several Larders on one PostgreSQL database, in one process: each host's engine rolls
 * up its own series (series.host) with its own watermarks. Two hosts rolling up at the
 * same moments, a third engine given host a's --instance by mistake, and host b cut off
 * for over an hour (its samples of that time written only when it comes back, as its
 * spool would forward them): every tier of each host equals what that host alone
 * produces in a database of its own, with no error and no row twice.
 */
import t, { type Test } from 'tap';
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import { ident, tsMs } from '../../rollup/sql.js';
import { openPgStore, type PgStore } from '../../storage/pg-store.js';
import type { Store } from '../../storage/store.js';
import { need, PG } from '../helpers/peers.js';
import { HOUR, MIN, SERIES, T0, fixtureSamples } from '../fixtures/rollup/fixture.js';
import { QUANTILE_COLS, ROLLUP_COLS } from './tables.js';
import { dropSchema, freshSchema } from './stores.js';

const DAY = 24 * HOUR;
const END = T0 + DAY + 2 * HOUR;
/** Host b is cut off from minute 130 to minute 230 of the fixture. */
const CUT = { from: T0 + 130 * MIN, to: T0 + 230 * MIN };

/** Host h's samples: the fixture's series with instance=h; host b's values doubled (still counters). */
function hostData(h: string): { series: typeof SERIES; samples: { series: number; ts: number; value: number }[] } {
  const k = h === 'b' ? 2 : 1;
  return {
    series: SERIES.map((s) => ({ ...s, labels: { ...s.labels, instance: h, job: 'larder' } })),
    samples: fixtureSamples().map((s) => ({ series: s.series, ts: s.ts, value: s.value * k })),
  };
}

async function open(t: Test, schema: string, instance: string, clock: { ms: number }): Promise<PgStore> {
  const store = await openPgStore({ ...PG, schema, instance, now: () => clock.ms, poolSize: 4 });
  t.teardown(() => store.close());
  return store;
}

/** Every tier row of the series in `indexOf`, as fixture index → rows, comparable across databases. */
async function dump(store: Store, indexOf: ReadonlyMap<number, number>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const tier of DEFAULT_TIERS.map((x) => x.name)) {
    for (const [table, cols] of [[`rollup_${tier}`, ROLLUP_COLS], [`rollup_${tier}_quantiles`, QUANTILE_COLS]] as const) {
      const rows: unknown[][] = [];
      for (const c of await store.listChunks(table)) {
        const got = await store.query(`SELECT series_id, ${tsMs('postgresql', 'ts')} AS t, ${cols.map(ident).join(', ')} FROM ${ident(c.name)}`);
        for (const r of got) {
          const i = indexOf.get(Number(r['series_id']));
          if (i !== undefined) rows.push([i, Number(r['t']), ...cols.map((col) => (r[col] === null ? null : Number(r[col])))]);
        }
      }
      out[table] = rows.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
    }
  }
  return out;
}

t.test('two hosts and a duplicate share one schema; a host cut off is rolled up when back', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const shared = freshSchema('hosts');
  t.teardown(() => dropSchema(shared));
  const clock = { ms: T0 };
  const stores = { a: await open(t, shared, 'a', clock), b: await open(t, shared, 'b', clock), dup: await open(t, shared, 'a', clock) };
  const engine = (s: Store, instance: string): RollupEngine => new RollupEngine({ store: s, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => clock.ms, instance });
  const engines = { a: engine(stores.a, 'a'), b: engine(stores.b, 'b'), dup: engine(stores.dup, 'a') };
  const data = { a: hostData('a'), b: hostData('b') };
  const ids = { a: await stores.a.resolveSeries(data.a.series), b: await stores.b.resolveSeries(data.b.series) };
  t.same((await stores.a.query<{ host: string; n: string }>('SELECT host, count(*)::text AS n FROM series GROUP BY host ORDER BY host')).map((r) => [r.host, Number(r.n)]), [['a', 9], ['b', 9]], 'each host owns the series it created');

  const written = { a: T0, b: T0 };
  const write = async (h: 'a' | 'b', until: number, skip?: { from: number; to: number }): Promise<void> => {
    const batch = data[h].samples.filter((s) => s.ts >= written[h] && s.ts < until && !(skip && s.ts >= skip.from && s.ts < skip.to));
    if (batch.length) await stores[h].writeSamples(batch.map((s) => ({ seriesId: ids[h][s.series]!, timeMs: s.ts, value: s.value })));
    written[h] = until;
  };
  let duringCut: { all: number | undefined; b: number | undefined } | undefined;
  for (clock.ms = T0 + 10 * MIN; clock.ms <= END; clock.ms += 10 * MIN) {
    const bCut = clock.ms >= CUT.from && clock.ms < CUT.to + 10 * MIN;
    await write('a', clock.ms);
    if (!bCut) {
      if (clock.ms >= CUT.to + 10 * MIN && written.b < CUT.to) {
        // back: the spool forwards the samples of the cut, then the rollup runs
        await write('b', CUT.to);
        const cutSamples = data.b.samples.filter((s) => s.ts >= CUT.from && s.ts < CUT.to);
        await stores.b.writeSamples(cutSamples.map((s) => ({ seriesId: ids.b[s.series]!, timeMs: s.ts, value: s.value })));
      }
      await write('b', clock.ms);
    } else if (written.b < CUT.from) await write('b', CUT.from);
    const runs = [engines.a.run(), engines.dup.run()];
    if (!bCut) runs.push(engines.b.run());
    await Promise.all(runs);
    if (bCut && clock.ms > CUT.from + 60 * MIN && duringCut === undefined) duringCut = { all: await engines.a.watermark('5m'), b: await engines.b.ownWatermark('5m') };
  }
  t.ok(duringCut, 'watermarks read while b was cut off');
  t.equal(duringCut?.all, duringCut?.b, 'while b is cut off, the watermark queries go by is b\'s: its buckets are not claimed as rolled up');
  t.ok((duringCut?.b ?? Infinity) <= CUT.from, 'b\'s own watermark stayed before the cut');
  t.ok(((await engines.a.ownWatermark('5m')) ?? 0) > CUT.to, 'a went on');

  for (const h of ['a', 'b'] as const) {
    const alone = freshSchema(`host${h}`);
    t.teardown(() => dropSchema(alone));
    const store = await open(t, alone, h, clock);
    const aloneIds = await store.resolveSeries(data[h].series);
    await store.writeSamples(data[h].samples.map((s) => ({ seriesId: aloneIds[s.series]!, timeMs: s.ts, value: s.value })));
    await engine(store, h).run();
    const want = await dump(store, new Map(aloneIds.map((id, i) => [id, i])));
    const got = await dump(stores.a, new Map(ids[h].map((id, i) => [id, i])));
    t.ok(want['rollup_5m']!.length > 0 && want['rollup_1h_quantiles']!.length > 0, `host ${h}: the reference has rows`);
    t.same(got, want, `host ${h}: every tier and quantile row equals what host ${h} alone produces`);
  }
  const wms = await stores.a.query<{ tier: string; host: string }>('SELECT tier, host FROM rollup_watermarks ORDER BY tier, host');
  t.same(wms.map((r) => `${r.tier}/${r.host}`), ['1d/a', '1d/b', '1h/a', '1h/b', '5m/a', '5m/b'], 'one watermark per tier and host');
});

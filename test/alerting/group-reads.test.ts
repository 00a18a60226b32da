/**
 * GroupReads (src/alerting/group-reads.ts): one store read per group evaluation, and
 * through it the same answers as the store's, read for read and query for query; reads
 * the snapshot cannot answer (other windows, other matchers, names the group's
 * recording rules write) go to the store. Over a real SQLite store, and the PostgreSQL
 * store (no readSamplesMany there: the prefetch falls back to one read per metric).
 */
import t from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import type { PackedReadResult, ReadQuery, Store } from '../../storage/store.js';
import { packColumns } from '../../storage/store-common.js';
import { isStaleNaN, staleNaN } from '../../storage/stale.js';
import { GroupReads } from '../../src/alerting/group-reads.js';
import { loadRules } from '../../src/alerting/load.js';
import { bundledScope } from '../../src/alerting/scope.js';
import { clock, DIALECTS, openTestStore } from '../storage/fixtures/stores.js';
import { MIN, T0, writeSeries } from './helpers.js';

const RULES = {
  groups: [
    {
      name: 'g',
      rules: [
        { record: 'job:m:sum', expr: 'sum by (job) (m)' },
        { alert: 'Low', expr: 'm{instance="a"} / m{instance="a"} offset 2m < 2' },
        { alert: 'Rate', expr: 'rate(m{instance="a"}[5m]) > 0 and m{instance="a", job=~"ap.*"}' },
        { alert: 'Other', expr: 'job:m:sum > 0 unless n' },
        { alert: 'Sub', expr: 'max_over_time(m{instance="a"}[20m:1m]) > 0' },
      ],
    },
  ],
};

const TS = T0 + 12 * MIN + 30_000;

/** The store's packed answer to `q` (PostgreSQL has no packed read: its readSamples, packed). */
async function packedOf(store: Store, q: ReadQuery): Promise<PackedReadResult> {
  if (store.readSamplesPacked !== undefined) return store.readSamplesPacked(q);
  const r = await store.readSamples(q);
  return { series: r.series, ...packColumns(r.samples) };
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a prefetched group reads what the store reads`, async (t) => {
    const c = clock(TS);
    const store = await openTestStore(t, dialect, { now: c.now });
    if (!store) return;
    const values = Array.from({ length: 30 }, (_, i) => i * 2);
    await writeSeries(store, 'm', { instance: 'a', job: 'api' }, T0, 30_000, values);
    await writeSeries(store, 'm', { instance: 'b', job: 'api' }, T0, 30_000, values);
    await writeSeries(store, 'n', { instance: 'a' }, T0, 30_000, values);
    const [def] = loadRules([], [{ file: 'test', rules: RULES, scope: [{ label: 'instance', op: '=', value: 'a' }] }]);
    const view = new GroupReads(store);
    await view.prefetch(def!, TS);

    const reads: ReadQuery[] = [
      { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'a' }], fromMs: TS - 5 * MIN + 1, toMs: TS + 1 },
      { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'a' }], fromMs: TS - 5 * MIN + 1, toMs: TS + 1, limit: 3 },
      { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'a' }, { label: 'job', op: '!=', value: 'api' }], fromMs: TS - MIN, toMs: TS + 1 },
      { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'a' }], fromMs: 0, toMs: 1, limit: 0 },
    ];
    const direct = await Promise.all(reads.map((q) => store.readSamples(q)));
    const hits0 = view.hits;
    for (const [i, q] of reads.entries()) t.same(await view.store.readSamples(q), direct[i], `read ${i} as the store answers it`);
    t.equal(view.hits - hits0, reads.length, 'all from the snapshot');
    for (const [i, q] of reads.entries()) t.same(await view.store.readSamplesPacked!(q), await packedOf(store, q), `packed read ${i} as the store answers it`);
    t.equal(view.hits - hits0, 2 * reads.length, 'the packed reads too');
    const ids = direct[0]!.series.map((s) => s.id);
    t.same(await view.store.readSamples({ seriesIds: ids, fromMs: TS - MIN, toMs: TS + 1 }), await store.readSamples({ seriesIds: ids, fromMs: TS - MIN, toMs: TS + 1 }), 'by series id too');

    const misses0 = view.misses;
    const passed: ReadQuery[] = [
      { name: 'm', fromMs: TS - MIN, toMs: TS + 1 }, // without the snapshot's instance="a": instance b is not in it
      { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'a' }], fromMs: TS - 30 * MIN, toMs: TS + 1 }, // wider than prefetched
      { name: 'job:m:sum', fromMs: TS - MIN, toMs: TS + 1 }, // written by the group itself
    ];
    for (const [i, q] of passed.entries()) t.same(await view.store.readSamples(q), await store.readSamples(q), `passed-on read ${i} answered by the store`);
    t.equal(view.misses - misses0, passed.length, 'each went to the store');
    for (const [i, q] of passed.entries()) t.same(await view.store.readSamplesPacked!(q), await packedOf(store, q), `passed-on packed read ${i} answered by the store`);
    t.equal(view.misses - misses0, 2 * passed.length, 'the packed ones too');

    // every rule's query gives the same answer through the view as over the store
    const viaView = createQueryEngine(view.store);
    const plain = createQueryEngine(store);
    for (const r of def!.rules) t.same((await viaView.instant(r.expr, TS, { rawOnly: true })).value, (await plain.instant(r.expr, TS, { rawOnly: true })).value, `${r.name}: ${r.expr}`);
    t.match(def!.rules[1]!.expr, /instance="a"/, 'the scope reached the group');

    view.clear();
    const before = view.misses;
    await view.store.readSamples(reads[0]!);
    t.equal(view.misses, before + 1, 'after clear() every read goes to the store');
  });
}

t.test('one store call per prefetch where the store offers readSamplesPackedMany', async (t) => {
  const store = await openTestStore(t, 'sqlite', { now: () => TS });
  if (!store) return;
  await writeSeries(store, 'm', { instance: 'a', job: 'api' }, T0, 30_000, [1, 2, 3]);
  let many = 0;
  let single = 0;
  const counting = new Proxy(store, {
    get(target, prop) {
      if (prop === 'readSamplesPackedMany') return (qs: readonly ReadQuery[]) => (many++, target.readSamplesPackedMany!(qs));
      if (prop === 'readSamplesMany') return (qs: readonly ReadQuery[]) => (single++, target.readSamplesMany!(qs));
      if (prop === 'readSamples') return (q: ReadQuery) => (single++, target.readSamples(q));
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store;
  const [def] = loadRules([], [{ file: 'test', rules: RULES }]);
  const view = new GroupReads(counting);
  await view.prefetch(def!, TS);
  t.equal(many, 1, 'one readSamplesPackedMany');
  t.equal(single, 0, 'no other read');
});

t.test('a stale marker keeps its bits through the snapshot, as objects and as columns', async (t) => {
  const store = await openTestStore(t, 'sqlite', { now: () => TS });
  if (!store) return;
  await writeSeries(store, 'm', { instance: 'a' }, TS - 2 * MIN, 30_000, [1, 2, staleNaN(), 4, Number.NaN]);
  const [def] = loadRules([], [{ file: 'test', rules: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'm > 0' }] }] } }]);
  const view = new GroupReads(store);
  await view.prefetch(def!, TS);
  const q: ReadQuery = { name: 'm', fromMs: TS - 5 * MIN, toMs: TS + 1 };
  const objects = await view.store.readSamples(q);
  const packed = await view.store.readSamplesPacked!(q);
  t.equal(view.hits, 2, 'both from the snapshot');
  t.same(objects.samples.map((x) => isStaleNaN(x.value)), [false, false, true, false, false]);
  t.same([...packed.vs].map((v) => isStaleNaN(v)), [false, false, true, false, false]);
  t.ok(Number.isNaN(packed.vs[4]!) && !isStaleNaN(packed.vs[4]!), 'a plain NaN stays a plain NaN');
});

t.test('SQLite readSamplesMany answers each read as readSamples does, and refuses a bad one', async (t) => {
  const store = await openTestStore(t, 'sqlite', { now: () => TS });
  if (!store) return;
  await writeSeries(store, 'm', { instance: 'a' }, T0, 30_000, [1, 2, 3, 4]);
  await writeSeries(store, 'm', { instance: 'b' }, T0, 30_000, [5, 6]);
  await writeSeries(store, 'n', {}, T0, 30_000, [7]);
  const qs: ReadQuery[] = [
    { name: 'm', fromMs: T0, toMs: T0 + MIN },
    { name: 'm', matchers: [{ label: 'instance', op: '=', value: 'b' }], fromMs: T0, toMs: TS },
    { name: 'none', fromMs: T0, toMs: TS },
    { name: 'n', fromMs: T0, toMs: TS, limit: 0 },
    { name: 'm', fromMs: T0, toMs: TS, limit: 3 },
  ];
  t.same(await store.readSamplesMany!(qs), await Promise.all(qs.map((q) => store.readSamples(q))));
  t.same(await store.readSamplesMany!([]), []);
  t.same(await store.readSamplesPackedMany!(qs), await Promise.all(qs.map((q) => store.readSamplesPacked!(q))), 'and as columns as readSamplesPacked does');
  t.same(await store.readSamplesPackedMany!([]), []);
  await t.rejects(store.readSamplesMany!([{ name: 'm', fromMs: 0, toMs: 1 }, { name: 'bad name', fromMs: 0, toMs: 1 }]), /metric name/);
});

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a scope with several instances (a regex) is prefetched and answered from the snapshot`, async (t) => {
    const c = clock(TS);
    const store = await openTestStore(t, dialect, { now: c.now });
    if (!store) return;
    const values = Array.from({ length: 30 }, (_, i) => i * 2);
    for (const instance of ['a', 'b.1:9100', 'bx1:9100']) await writeSeries(store, 'm', { instance, job: 'api' }, T0, 30_000, values);
    const [def] = loadRules([], [{ file: 'test', rules: RULES, scope: bundledScope(['a', 'b.1:9100'], {}) }]);
    const view = new GroupReads(store);
    await view.prefetch(def!, TS);
    const viaView = createQueryEngine(view.store);
    const plain = createQueryEngine(store);
    const hits0 = view.hits;
    for (const r of def!.rules) t.same((await viaView.instant(r.expr, TS, { rawOnly: true })).value, (await plain.instant(r.expr, TS, { rawOnly: true })).value, `${r.name}: ${r.expr}`);
    t.ok(view.hits > hits0, `reads answered from the snapshot (${view.hits - hits0})`);
    const sum = await viaView.instant(def!.rules[0]!.expr, TS, { rawOnly: true });
    const one = await plain.instant('m{instance="a"}', TS, { rawOnly: true });
    const v = (r: typeof sum): number | undefined => (r.value.type === 'vector' ? r.value.samples[0]?.value : undefined);
    t.equal(v(sum), 2 * v(one)!, 'the scope holds a and b.1:9100, not bx1:9100');
  });
}

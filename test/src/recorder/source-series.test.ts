/**
 * SourceSeries: a source's series from one report to the next. Stale markers as the
 * staleness tracker gave them (vanished series only, none for samples with their own
 * timestamp), the same stored labels and keys as flattenFamilies, and a steady report
 * that reuses its series (no new definition) even when positions or label order move.
 */
import t from 'tap';
import type { MetricFamily, Sample } from '../../../exporters/metric-family.js';
import { flattenFamilies } from '../../../src/recorder/series-cache.js';
import { SourceSeries, type SourceReport } from '../../../src/recorder/source-series.js';

const fam = (names: string[], ts?: number): MetricFamily => ({
  name: 'm',
  help: '',
  type: 'gauge',
  samples: names.map((n) => ({ name: 'm', labels: { n }, value: 1, ...(ts === undefined ? {} : { timestampMs: ts }) })),
});

/** One whole report: the vanished series' `n` labels. */
function report(src: SourceSeries, families: MetricFamily[]): { report: SourceReport; vanished: string[] } {
  const r = src.begin();
  src.add(r, families);
  return { report: r, vanished: src.end().map((e) => e.def.labels['n']!) };
}

t.test('stale markers: vanished series only, none for series with their own timestamps', async (t) => {
  const a = new SourceSeries(undefined, undefined);
  const b = new SourceSeries(undefined, undefined);
  t.same(report(a, [fam(['x', 'y'])]).vanished, [], 'nothing on the first report');
  t.same(report(a, [fam(['x'])]).vanished, ['y'], 'y vanished');
  t.same(report(b, [fam(['y'])]).vanished, [], 'sources are apart');
  t.same(report(a, [fam(['x', 'y'])]).vanished, [], 'y back: no marker');
  t.same(report(a, [fam(['x']), { ...fam(['z'], 2500), name: 'm2' }]).vanished, ['y'], 'y gone again');
  t.same(report(a, [fam(['x'])]).vanished, [], 'z had a timestamp of its own: not tracked, no marker');
  t.equal(a.size, 1, 'what is not in the last report is forgotten');
  t.same(report(a, [fam(['x'], 100)]).vanished, ['x'], 'reported with a timestamp of its own: no longer tracked, as before');
  t.same(report(a, []).vanished, [], 'a series is marked once');
  t.equal(a.size, 0);
});

t.test('own timestamps are kept by position, the rest take the batch time', async (t) => {
  const a = new SourceSeries(undefined, undefined);
  const { report: r } = report(a, [fam(['x']), { ...fam(['z'], 2500), name: 'm2' }, { ...fam(['w']), name: 'm3' }]);
  t.same(r.values, [1, 1, 1]);
  t.same([r.times?.[0], r.times?.[1], r.times?.[2]], [undefined, 2500, undefined]);
});

t.test('stored labels and keys as flattenFamilies gives them, with job/instance and external labels', async (t) => {
  const own = { job: 'larder', instance: 'h:1' };
  const ext = { site: 'a', job: 'never-wins' };
  const families: MetricFamily[] = [
    { name: 'h', help: 'x', type: 'histogram', samples: [{ name: 'h_bucket', labels: { le: '1', job: 'app' }, value: 2 }, { name: 'h_created', labels: {}, value: 1e9 }, { name: 'h_count', labels: {}, value: 2 }] },
    { name: 'g', help: 'y', type: 'gauge', samples: [{ name: 'g', labels: { site: 'b' }, value: 3 }] },
  ];
  const a = new SourceSeries(own, ext);
  const { report: r } = report(a, families);
  const flat = flattenFamilies(families, own, ext);
  t.same(
    r.entries.map((e) => [e.key, e.def]),
    flat.map((f) => [f.key, f.def]),
  );
  t.same(r.values, flat.map((f) => f.value));
});

t.test('a steady source reuses its series; moved samples and reordered labels find theirs', async (t) => {
  const a = new SourceSeries({ job: 'j' }, undefined);
  const s = (labels: Record<string, string>, value: number): Sample => ({ name: 'm', labels, value });
  const first = report(a, [{ name: 'm', help: '', type: 'gauge', samples: [s({ a: '1', b: '2' }, 1), s({ a: '3', b: '4' }, 2)] }]).report;
  const [x, y] = first.entries;
  const steady = report(a, [{ name: 'm', help: '', type: 'gauge', samples: [s({ a: '1', b: '2' }, 5), s({ a: '3', b: '4' }, 6)] }]);
  t.equal(steady.report.entries[0], x, 'same position, same labels: the same entry');
  t.equal(steady.report.entries[1], y);
  t.same(steady.report.values, [5, 6]);
  const moved = report(a, [{ name: 'm', help: '', type: 'gauge', samples: [s({ b: '4', a: '3' }, 7), s({ a: '1', b: '2' }, 8)] }]);
  t.equal(moved.report.entries[0], y, 'moved, labels in another order: still its entry');
  t.equal(moved.report.entries[1], x);
  t.same(moved.vanished, [], 'nothing vanished');
  t.equal(a.size, 2);
  // an id resolved once stays with the entry
  x!.id = 41;
  const again = report(a, [{ name: 'm', help: '', type: 'gauge', samples: [s({ a: '1', b: '2' }, 9)] }]);
  t.equal(again.report.entries[0]!.id, 41);
  t.equal(again.vanished.length, 1, 'the other one vanished');
  const back = report(a, [{ name: 'm', help: '', type: 'gauge', samples: [s({ a: '1', b: '2' }, 9), s({ a: '3', b: '4' }, 1)] }]);
  t.not(back.report.entries[1], y, 'a forgotten series comes back as a new entry (its id is looked up again)');
  t.equal(back.report.entries[1]!.key, y!.key);
  t.equal(back.report.entries[1]!.id, undefined);
});

t.test('two samples that store as one series share their entry', async (t) => {
  // {job: "x"} under job "j" is stored as {exported_job: "x", job: "j"}, as is {exported_job: "x"}
  const a = new SourceSeries({ job: 'j' }, undefined);
  const f: MetricFamily = { name: 'm', help: '', type: 'gauge', samples: [{ name: 'm', labels: { job: 'x' }, value: 1 }, { name: 'm', labels: { exported_job: 'x' }, value: 2 }] };
  const r1 = report(a, [f]);
  t.equal(r1.report.entries[0], r1.report.entries[1]);
  t.equal(a.size, 1);
  const r2 = report(a, [f]);
  t.equal(r2.report.entries[0], r1.report.entries[0]);
  t.same(r2.vanished, []);
});

t.test('turn(): reports of one source take turns', async (t) => {
  const a = new SourceSeries(undefined, undefined);
  const order: string[] = [];
  const first = await a.turn();
  const second = a.turn().then((done) => {
    order.push('second');
    done();
  });
  await new Promise((r) => setImmediate(r));
  order.push('first');
  first();
  await second;
  t.same(order, ['first', 'second']);
});

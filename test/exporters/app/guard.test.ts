/** Name validation, the cardinality limit under a flood, series expiry, and awkward label values through promtool. */
import t from 'tap';
import { Registry } from 'prom-client';
import { InvalidNameError } from '../../../exporters/guard/names.js';
import { SeriesGuard } from '../../../exporters/guard/series-guard.js';
import { collectSnapshot } from '../../../src/exposition/snapshot.js';
import { toOpenMetrics, toPrometheusText } from '../../../src/exposition/format.js';
import { Logger } from '../../../src/log.js';
import { need, promtoolCheckMetrics } from '../../helpers/peers.js';

async function exposition(registry: Registry): Promise<string> {
  return toPrometheusText((await collectSnapshot(registry)).families);
}

t.test('invalid metric and label names are refused, naming the name', async (t) => {
  const guard = new SeriesGuard({ registry: new Registry() });
  const cases: [() => unknown, RegExp][] = [
    [() => guard.counter({ name: 'bad-name_total', help: 'x' }), /invalid metric name "bad-name_total"/],
    [() => guard.counter({ name: '1st_total', help: 'x' }), /invalid metric name "1st_total"/],
    [() => guard.gauge({ name: 'ünïcode', help: 'x' }), /invalid metric name "ünïcode"/],
    [() => guard.counter({ name: 'ok_total', help: 'x', labelNames: ['bad-label'] }), /metric ok_total: invalid label name "bad-label"/],
    [() => guard.counter({ name: 'ok_total', help: 'x', labelNames: ['__reserved'] }), /metric ok_total: label name "__reserved" is reserved/],
    [() => guard.histogram({ name: 'h_seconds', help: 'x', labelNames: ['le'], buckets: [1] }), /metric h_seconds: a histogram cannot have a label "le"/],
    [() => guard.counter({ name: 'dup_total', help: 'x', labelNames: ['a', 'a'] }), /metric dup_total: label name "a" given twice/],
  ];
  for (const [fn, re] of cases) {
    t.throws(fn, re);
    try {
      fn();
    } catch (err) {
      if (re.source.includes('invalid') || re.source.includes('reserved') || re.source.includes('cannot') || re.source.includes('twice')) t.type(err, InvalidNameError);
    }
  }
  t.throws(() => guard.counter({ name: 'nohelp_total', help: ' ' }), /metric nohelp_total: help text is required/);
  guard.counter({ name: 'once_total', help: 'Once.' });
  t.throws(() => guard.counter({ name: 'once_total', help: 'Twice.' }), /metric once_total is already registered/);
  const c = guard.counter({ name: 'labelled_total', help: 'L.', labelNames: ['a'] });
  t.throws(() => c.inc({ a: 'x', b: 'y' } as never), /metric labelled_total: unknown label "b"; declared labels: a/);
  t.throws(() => new SeriesGuard({ registry: new Registry(), limit: -1 }), /limit must be an integer >= 0/);
});

t.test('a flood of 100k distinct label values stays bounded, is counted and logged once', async (t) => {
  const registry = new Registry();
  const lines: string[] = [];
  const log = new Logger('info', (l) => lines.push(l));
  const guard = new SeriesGuard({ registry, limit: 2000, log });
  const views = guard.counter({ name: 'page_views_total', help: 'Page views by user.', labelNames: ['user'] });
  const other = guard.counter({ name: 'other_total', help: 'Unaffected.', labelNames: ['k'] });
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 100_000; i++) views.inc({ user: `user-${i}` });
  other.inc({ k: 'fine' });
  // known label sets keep counting past the limit
  views.inc({ user: 'user-0' }, 5);

  t.equal(guard.seriesCounts()['page_views_total'], 2000, 'tracked label sets capped at the limit');
  const json = await registry.getMetricsAsJSON();
  const pv = json.find((m) => m.name === 'page_views_total')!;
  t.equal(pv.values.length, 2000, 'the metric holds 2000 series');
  t.equal(pv.values.find((v) => v.labels['user'] === 'user-0')!.value, 6);
  const dropped = json.find((m) => m.name === 'larder_dropped_series_total')!;
  t.same(dropped.values.map((v) => [v.labels['metric'], v.value]), [['page_views_total', 98_000]], 'dropped updates counted per metric');
  t.equal(json.find((m) => m.name === 'other_total')!.values.length, 1, 'other metrics unaffected');
  const warnings = lines.filter((l) => l.includes('cardinality limit'));
  t.equal(warnings.length, 1, 'logged once');
  t.match(warnings[0], /metric="page_views_total"/);
  t.match(warnings[0], /limit="2000"/);
  // 98k dropped label values must not have been retained: far less than ~100 bytes each
  t.ok(process.memoryUsage().heapUsed - heapBefore < 20_000_000, 'heap growth bounded');

  if (!(await need(t, 'prometheus'))) return;
  const check = promtoolCheckMetrics(await exposition(registry));
  t.equal(check.status, 0, check.output);
});

t.test('label values with quotes, backslashes, newlines and unicode are escaped and lint clean', async (t) => {
  const registry = new Registry();
  const guard = new SeriesGuard({ registry });
  const c = guard.counter({ name: 'searches_by_term_total', help: 'Searches by "term",\nwith a backslash \\ in help.', labelNames: ['term'] });
  const values = ['say "cheese"', 'back\\slash', 'two\nlines', 'crème brûlée 🍰', '日本語', 'lone \uD800 surrogate', '', 'tab\there', '}{,="'];
  for (const v of values) c.inc({ term: v });
  const text = await exposition(registry);
  t.match(text, /term="say \\"cheese\\""/);
  t.match(text, /term="back\\\\slash"/);
  t.match(text, /term="two\\nlines"/);
  t.match(text, /term="crème brûlée 🍰"/);
  t.match(text, /term="lone \uFFFD surrogate"/, 'a lone surrogate becomes U+FFFD (it cannot be encoded in UTF-8)');
  t.match(text, /term="\}\{,=\\""/);
  t.equal(text.split('\n').filter((l) => l.startsWith('searches_by_term_total{')).length, values.length, 'one line per value: newlines are escaped');
  const om = toOpenMetrics((await collectSnapshot(registry)).families);
  t.match(om, /# EOF\n$/);
  if (!(await need(t, 'prometheus'))) return;
  const check = promtoolCheckMetrics(text);
  t.equal(check.status, 0, check.output);
  t.equal(check.output, '');
});

t.test('series not updated within the expiry are removed', async (t) => {
  const registry = new Registry();
  let now = 1_000_000;
  const guard = new SeriesGuard({ registry, expireAfter: 60_000, now: () => now });
  const c = guard.counter({ name: 'route_hits_total', help: 'Hits.', labelNames: ['route'] });
  const h = guard.histogram({ name: 'route_seconds', help: 'Time.', labelNames: ['route'], buckets: [0.1, 1] });
  c.inc({ route: '/old' });
  h.observe({ route: '/old' }, 0.5);
  now += 30_000;
  c.inc({ route: '/new' });
  h.observe({ route: '/new' }, 0.05);
  now += 40_000; // /old idle 70 s, /new idle 40 s
  t.equal(guard.sweep(), 2, 'two label sets expired (counter and histogram)');
  const text = await exposition(registry);
  t.notMatch(text, /route="\/old"/, 'the idle route is gone');
  t.match(text, /route_hits_total\{route="\/new"\} 1/);
  t.match(text, /route_seconds_count\{route="\/new"\} 1/);
  t.match(text, /larder_expired_series_total\{metric="route_hits_total"\} 1/);
  t.equal(guard.seriesCounts()['route_hits_total'], 1);
  // it comes back from zero when used again
  c.inc({ route: '/old' });
  t.match(await exposition(registry), /route_hits_total\{route="\/old"\} 1/);
  const off = new SeriesGuard({ registry: new Registry(), now: () => now });
  off.counter({ name: 'x_total', help: 'X.' }).inc();
  now += 10 ** 9;
  t.equal(off.sweep(), 0, 'expiry off by default');
});

t.test('the sweep timer runs and stops', async (t) => {
  const registry = new Registry();
  const guard = new SeriesGuard({ registry, expireAfter: 50, sweepInterval: 20 });
  guard.gauge({ name: 'temp_celsius', help: 'T.', labelNames: ['room'] }).set({ room: 'kitchen' }, 21);
  guard.start();
  t.teardown(() => guard.stop());
  await new Promise((r) => setTimeout(r, 200));
  t.notMatch(await exposition(registry), /kitchen/);
});

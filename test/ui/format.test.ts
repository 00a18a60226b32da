/** The page's pure helpers: unit formatting, steps per range, the URL state. */
import t from 'tap';
import { errorPosition, fillTemplate, formatBytes, formatLabels, formatSeconds, formatValue, parseSampleValue, unitOf } from '../../ui/src/format.js';
import { expand, PRESETS, promDuration, rateWindow, stepFor, windowFor } from '../../ui/src/range.js';
import { rangeOf, readState, writeState } from '../../ui/src/state.js';

t.test('units', async (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(25_274_994_688), '23.5 GiB');
  t.equal(formatValue(2048, 'bytes/s'), '2 KiB/s');
  t.equal(formatSeconds(0.0042), '4.2 ms');
  t.equal(formatSeconds(0.000_5), '500 µs');
  t.equal(formatSeconds(42), '42 s');
  t.equal(formatSeconds(93_784), '1d 2h');
  t.equal(formatSeconds(3_600), '1h');
  t.equal(formatSeconds(2_430), '40m 30s');
  t.equal(formatValue(0.256, 'percent'), '25.6%');
  t.equal(formatValue(1_234_567, 'number'), '1.23M');
  t.equal(formatValue(12.5, 'per-second'), '12.5/s');
  t.equal(formatValue(null, 'bytes'), '–');
  t.equal(formatValue(NaN, 'seconds'), 'NaN');
  t.equal(formatValue(parseSampleValue('+Inf'), 'seconds'), '+Inf');
  t.equal(parseSampleValue('-Inf'), -Infinity);
});

t.test('the unit of an Explore query, from the names it reads', async (t) => {
  t.equal(unitOf('node_memory_MemAvailable_bytes'), 'bytes');
  t.equal(unitOf('rate(node_network_receive_bytes_total[5m])'), 'bytes/s');
  t.equal(unitOf('nodejs_eventloop_lag_p99_seconds'), 'seconds');
  t.equal(unitOf('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'), 'seconds');
  t.equal(unitOf('rate(node_cpu_seconds_total[5m])'), 'number', 'seconds per second is a plain number');
  t.equal(unitOf('larder_cpu_usage_ratio'), 'percent');
  t.equal(unitOf('up'), 'number');
});

t.test('labels and legends', async (t) => {
  t.equal(formatLabels({ __name__: 'up', job: 'a', instance: 'b' }), 'up{instance="b", job="a"}');
  t.equal(formatLabels({ mode: 'user' }), '{mode="user"}');
  t.equal(formatLabels({}), '{}');
  t.equal(fillTemplate('{{device}} read', { device: 'vda' }), 'vda read');
  t.equal(fillTemplate('{{job}} p99', {}), 'p99', 'a missing label reads empty');
  t.same(errorPosition('1:6: parse error: unclosed left parenthesis'), { line: 1, col: 6 });
  t.same(errorPosition('invalid parameter "query": 2:3: parse error: unexpected character: \'~\''), { line: 2, col: 3 }, 'as /api/v1/query words a parse error');
  t.equal(errorPosition('query timed out'), undefined);
});

t.test('a step per range: 200-300 points, a year at least a day', async (t) => {
  for (const r of PRESETS) {
    const step = stepFor(r.seconds);
    const points = r.seconds / step + 1;
    t.ok(points <= 251, `${r.key}: step ${step}s gives ${points} points`);
    t.ok(r.seconds <= 3600 || points >= 100, `${r.key}: not coarser than needed (${points} points)`);
  }
  t.ok(stepFor(365 * 86400) >= 86400, 'a year reads at least daily points');
  t.ok(stepFor(30 * 86400) > stepFor(3600), '30 days is coarser than an hour');
  t.equal(rateWindow(15), 300, 'a rate window holds a few samples at the default 60 s recording');
  t.equal(rateWindow(86400 * 2), 172800, 'and never skips samples between steps');
  t.equal(promDuration(300), '5m');
  t.equal(promDuration(172800), '2d');
  t.equal(promDuration(90), '90s');
  t.equal(expand('rate(x[$__rate]) / rate(y[$__rate])', 10800), 'rate(x[3h]) / rate(y[3h])');
  t.same(windowFor(3600, 10_000.7), { start: 6390, end: 10_005, step: 15 }, 'start and end on step edges, the end at or after now');
  const month = windowFor(30 * 86400, 1_800_000_000);
  t.equal(month.start % 3600, 0, 'a 30-day window starts on an hour edge, where the 1h tier tiles it');
  t.ok(month.end >= 1_800_000_000 && month.end - month.start >= 30 * 86400, 'and covers the whole range');
  t.equal(expand('$__gauge(node_load1) / $__peak(x{a="b"})', 15), 'node_load1 / x{a="b"}', 'fine steps read gauges as they are');
  t.equal(expand('$__gauge(node_load1) / $__peak(x{a="b"})', 10800), 'avg_over_time(node_load1[3h]) / max_over_time(x{a="b"}[3h])', 'coarse steps summarise each step');
});

t.test('the URL hash round-trips the state', async (t) => {
  const s = readState('#/explore?range=30d&refresh=10&q=rate(x%5B5m%5D)');
  t.same(s, { view: 'explore', range: '30d', refresh: 10, q: 'rate(x[5m])' });
  t.same(readState(writeState(s)), s);
  t.same(readState(''), { view: 'overview', range: '1h', refresh: 60, q: '' }, 'defaults');
  t.equal(readState('#/overview?range=99y').range, '1h', 'an unknown range falls back');
  const alerts = readState('#/alerts?range=24h&refresh=30');
  t.same(alerts, { view: 'alerts', range: '24h', refresh: 30, q: '' }, 'the Alerts view');
  t.equal(writeState(alerts), '#/alerts?range=24h&refresh=30');
  t.equal(readState('#/nowhere').view, 'overview', 'an unknown view falls back');
  t.equal(readState('#/overview?refresh=7').refresh, 60, 'an unknown refresh falls back');
  t.equal(readState('#/overview?range=custom&from=10&to=5').range, '1h', 'a custom range must end after it starts');
  const custom = readState('#/overview?range=custom&from=1000&to=4600');
  t.same(rangeOf(custom, 99_999), { seconds: 3600, end: 4600 });
  t.same(rangeOf(readState('#/?range=7d'), 99_999), { seconds: 7 * 86400, end: 99_999 });
});

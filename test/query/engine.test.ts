/**
 * The QueryEngine contract (query/types.ts) over a real SQLite store: answers, the
 * limits (points per series, samples loaded, timeout) and errors as Prometheus words them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { createQueryEngine } from '../../query/engine.js';
import { QueryError } from '../../query/types.js';
import type { QueryValue } from '../../query/types.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Sample } from '../../storage/store.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'larder-query-'));
const store = await openSqliteStore({ path: join(dir, 'q.db'), now: () => T0 });
t.teardown(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// Two counters growing 60/min and 120/min for an hour, one gauge, scraped every minute.
const [a, b, g] = await store.resolveSeries([
  { name: 'http_requests_total', labels: { job: 'api', instance: 'a' }, type: 'counter' },
  { name: 'http_requests_total', labels: { job: 'api', instance: 'b' }, type: 'counter' },
  { name: 'temperature', labels: { room: 'x' }, type: 'gauge' },
]);
const samples: Sample[] = [];
for (let i = 0; i <= 60; i++) {
  samples.push({ seriesId: a!, timeMs: T0 + i * MIN, value: i * 60 });
  samples.push({ seriesId: b!, timeMs: T0 + i * MIN, value: i * 120 });
  samples.push({ seriesId: g!, timeMs: T0 + i * MIN, value: 20 + (i % 5) });
}
await store.writeSamples(samples);
const engine = createQueryEngine(store);

const vector = (v: QueryValue): { metric: Record<string, string>; value: number }[] => {
  if (v.type !== 'vector') throw new Error(`expected a vector, got ${v.type}`);
  return v.samples.map((s) => ({ metric: { ...s.metric }, value: s.value })).sort((x, y) => JSON.stringify(x.metric).localeCompare(JSON.stringify(y.metric)));
};

async function rejects(t: Test, p: Promise<unknown>, type: string, message: string | RegExp, param?: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    t.ok(e instanceof QueryError, 'a QueryError');
    t.equal((e as QueryError).type, type);
    t.equal((e as QueryError).param, param, `about parameter ${String(param)}`);
    if (typeof message === 'string') t.equal((e as Error).message, message);
    else t.match((e as Error).message, message);
    return;
  }
  t.fail(`expected ${type} error ${String(message)}`);
}

t.test('selectors, rate and sum by at an instant', async (t) => {
  const at = T0 + 30 * MIN;
  t.same(vector((await engine.instant('http_requests_total{instance="a"}', at)).value), [{ metric: { __name__: 'http_requests_total', job: 'api', instance: 'a' }, value: 1800 }]);
  t.same(vector((await engine.instant('rate(http_requests_total[5m])', at)).value), [
    { metric: { job: 'api', instance: 'a' }, value: 1 },
    { metric: { job: 'api', instance: 'b' }, value: 2 },
  ]);
  t.same(vector((await engine.instant('sum by (job) (rate(http_requests_total[5m]))', at)).value), [{ metric: { job: 'api' }, value: 3 }]);
  const r = await engine.instant('1 + 1', at);
  t.same(r.value, { type: 'scalar', timeMs: at, value: 2 });
  // The 5-minute lookback: 4 minutes after the last sample it is still there, 6 minutes after it is not.
  t.equal(vector((await engine.instant('temperature', T0 + 64 * MIN)).value).length, 1);
  t.equal(vector((await engine.instant('temperature', T0 + 66 * MIN)).value).length, 0);
  t.equal(vector((await engine.instant('temperature', T0 + 66 * MIN, { lookbackMs: 10 * MIN })).value).length, 1, 'lookbackMs option');
});

t.test('range queries: one point per step, a matrix', async (t) => {
  const r = await engine.range('sum(http_requests_total)', T0, T0 + 10 * MIN, 5 * MIN);
  t.same(r.value, { type: 'matrix', series: [{ metric: {}, points: [0, 5, 10].map((m) => ({ timeMs: T0 + m * MIN, value: m * 180 })) }] });
  await rejects(t, engine.range('temperature[5m]', T0, T0 + MIN, MIN), 'bad_data', 'invalid expression type "range vector" for range query, must be Scalar or instant Vector', 'query');
});

t.test('a long range query lets the event loop run', async (t) => {
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const before = ticks;
  // No selector: nothing awaits the store, only the evaluation's own yields let the ticks run.
  await engine.range('count(vector(time()) > 0)', T0, T0 + 11_000 * 1000, 1000);
  running = false;
  t.ok(ticks - before >= 11_000 / 256 - 1, `other callbacks ran ${ticks - before} times during the query`);
});

t.test('limits', async (t) => {
  await rejects(t, engine.range('temperature', T0, T0 + 11_001 * 1000, 1000), 'bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  t.ok(await engine.range('temperature', T0, T0 + 11_000 * 1000, 1000), '11,000 steps are allowed');
  const capped = createQueryEngine(store, { maxSamples: 100 });
  await rejects(t, capped.instant('count_over_time(http_requests_total[1h])', T0 + 60 * MIN), 'execution', /too many samples.*more than 100/);
  t.ok(await capped.instant('count_over_time(temperature[1h])', T0 + 60 * MIN), 'under the cap');
  await rejects(t, capped.instant('count_over_time(temperature[1h:1s])', T0 + 60 * MIN), 'execution', /too many samples.*more than 100/);
  await rejects(t, engine.range('max_over_time(rate(http_requests_total[5m])[1h:1s])', T0, T0 + 60 * MIN, 1000, { timeoutMs: 5 }), 'timeout', /query timed out/);
});

t.test('errors as Prometheus words them', async (t) => {
  await rejects(t, engine.instant('foo{', T0), 'bad_data', '1:5: parse error: unexpected end of input inside braces', 'query');
  await rejects(t, engine.instant('nope(foo)', T0), 'bad_data', '1:1: parse error: unknown function with name "nope"', 'query');
  await rejects(t, engine.instant('rate(foo)', T0), 'bad_data', '1:1: parse error: expected type range vector in call to function "rate", got instant vector', 'query');
  await rejects(t, engine.instant('{job=""}', T0), 'bad_data', /vector selector must contain at least one non-empty matcher/, 'query');
  await rejects(t, engine.instant('1 > 2', T0), 'bad_data', /comparisons between scalars must use BOOL modifier/, 'query');
  await rejects(t, engine.instant('label_replace(http_requests_total, "instance", "same", "instance", ".*")', T0 + MIN), 'execution', 'vector cannot contain metrics with the same labelset');
  await rejects(t, engine.instant('http_requests_total + on(job) http_requests_total', T0 + MIN), 'execution', /found duplicate series for the match group \{job="api"\} on the right hand-side/);
  await rejects(t, engine.instant('up', Number.NaN), 'bad_data', /invalid time/);
  await rejects(t, engine.range('up', T0, T0 - 1, 1000), 'bad_data', /end timestamp must not be before start time/);
  await rejects(t, engine.range('up', T0, T0 + 1000, 0), 'bad_data', /zero or negative query resolution step/);
});

t.test('a failing store read is an internal QueryError', async (t) => {
  const dir2 = mkdtempSync(join(tmpdir(), 'larder-query-closed-'));
  const closed = await openSqliteStore({ path: join(dir2, 'c.db'), now: () => T0 });
  await closed.close();
  t.teardown(() => rmSync(dir2, { recursive: true, force: true }));
  await rejects(t, createQueryEngine(closed).instant('up', T0), 'internal', /./);
  await rejects(t, createQueryEngine(closed).labelNames({ match: [], startMs: T0, endMs: T0 }), 'internal', /./);
});

t.test('series, label names and values', async (t) => {
  const q = { match: ['http_requests_total'], startMs: T0, endMs: T0 + 60 * MIN };
  t.same(await engine.series(q), [
    { __name__: 'http_requests_total', instance: 'a', job: 'api' },
    { __name__: 'http_requests_total', instance: 'b', job: 'api' },
  ]);
  t.same(await engine.labelNames({ match: [], startMs: T0, endMs: T0 + 60 * MIN }), ['__name__', 'instance', 'job', 'room']);
  t.same(await engine.labelValues('__name__', { match: [], startMs: T0, endMs: T0 + MIN }), ['http_requests_total', 'temperature']);
  t.same(await engine.labelValues('instance', { ...q, limit: 1 }), ['a']);
  t.same(await engine.series({ match: ['temperature'], startMs: T0 + 2 * 3_600_000, endMs: T0 + 3 * 3_600_000 }), [], 'no samples in the range: not listed');
  await rejects(t, engine.series({ match: ['rate(x[5m])'], startMs: T0, endMs: T0 }), 'bad_data', 'rate(x[5m]) is not a series selector', 'match[]');
  await rejects(t, engine.series({ match: ['x{'], startMs: T0, endMs: T0 }), 'bad_data', '1:3: parse error: unexpected end of input inside braces', 'match[]');
  t.same(await engine.series({ match: ['temperature'], startMs: -1e12, endMs: 1e15 }), [{ __name__: 'temperature', room: 'x' }], 'times beyond the store\'s span are clamped, not refused');
  t.same((await engine.instant('temperature', -1e12)).value, { type: 'vector', samples: [] }, 'an instant before 1970 reads nothing');
});

t.test('a label with an empty value is no label, as in Prometheus', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'larder-query-empty-'));
  const s = await openSqliteStore({ path: join(d, 'e.db'), now: () => T0 });
  t.teardown(async () => {
    await s.close();
    rmSync(d, { recursive: true, force: true });
  });
  // As the recorder stores an exposed `larder_host_info{system_vendor="",...}`.
  const [id] = await s.resolveSeries([{ name: 'host_info', labels: { arch: 'x64', system_vendor: '' }, type: 'gauge' }]);
  await s.writeSamples([{ seriesId: id!, timeMs: T0, value: 1 }]);
  const e = createQueryEngine(s);
  const want = [{ metric: { __name__: 'host_info', arch: 'x64' }, value: 1 }];
  t.same(vector((await e.instant('host_info', T0 + MIN)).value), want, 'a selector answers without it');
  t.same(vector((await e.instant('host_info{system_vendor=""}', T0 + MIN)).value), want, '="" still matches');
  t.same(vector((await e.instant('host_info{system_vendor!=""}', T0 + MIN)).value), [], '!="" does not');
  t.same(vector((await e.instant('{__name__="host_info", arch="x64"}', T0 + MIN)).value), want, 'read without a name lookup too');
  const range = (await e.range('host_info', T0, T0 + MIN, MIN)).value;
  t.same(range.type === 'matrix' ? range.series.map((x) => x.metric) : range, [{ __name__: 'host_info', arch: 'x64' }], 'a range query too');
  const q = { match: ['host_info'], startMs: T0, endMs: T0 + MIN };
  t.same(await e.series(q), [{ __name__: 'host_info', arch: 'x64' }], '/series');
  t.same(await e.labelNames(q), ['__name__', 'arch'], '/labels');
});

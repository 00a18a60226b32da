/**
 * The Store contract, one suite looped over every dialect: the same calls give the
 * same answers on SQLite and PostgreSQL, and on SQLite with record ticks kept in the tick
 * log (an hour's commit interval: only what commits them puts them in the file).
 */
import t from 'tap';
import { DIALECTS, clock, msExpr, openTestStore, ph } from './fixtures/stores.js';
import type { Dialect, Store } from '../../storage/store.js';
import { SQLITE_MIGRATIONS } from '../../storage/sqlite-sql.js';
import { PG_MIGRATIONS } from '../../storage/pg-sql.js';

/** The schema version a fresh store of each dialect has: its last migration's. */
const LATEST = { sqlite: SQLITE_MIGRATIONS.at(-1)!.version, postgresql: PG_MIGRATIONS.at(-1)!.version } as const;

const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 12); // noon, 10 Jan 2026
const DAY0 = Date.UTC(2026, 0, 10);

const HOSTILE = [
  `it's "quoted"`,
  `'); DROP TABLE series; --`,
  `\\backslash\\ and \n newline`,
  'ünïcødé ✓ 日本語 🚀',
  '',
  `{"json": [1, 2]}`,
];

/** Each dialect, and SQLite a second time with its ticks kept in the tick log (`opts`: what openTestStore gets besides the clock). */
const VARIANTS = DIALECTS.flatMap((dialect): { dialect: Dialect; name: string; opts: { commitIntervalMs?: number } }[] =>
  dialect === 'sqlite'
    ? [{ dialect, name: 'sqlite', opts: {} }, { dialect, name: 'sqlite, ticks in the tick log', opts: { commitIntervalMs: 3_600_000 } }]
    : [{ dialect, name: dialect, opts: {} }],
);

for (const { dialect, name, opts } of VARIANTS) {
  t.test(name, async (t) => {
    t.test('empty store', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      t.equal(s.dialect, dialect);
      t.equal(s.schemaVersion, LATEST[dialect]);
      t.same(await s.getLatestMetrics(), []);
      t.same(await s.getActiveAlerts(), []);
      t.same(await s.getMetricStats('nothing', 24), { name: 'nothing', hours: 24, count: 0, avg: null, min: null, max: null, firstMs: null, lastMs: null });
      t.equal(await s.aggregateHourlyMetrics(), 0);
      t.same(await s.readSamples({ name: 'nothing', fromMs: 0, toMs: T0 }), { series: [], samples: [] });
      t.same(await s.listSeries(), []);
      // The current and the next chunk exist ahead of time.
      t.same(
        (await s.listChunks('samples')).map((x) => [x.startMs, x.endMs]),
        [[DAY0, DAY0 + D], [DAY0 + D, DAY0 + 2 * D]],
      );
      const st = await s.getDatabaseStats();
      t.equal(st.dialect, dialect);
      t.equal(st.series, 0);
      t.equal(st.oldestSampleMs, null);
      t.equal(st.newestSampleMs, null);
      t.equal(st.spoolDepth, 0);
      t.ok(st.totalBytes > 0);
      t.same(st.tables.find((x) => x.table === 'samples'), { table: 'samples', rows: 0, bytes: st.tables.find((x) => x.table === 'samples')!.bytes, chunks: 2 });
      for (const name of ['metrics_raw', 'metrics_hourly', 'daily_summaries', 'alert_history', 'series']) t.ok(st.tables.some((x) => x.table === name), name);
      t.same(await s.query('SELECT * FROM latest_metrics'), []);
      t.same(await s.query('SELECT * FROM system_metrics'), []);
      t.same(await s.query('SELECT * FROM active_alerts'), []);
      t.equal(Number((await s.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM metrics_raw'))[0]!.n), 0);
    });

    t.test('series: idempotent, label order irrelevant, hostile values', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      const defs = HOSTILE.map((v, i) => ({ name: 'http_requests_total', labels: { path: v, code: String(200 + i) }, type: 'counter' as const, help: 'Requests.' }));
      const ids = await s.resolveSeries(defs);
      t.equal(new Set(ids).size, HOSTILE.length, 'one id per label set');
      t.same(await s.resolveSeries([...defs].reverse()), [...ids].reverse(), 'same ids again');
      const swapped = await s.resolveSeries([{ name: 'x', labels: { b: '2', a: '1' }, type: 'gauge' }]);
      t.same(await s.resolveSeries([{ name: 'x', labels: { a: '1', b: '2' }, type: 'untyped', help: 'other' }]), swapped, 'key order does not matter, type/help of first sight stay');
      const listed = await s.listSeries(ids);
      t.same(listed.map((x) => x.labels), defs.map((d) => ({ code: d.labels.code, path: d.labels.path })));
      t.same(listed.map((x) => x.type), defs.map(() => 'counter'));
      t.equal(listed[0]!.help, 'Requests.');
      t.equal(listed[0]!.createdMs, T0);
      t.match(listed[0]!.fingerprint, /^[0-9a-f]{16}$/);
      const [x] = await s.listSeries(swapped);
      t.same([x!.type, x!.help, x!.labels], ['gauge', '', { a: '1', b: '2' }]);
      t.equal((await s.listSeries()).length, HOSTILE.length + 1);
      // the hostile values did nothing to the schema
      t.equal((await s.getDatabaseStats()).series, HOSTILE.length + 1);

      await t.rejects(s.resolveSeries([{ name: 'bad name', labels: {}, type: 'gauge' }]), /resolveSeries\[0\]: invalid metric name "bad name"/);
      await t.rejects(s.resolveSeries([{ name: 'ok', labels: { 'bad-label': 'x' }, type: 'gauge' }]), /invalid label name "bad-label"/);
      await t.rejects(s.resolveSeries([{ name: 'ok', labels: { a: 1 as unknown as string }, type: 'gauge' }]), /label a must be a string/);
      await t.rejects(s.resolveSeries([{ name: 'ok', labels: {}, type: 'timer' as 'gauge' }]), /invalid metric type "timer"/);
      t.equal((await s.listSeries()).length, HOSTILE.length + 1, 'nothing created by bad input');
    });

    t.test('samples: NaN and ±Inf round-trip, replace, ranges, matchers, limit', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      const [a, b, z] = await s.resolveSeries([
        { name: 'temp', labels: { room: 'kitchen' }, type: 'gauge' },
        { name: 'temp', labels: { room: 'hall' }, type: 'gauge' },
        { name: 'other', labels: {}, type: 'gauge' },
      ]);
      const values = [0, -0.5, 1e308, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 42.125];
      // across three daily chunks, one of them not created ahead (the day before)
      const times = values.map((_, i) => T0 - D + i * 6 * H);
      t.equal(await s.writeSamples(values.map((v, i) => ({ seriesId: a!, timeMs: times[i]!, value: v }))), values.length);
      await s.writeSamples([{ seriesId: b!, timeMs: T0, value: 1 }, { seriesId: z!, timeMs: T0, value: 9 }]);
      const r = await s.readSamples({ seriesIds: [a!], fromMs: 0, toMs: T0 + 10 * D });
      t.same(r.series.map((x) => x.id), [a]);
      t.same(r.samples.map((x) => x.timeMs), times);
      t.same(r.samples.map((x) => Object.is(x.value, -0) ? 0 : x.value).map(String), values.map(String), 'values round-trip, NaN and ±Inf included');
      // replace: same series and time
      await s.writeSamples([{ seriesId: a!, timeMs: times[0]!, value: 7 }, { seriesId: a!, timeMs: times[0]!, value: 8 }]);
      t.same((await s.readSamples({ seriesIds: [a!], fromMs: times[0]!, toMs: times[0]! + 1 })).samples, [{ seriesId: a, timeMs: times[0], value: 8 }], 'last write wins');
      // half-open range
      t.same((await s.readSamples({ seriesIds: [a!], fromMs: times[1]!, toMs: times[3]! })).samples.map((x) => x.timeMs), [times[1], times[2]]);
      // by name and matchers
      const byName = await s.readSamples({ name: 'temp', fromMs: T0, toMs: T0 + 1 });
      t.same(byName.series.map((x) => x.id), [a, b]);
      t.same(byName.samples.map((x) => [x.seriesId, x.timeMs, String(x.value)]), [[a, T0, 'NaN'], [b, T0, '1']]);
      t.same((await s.readSamples({ name: 'temp', matchers: [{ label: 'room', op: '=~', value: 'kit.*' }], fromMs: 0, toMs: T0 * 2 })).series.map((x) => x.id), [a]);
      t.same((await s.readSamples({ name: 'temp', matchers: [{ label: 'room', op: '!=', value: 'kitchen' }], fromMs: 0, toMs: T0 * 2 })).series.map((x) => x.id), [b]);
      t.same((await s.readSamples({ name: 'temp', matchers: [{ label: 'room', op: '!~', value: 'k' }], fromMs: 0, toMs: T0 * 2 })).series.map((x) => x.id), [a, b], 'regex is anchored');
      t.equal((await s.readSamples({ seriesIds: [a!, b!], fromMs: 0, toMs: T0 * 2, limit: 3 })).samples.length, 3);
      // latest
      t.same(await s.getLatestMetrics(), [
        { seriesId: z, name: 'other', labels: {}, value: 9, timeMs: T0 },
        { seriesId: b, name: 'temp', labels: { room: 'hall' }, value: 1, timeMs: T0 },
        { seriesId: a, name: 'temp', labels: { room: 'kitchen' }, value: 42.125, timeMs: times[7] },
      ]);
      // an older write does not move latest back
      await s.writeSamples([{ seriesId: z!, timeMs: T0 - H, value: 1 }]);
      t.equal((await s.getLatestMetrics())[0]!.value, 9);

      // a big batch across a chunk edge with duplicate keys (multi-row inserts on SQLite)
      const big = Array.from({ length: 530 }, (_, i) => ({ seriesId: z!, timeMs: DAY0 + D - 265 + (i % 500), value: i }));
      t.equal(await s.writeSamples(big), 530);
      const got = (await s.readSamples({ seriesIds: [z!], fromMs: DAY0 + D - 265, toMs: DAY0 + D + 500 })).samples;
      t.equal(got.length, 500, '500 distinct times');
      t.same(got.slice(0, 30).map((x) => x.value), Array.from({ length: 30 }, (_, i) => 500 + i), 'the last duplicate wins');
      t.same(got.slice(30).map((x) => x.value), Array.from({ length: 470 }, (_, i) => 30 + i));
      await s.writeSamples([{ seriesId: z!, timeMs: T0 + 2 * D, value: 9 }]);

      // bad input: refused whole, named, nothing written
      const before = (await s.getDatabaseStats()).tables.find((x) => x.table === 'samples')!.rows;
      await t.rejects(s.writeSamples([{ seriesId: a!, timeMs: T0 + 5, value: 1 }, { seriesId: a!, timeMs: 1.5, value: 1 }]), /writeSamples\[1\]: invalid time 1.5/);
      await t.rejects(s.writeSamples([{ seriesId: a!, timeMs: T0 + 5, value: '1' as unknown as number }]), /writeSamples\[0\]: value must be a number/);
      await t.rejects(s.writeSamples([{ seriesId: a!, timeMs: T0 + 5, value: 1 }, { seriesId: 99_999, timeMs: T0 + 5, value: 1 }]), /unknown series id/);
      await t.rejects(s.readSamples({ name: 'temp', matchers: [{ label: 'room', op: '=~', value: '(' }], fromMs: 0, toMs: 1 }), /invalid regex/);
      t.equal((await s.getDatabaseStats()).tables.find((x) => x.table === 'samples')!.rows, before, 'no sample of a refused batch was stored');
    });

    t.test('seed operations: saveMetric, stats, hourly, raw, summaries', async (t) => {
      const c = clock(DAY0 + 10 * H);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      for (const [i, v] of [1, 2, 3, Number.NaN, 6].entries()) {
        c.ms = DAY0 + 10 * H + i * 20 * 60_000; // 10:00, 10:20, 10:40, 11:00, 11:20
        await s.saveMetric('cpu_usage', v, { core: '0' });
      }
      c.ms = DAY0 + 11 * H + 30 * 60_000;
      await s.saveMetric('cpu_usage', 10, { core: '1' });
      t.same(await s.getMetricStats('cpu_usage', 1), { name: 'cpu_usage', hours: 1, count: 4, avg: 19 / 3, min: 3, max: 10, firstMs: DAY0 + 10 * H + 40 * 60_000, lastMs: DAY0 + 11 * H + 30 * 60_000 });
      t.same(await s.getMetricStats('cpu_usage', 2), { name: 'cpu_usage', hours: 2, count: 6, avg: 22 / 5, min: 1, max: 10, firstMs: DAY0 + 10 * H, lastMs: DAY0 + 11 * H + 30 * 60_000 });
      await t.rejects(s.getMetricStats('cpu_usage', -1), /invalid hours -1/);

      c.ms = DAY0 + 12 * H + 5 * 60_000;
      t.equal(await s.aggregateHourlyMetrics(), 3, 'hour 10 (core 0), hour 11 (cores 0 and 1)');
      const hourly = await s.query<{ metric_name: string; t: number; avg: number | null; min: number | null; max: number | null; count: unknown }>(
        `SELECT metric_name, ${msExpr(dialect, 'ts')} AS t, avg, min, max, count FROM metrics_hourly ORDER BY ts, series_id`,
      );
      t.same(hourly.map((r) => [r.metric_name, r.t, r.avg, r.min, r.max, Number(r.count)]), [
        ['cpu_usage', DAY0 + 10 * H, 2, 1, 3, 3],
        ['cpu_usage', DAY0 + 11 * H, 6, 6, 6, 2],
        ['cpu_usage', DAY0 + 11 * H, 10, 10, 10, 1],
      ]);
      // a late sample in the last aggregated hour is taken on the next run
      c.ms = DAY0 + 12 * H + 6 * 60_000;
      const [core1] = await s.resolveSeries([{ name: 'cpu_usage', labels: { core: '1' }, type: 'untyped' }]);
      await s.writeSamples([{ seriesId: core1!, timeMs: DAY0 + 11 * H + 59 * 60_000, value: 20 }]);
      await s.aggregateHourlyMetrics();
      const again = await s.query<{ avg: number; count: unknown }>(`SELECT avg, count FROM metrics_hourly WHERE series_id = ${ph(dialect, 1)} ORDER BY ts`, [core1!]);
      t.same(again.map((r) => [r.avg, Number(r.count)]), [[15, 2]]);
      t.equal(Number((await s.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM metrics_hourly'))[0]!.n), 3, 'idempotent: same rows, no duplicates');

      await s.saveRawMetrics('system', { cpu: { load: [0.5, 1] }, note: `'; DROP TABLE metrics_raw; --` });
      await s.saveRawMetrics('process', []);
      t.equal(Number((await s.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM metrics_raw'))[0]!.n), 2);
      const raw = await s.query<{ type: string; data: unknown }>('SELECT type, data FROM metrics_raw ORDER BY id');
      t.same(raw.map((r) => [r.type, typeof r.data === 'string' ? JSON.parse(r.data) : r.data]), [
        ['system', { cpu: { load: [0.5, 1] }, note: `'; DROP TABLE metrics_raw; --` }],
        ['process', []],
      ]);
      await t.rejects(s.saveRawMetrics('', {}), /type must be a non-empty string/);
      await t.rejects(s.saveRawMetrics('x', undefined), /not JSON-serialisable/);

      await s.saveDailySummary('2026-01-10', { max: 1 });
      await s.saveDailySummary('2026-01-10', { max: 2, ü: '✓' });
      const sums = await s.query<{ d: string; data: unknown }>(`SELECT ${dialect === 'sqlite' ? 'date' : 'date::text'} AS d, data FROM daily_summaries`);
      t.same(sums.map((r) => [r.d, typeof r.data === 'string' ? JSON.parse(r.data) : r.data]), [['2026-01-10', { max: 2, ü: '✓' }]]);
      await t.rejects(s.saveDailySummary('2026-02-30', {}), /invalid date "2026-02-30"/);

      const sm = await s.query<{ metric_name: string; value: number | null }>("SELECT metric_name, value FROM system_metrics WHERE labels IS NOT NULL ORDER BY ts");
      t.equal(sm.length, 7);
      t.equal(sm[0]!.metric_name, 'cpu_usage');
      t.equal(String(sm[3]!.value), dialect === 'sqlite' ? 'null' : 'NaN', 'NaN: NULL on SQLite, NaN on PostgreSQL (documented)');
    });

    t.test('metrics_hourly: counters get their increase and rate, resets and NaN handled', async (t) => {
      const c = clock(DAY0 + 12 * H + 5 * 60_000);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      const [reqs, temp, bucket] = await s.resolveSeries([
        { name: 'reqs_total', labels: { path: '/' }, type: 'counter' },
        { name: 'temp_celsius', labels: {}, type: 'gauge' },
        { name: 'lat_seconds_bucket', labels: { le: '+Inf' }, type: 'histogram' },
      ]);
      const at = (h: number, m: number): number => DAY0 + h * H + m * 60_000;
      const counter: [number, number][] = [[at(9, 50), 100], [at(10, 0), 110], [at(10, 20), 130], [at(10, 40), 5], [at(11, 0), 20], [at(11, 30), Number.NaN], [at(11, 40), 30], [at(11, 50), 35]];
      await s.writeSamples([
        ...counter.map(([timeMs, value]) => ({ seriesId: reqs!, timeMs, value })),
        ...counter.map(([timeMs], i) => ({ seriesId: temp!, timeMs, value: 20 + i })),
        ...counter.map(([timeMs], i) => ({ seriesId: bucket!, timeMs, value: 7 * i })),
      ]);
      t.equal(await s.aggregateHourlyMetrics(), 9, 'hours 9, 10 and 11 of three series');
      const rows = async (): Promise<[string, number, number | null, number | null, number | null, number][]> =>
        (await s.query<{ metric_name: string; t: number; avg: number | null; increase: number | null; rate: number | null; count: unknown }>(
          `SELECT metric_name, ${msExpr(dialect, 'ts')} AS t, avg, increase, rate, count FROM metrics_hourly ORDER BY metric_name, ts`,
        )).map((r) => [r.metric_name, (r.t - DAY0) / H, r.avg, r.increase, r.rate === null ? null : Math.round(r.rate * 3600 * 1e9) / 1e9, Number(r.count)]);
      t.same(await rows(), [
        // a histogram bucket counts up: 0, 7, 14, … one hour's deltas
        ['lat_seconds_bucket', 9, 0, 0, 0, 1],
        ['lat_seconds_bucket', 10, 14, 21, 21, 3],
        ['lat_seconds_bucket', 11, 38.5, 28, 28, 4],
        // 09:50 only sets the level; 10:40 is a reset (5 counted); the NaN at 11:30 skips its two deltas
        ['reqs_total', 9, 100, 0, 0, 1],
        ['reqs_total', 10, 245 / 3, 35, 35, 3],
        ['reqs_total', 11, 85 / 3, 20, 20, 4],
        ['temp_celsius', 9, 20, null, null, 1],
        ['temp_celsius', 10, 22, null, null, 3],
        ['temp_celsius', 11, 25.5, null, null, 4],
      ], 'increase per hour; rate × 3600 equals it; gauges NULL');

      // The next run re-does hour 11 from its own start: the delta into it still comes
      // from 10:40, the sample before the hour, so the increase stays 20.
      c.ms = at(13, 5);
      await s.writeSamples([{ seriesId: reqs!, timeMs: at(12, 10), value: 40 }]);
      await s.aggregateHourlyMetrics();
      const again = (await rows()).filter((r) => r[0] === 'reqs_total').map((r) => [r[1], r[3]]);
      t.same(again, [[9, 0], [10, 35], [11, 20], [12, 5]], 'hour 11 re-done with the same increase, hour 12 added');
    });

    t.test('alerts', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      const id1 = await s.saveAlert({ name: 'HighCPU', severity: 'warning', message: 'cpu 91%', value: 91, threshold: 90, labels: { host: "a'b" } });
      c.ms += 60_000;
      t.equal(await s.saveAlert({ name: 'HighCPU', severity: 'critical', message: 'cpu 99%', value: 99, threshold: 90, labels: { host: "a'b" } }), id1, 'same open alert updated');
      const id2 = await s.saveAlert({ name: 'HighCPU', severity: 'warning', message: 'cpu 95%', value: 95, labels: { host: 'c' } });
      const id3 = await s.saveAlert({ name: 'DiskFull', severity: 'info', message: '', firedMs: T0 - H });
      t.not(id1, id2);
      t.same(await s.getActiveAlerts(), [
        { id: id2, name: 'HighCPU', severity: 'warning', message: 'cpu 95%', value: 95, threshold: null, labels: { host: 'c' }, status: 'firing', firedMs: T0 + 60_000, resolvedMs: null },
        { id: id1, name: 'HighCPU', severity: 'critical', message: 'cpu 99%', value: 99, threshold: 90, labels: { host: "a'b" }, status: 'firing', firedMs: T0, resolvedMs: null },
        { id: id3, name: 'DiskFull', severity: 'info', message: '', value: null, threshold: null, labels: {}, status: 'firing', firedMs: T0 - H, resolvedMs: null },
      ]);
      c.ms += 60_000;
      t.equal(await s.saveAlert({ name: 'HighCPU', severity: 'critical', message: 'ok now', value: 50, labels: { host: "a'b" }, status: 'resolved' }), id1);
      t.same((await s.getActiveAlerts()).map((a) => a.id), [id2, id3]);
      const row = await s.query<{ status: string; r: number }>(`SELECT status, ${msExpr(dialect, 'resolved_at')} AS r FROM alert_history WHERE id = ${ph(dialect, 1)}`, [id1]);
      t.same(row, [{ status: 'resolved', r: T0 + 120_000 }]);
      // firing again opens a new row
      t.not(await s.saveAlert({ name: 'HighCPU', severity: 'warning', message: 'again', labels: { host: "a'b" } }), id1);
      await t.rejects(s.saveAlert({ name: 'X', severity: 'fatal' as 'info', message: '' }), /invalid severity "fatal"/);
    });

    t.test('retention drops whole chunks, exactly at the edge', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      const [id] = await s.resolveSeries([{ name: 'g', labels: {}, type: 'gauge' }]);
      // one sample at the first and last ms of each of the days DAY0-3 .. DAY0
      const samples = [3, 2, 1, 0].flatMap((k) => [DAY0 - k * D, DAY0 - (k - 1) * D - 1].map((ts) => ({ seriesId: id!, timeMs: ts, value: k })));
      await s.writeSamples(samples);
      t.equal((await s.listChunks('samples')).length, 5);
      // cutoff = now - 2.5 days = DAY0 - 2 days exactly: the chunk ending there goes, the next stays
      c.ms = DAY0 + 12 * H;
      const gone = await s.cleanupOldMetrics(2.5);
      t.same(gone.map((x) => [x.startMs, x.endMs]), [[DAY0 - 3 * D, DAY0 - 2 * D]]);
      t.same((await s.readSamples({ seriesIds: [id!], fromMs: 0, toMs: DAY0 + D })).samples.map((x) => x.timeMs), samples.slice(2).map((x) => x.timeMs));
      // one ms earlier cutoff keeps the next chunk
      c.ms = DAY0 + 12 * H - 1 + D;
      t.same(await s.cleanupOldMetrics(2.5), [], 'a chunk ending 1 ms after the cutoff stays');
      c.ms += 1;
      t.equal((await s.cleanupOldMetrics(2.5)).length, 1);
      t.same((await s.getDatabaseStats()).oldestSampleMs, DAY0 - D);
      t.equal((await s.readSamples({ name: 'g', fromMs: 0, toMs: DAY0 + D })).samples.length, 4);
      // the samples_all view follows the chunks
      t.equal(Number((await s.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM samples_all'))[0]!.n), 4);
      await t.rejects(s.cleanupOldMetrics(0), /invalid retentionDays 0/);
    });

    t.test('rollup tiers, chunks and transactions', async (t) => {
      const c = clock(T0);
      const s = (await openTestStore(t, dialect, { now: c.now, ...opts }))!;
      if (s === undefined) return;
      await s.ensureRollupTier({ tier: '5m', chunkMs: 7 * D });
      await s.ensureRollupTier({ tier: '5m', chunkMs: 7 * D }); // idempotent
      const [id] = await s.resolveSeries([{ name: 'req_total', labels: {}, type: 'counter' }]);
      const ch = await s.ensureChunk('rollup_5m', T0);
      t.equal(ch.endMs - ch.startMs, 7 * D);
      t.ok(ch.startMs <= T0 && T0 < ch.endMs);
      t.same(await s.ensureChunk('rollup_5m', T0 + 1), ch, 'same chunk');
      t.same((await s.listChunks('rollup_5m')).map((x) => x.name), [ch.name]);
      t.match(ch.name, /^rollup_5m_\d{8}t\d{6}$/);
      // PostgreSQL: rollup_5m is a view of its row partitions and packed chunks (schema 9).
      const target = dialect === 'sqlite' ? `"${ch.name}"` : 'rollup_5m_rows';
      const ins = `INSERT INTO ${target} (series_id, ts, count, sum, min, max, first, last, increase) VALUES (${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => (i === 2 && dialect === 'postgresql' ? `to_timestamp(${ph(dialect, i)}::float8 / 1000)` : ph(dialect, i))).join(', ')})`;
      await s.transaction(async (tx) => {
        t.equal(tx.dialect, dialect);
        await tx.execute(ins, [id!, T0, 5, 10, 1, 3, 1, 3, 2]);
      });
      await t.rejects(
        s.transaction(async (tx) => {
          await tx.execute(ins, [id!, T0 + 300_000, 5, 10, 1, 3, 1, 3, null]);
          throw new Error('boom');
        }),
        /boom/,
      );
      const rows = await s.query<Record<string, unknown>>(`SELECT series_id, ${msExpr(dialect, 'ts')} AS t, count, sum, min, max, first, last, increase FROM rollup_5m_all`);
      t.same(rows.map((r) => ({ ...r, count: Number(r['count']) })), [{ series_id: id, t: T0, count: 5, sum: 10, min: 1, max: 3, first: 1, last: 3, increase: 2 }], 'the failed transaction left nothing');
      // the quantiles table exists with its columns
      await s.ensureChunk('rollup_5m_quantiles', T0);
      t.same(await s.query('SELECT series_id, ts, count, sum, p50, p95, p99 FROM rollup_5m_quantiles_all'), []);
      // watermarks
      await s.execute(`INSERT INTO rollup_watermarks (tier, watermark_ms) VALUES (${ph(dialect, 1)}, ${ph(dialect, 2)})`, ['5m', T0]);
      t.same((await s.query<{ w: unknown }>('SELECT watermark_ms AS w FROM rollup_watermarks')).map((r) => Number(r.w)), [T0]);
      t.ok((await s.chunkBytes('rollup_5m', ch.name)) > 0);
      t.ok((await s.sizeBytes()) > 0);
      const dropped = await s.dropChunksBefore('rollup_5m', ch.endMs);
      t.same(dropped.map((x) => x.name), [ch.name]);
      t.same(await s.query('SELECT * FROM rollup_5m_all'), []);
      await t.rejects(s.ensureRollupTier({ tier: '5 m', chunkMs: D }), /invalid rollup tier "5 m"/);
      await t.rejects(s.ensureChunk('nope', T0), /unknown table nope/);
      await t.rejects(s.dropChunk('samples', 'samples_x'), /has no chunk "samples_x"/);
      // ordinary calls wait while a transaction runs, and nothing interleaves
      const order: string[] = [];
      const tx = s.transaction(async (q) => {
        order.push('tx-start');
        await new Promise((r) => setTimeout(r, 50));
        await q.query('SELECT 1 AS one');
        order.push('tx-end');
      });
      const other = s.query('SELECT 1 AS one').then(() => order.push('other'));
      await Promise.all([tx, other]);
      if (dialect === 'sqlite') t.same(order, ['tx-start', 'tx-end', 'other']);
      await s.optimize();
      t.equal((await s.getDatabaseStats()).schemaVersion, LATEST[dialect]);
    });
  });
}

/**
 * Many hosts, one PostgreSQL (issue 17, item 3): N simulated hosts, each writing 1,000
 * series every 60 s into the real PostgreSQL, with each host's rollups, the hourly run
 * and the daily run (retention, once across hosts) running as `larder serve` runs them.
 *
 *   ./scripts/run-bench.sh hosts                 (N = 100, 200, 400, … until one fails; 30-day history)
 *   QUICK=1 ./scripts/run-bench.sh hosts         (N = 20, short span, 3-day history: under 2 minutes)
 *   HOSTS=100 SPAN_MIN=20 ./scripts/run-bench.sh hosts   (HISTORY=0: no 30-day part; HOSTS=none: only that part)
 *
 * Design: one load generator process speaking the Store API, not N processes (the
 * machine has 2 cores and PostgreSQL allows 100 connections, shared with others). Per
 * host: its series are created by a store opened with that host's `instance` (so
 * `series.host` is the host's, as a real Larder's), and its jobs are those of
 * `startRecording` (src/recorder/index.ts) with that host's `--instance`: the per-host
 * RollupEngine (own watermarks, per host/tier/slice advisory lock), the hourly run with
 * `metrics_hourly` once across hosts, the daily run with retention once across hosts,
 * each job skipped while its previous run goes on, as the scheduler does. Samples go
 * through `Store.writeSamples` (the recorder's write), one call of 1,000 samples per
 * host per minute, on a store of WRITERS connections; the jobs share a store of 8.
 * What differs from N real Larders: fewer connections (N real hosts hold up to 4 each),
 * and the series lists a host's rollup reads are parsed here, on this machine, not on N.
 *
 * Clock: simulated, compressed. Events (host i records at second 60·i/N of each minute;
 * every host's rollup job at :20 of every minute, as `--rollup.cron` said before its 6-hourly
 * default (every minute is the harder case); hourly at :00; daily at
 * 03:00) are taken in time order, and the clock moves to an event when it is
 * dispatched. Writes are dispatched as fast as WRITERS writes in flight allow (or no
 * faster than SPEED× real time when SPEED > 0), so the simulated ingest rate is what
 * the machine sustains: samples written / wall seconds, with the jobs running beside.
 * Headroom = that / needed (N × 1000 / 60). Rollups: a round is every host's rollup
 * job after a 5m bucket closed, timed in wall seconds from its trigger until the last
 * host's job ended, while ingest goes on at the compressed rate (more load than real
 * time); the rollups keep up at real time when each round ends within the real period
 * (300 s; an hour for the hourly and daily rounds). The lag in simulated time (from
 * `rollup_watermarks` every simulated minute: the closed bucket a tier should have
 * reached minus the lowest host's watermark) is printed too; at a speed above 1× it is
 * stricter than real time. N passes when headroom ≥ 1, every round ended within its
 * real period, and no job failed.
 *
 * The 30-day figures (partition count, a 30-day hourly query for one host and for all)
 * come from a second schema: HISTORY_HOSTS hosts × HISTORY_SERIES series each,
 * HISTORY_DAYS days at 60 s generated with SQL into the raw partitions, then each host's
 * daily job (its rollups catching up, then retention once) and the queries through the
 * Prometheus API (`/api/v1/query_range`, the read path Grafana uses) and the SQL view
 * `metrics_1h`. The hourly rows of series not queried would change only the depth of
 * the index, so not every host's 1,000 series are generated for 30 days (4.3 G samples).
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Registry } from 'prom-client';
import { createQueryEngine } from '../query/engine.js';
import { ident } from '../rollup/sql.js';
import { createPromApi } from '../src/api/prom-api.js';
import { loadConfig, type Config } from '../src/config.js';
import { Logger, silentLogger } from '../src/log.js';
import { startRecording, type Recording } from '../src/recorder/index.js';
import { openPgStore, type PgStore } from '../storage/pg-store.js';
import type { SeriesDef, Store } from '../storage/store.js';
import { dropPgSchema, PG_CONN } from './lib/pg.js';
import { fmt, median, printTable, quantile } from './lib/stats.js';
import { tableStats } from './lib/table-stats.js';

const QUICK = process.env['QUICK'] === '1';
/** The N to try, in order, until one fails; `none` runs only the history part. */
const HOSTS = (process.env['HOSTS'] ?? (QUICK ? '20' : '100,200,400,800,1600')).split(',').filter((x) => x !== 'none').map(Number);
/** Simulated minutes of the steady run per N; from 02:54 it crosses two 5m closings (02:57:20, 03:02:20), the hourly and the daily run. */
const SPAN_MIN = Number(process.env['SPAN_MIN'] ?? 9);
/**
 * Minutes of every host's samples written with SQL before the steady run, and rolled up
 * by each host once before the clock starts: a rollup reads a chunk that holds every
 * host's rows since midnight, so a nearly empty chunk would flatter it.
 */
const PREFILL_MIN = Number(process.env['PREFILL_MIN'] ?? (QUICK ? 10 : 60));
const WRITERS = Number(process.env['WRITERS'] ?? 4);
const SPEED = Number(process.env['SPEED'] ?? 0);
const SERIES = 1000;
const HISTORY_HOSTS = Number(process.env['HISTORY_HOSTS'] ?? (QUICK ? 10 : 100));
const HISTORY_SERIES = Number(process.env['HISTORY_SERIES'] ?? 4);
const HISTORY_DAYS = Number(process.env['HISTORY_DAYS'] ?? (QUICK ? 3 : 30));
const RUNS = Number(process.env['RUNS'] ?? (QUICK ? 3 : 10));
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const GRACE = 2 * MIN;
const D0 = Date.UTC(2026, 0, 10);
const SCHEMA = `hosts_bench_${process.pid}`;

const load = (): string => loadavg().map((x) => fmt(x)).join(' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 1,000 series of one host: 600 gauges, 300 counters, 10 histograms of 10 series (the rollup bench's mix). */
function hostSeries(host: string): SeriesDef[] {
  const own = { job: 'larder', instance: host };
  const defs: SeriesDef[] = [];
  for (let i = 0; i < 600; i++) defs.push({ name: `bench_gauge_${i % 60}`, labels: { ...own, shard: String(Math.floor(i / 60)) }, type: 'gauge' });
  for (let i = 0; i < 300; i++) defs.push({ name: `bench_events_total_${i % 30}`, labels: { ...own, shard: String(Math.floor(i / 30)) }, type: 'counter' });
  const les = ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf'];
  for (let h = 0; h < 10; h++) {
    for (const le of les) defs.push({ name: 'bench_latency_seconds_bucket', labels: { ...own, route: `/r${h}`, le }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_count', labels: { ...own, route: `/r${h}` }, type: 'histogram' });
    defs.push({ name: 'bench_latency_seconds_sum', labels: { ...own, route: `/r${h}` }, type: 'histogram' });
  }
  return defs;
}

/** Opens the bench schema's store (the clock is the simulation's). */
function open(schema: string, now: () => number, poolSize: number, instance = ''): Promise<PgStore> {
  // No write timeout here: the bench times every write itself and counts those over a real Larder's 5 s
  // (after which it would spool them and forward them later), rather than failing the run. No
  // connect timeout either: waiting for one of this pool's connections, which N hosts share
  // here, is not waiting for PostgreSQL (a real host has a pool of its own).
  return openPgStore({ ...PG_CONN, schema, now, poolSize, instance, applicationName: 'larder-hosts-bench', writeTimeoutMs: 600_000, connectTimeoutMs: 600_000 });
}

/** Creates each host's series through a store opened with that host's instance (so `series.host` is the host's). */
async function createHosts(schema: string, now: () => number, names: readonly string[], defsOf: (host: string) => SeriesDef[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const host = names[next++]!;
      const s = await open(schema, now, 1, host);
      try {
        out.set(host, await s.resolveSeries(defsOf(host)));
      } finally {
        await s.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  return out;
}

/** The config `larder serve` would run with defaults, as host `instance`. */
function hostConfig(base: Config, instance: string): Config {
  return { ...base, identity: { ...base.identity, instance } };
}

/** Sum of `larder_job_runs_total{result="error"}` in a registry. */
async function jobErrors(registry: Registry): Promise<number> {
  const m = registry.getSingleMetric('larder_job_runs_total');
  if (!m) return 0;
  return (await m.get()).values.filter((v) => v.labels['result'] === 'error').reduce((a, v) => a + v.value, 0);
}

/**
 * Creates the partitions of `[fromMs, toMs)` of raw and every tier ahead of the run. A
 * store's ensureChunk may answer undefined when another call on the same store reloads
 * its chunk catalog from a snapshot taken before the new partition committed (seen here,
 * where many hosts' jobs share one store); ahead of time, no job creates one.
 */
async function precreate(store: Store, tiers: readonly { name: string }[], fromMs: number, toMs: number): Promise<void> {
  for (const table of ['samples', ...tiers.flatMap((t) => [`rollup_${t.name}`, `rollup_${t.name}_quantiles`])]) {
    for (let t = fromMs; t < toMs; t += DAY) await store.ensureChunk(table, t);
  }
}

/** Partitions (child tables; their indexes' partitions, which pg_inherits lists too, left out) in the schema. */
async function partitionCount(store: Store, schema: string): Promise<number> {
  const r = await store.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema],
  );
  return Number(r[0]!.n);
}

interface Host {
  readonly name: string;
  readonly ids: number[];
  readonly phaseMs: number;
  readonly rec: Recording;
  readonly registry: Registry;
  /** The run in progress of each job, by job name. */
  readonly running: Map<string, Promise<void>>;
}

interface SteadyResult {
  readonly n: number;
  readonly samples: number;
  readonly wallS: number;
  readonly sustained: number;
  readonly needed: number;
  readonly headroom: number;
  readonly lag5mMax: number;
  readonly lag1hMax: number;
  /** Lag readings taken (none while the first round was still running). */
  readonly lagCounted: number;
  readonly skipped: number;
  readonly errors: number;
  readonly drainS: number;
  readonly rollupJobMs: number[];
  readonly writeMs: number[];
  readonly slowWrites: number;
  readonly rounds: number[];
  readonly bigRounds: { job: string; s: number }[];
  readonly rawBytesPerSample: number;
  readonly rollupBytesPerRow: number;
  readonly setupS: number;
  readonly pass: boolean;
  readonly errorLines: string[];
}

/** One steady run of `n` hosts over SPAN_MIN simulated minutes. */
async function steady(n: number, base: Config): Promise<SteadyResult> {
  const schema = `${SCHEMA}_n${n}`;
  const start = D0 + 2 * HOUR + 54 * MIN;
  const end = start + SPAN_MIN * MIN;
  let simNow = start;
  const now = (): number => simNow;
  await dropPgSchema(schema);
  const t0 = performance.now();
  const ingest = await open(schema, now, WRITERS);
  const jobsStore = await open(schema, now, 8);
  const errorLines: string[] = [];
  const log = new Logger('error', (l) => {
    if (errorLines.length < 20) errorLines.push(String(l));
  });
  try {
    const names = Array.from({ length: n }, (_, i) => `host-${String(i).padStart(4, '0')}`);
    const ids = await createHosts(schema, now, names, hostSeries);
    const hosts: Host[] = names.map((name, i) => {
      const registry = new Registry();
      const rec = startRecording({ registry, store: jobsStore, config: hostConfig(base, name), log, now, schedule: false });
      return { name, ids: ids.get(name)!, phaseMs: Math.floor((i * MIN) / n), rec, registry, running: new Map<string, Promise<void>>() };
    });
    await hosts[0]!.rec.engine.prepare();
    await precreate(jobsStore, hosts[0]!.rec.tiers, D0, D0 + DAY);
    if (PREFILL_MIN > 0) {
      const chunk = await ingest.ensureChunk('samples', start);
      await ingest.execute(
        `INSERT INTO ${ident(chunk.name)} (series_id, ts, value)
         SELECT se.id, to_timestamp((${start - PREFILL_MIN * MIN}::bigint + i * ${MIN}) / 1000.0),
           CASE WHEN se.type = 'gauge' THEN ((se.id * 7 + i * 13) % 100) * 1.5 ELSE i * (1 + se.id % 5) END
         FROM series se CROSS JOIN generate_series(0, ${PREFILL_MIN - 1}) AS t(i) ORDER BY i, se.id`,
      );
      await ingest.execute('ANALYZE');
    }
    // Each host's first run (the catch-up from midnight) before the clock starts.
    await Promise.all(hosts.map((h) => h.rec.jobs.rollup()));
    const setupS = (performance.now() - t0) / 1000;

    const jobs: Promise<void>[] = [];
    const rollupJobMs: number[] = [];
    let skipped = 0;
    const ranOnce = new Set<string>();
    const firstRoundDone = (): boolean => ranOnce.size === n;
    const trigger = (h: Host, job: 'rollup' | 'hourly' | 'daily'): Promise<void> => {
      const busy = h.running.get(job);
      if (busy) {
        skipped++;
        return busy;
      }
      const t = performance.now();
      const p = h.rec.jobs[job]().finally(() => {
        h.running.delete(job);
        if (job === 'rollup') ranOnce.add(h.name);
        if (job === 'rollup') rollupJobMs.push(performance.now() - t);
      });
      h.running.set(job, p);
      jobs.push(p);
      return p;
    };
    // A round: every host's rollup job after a 5m bucket closed (its first trigger at :20
    // past grace), from the trigger until the last host's job ended (a host whose previous
    // run still goes on counts until that one ends). Wall seconds, against the real period.
    const rounds: number[] = [];
    const round = (): void => {
      const t = performance.now();
      const ps = hosts.map((h) => trigger(h, 'rollup'));
      jobs.push(Promise.all(ps).then(() => void rounds.push((performance.now() - t) / 1000)));
    };
    // The hourly and daily runs of every host, likewise (they include each host's sub-daily rollups).
    const bigRounds: { job: string; s: number }[] = [];
    const bigRound = (job: 'hourly' | 'daily'): void => {
      const t = performance.now();
      const ps = hosts.map((h) => trigger(h, job));
      jobs.push(Promise.all(ps).then(() => void bigRounds.push({ job, s: (performance.now() - t) / 1000 })));
    };

    // Rollup lag, read every simulated minute (by the clock when the answer arrives: the later clock, the larger lag).
    let lag5mMax = 0;
    let lag1hMax = 0;
    let lagCounted = 0;
    const lagReads: Promise<void>[] = [];
    const readLag = (): void => {
      lagReads.push(
        ingest.query<{ tier: string; w: unknown; hosts: unknown }>(`SELECT tier, min(watermark_ms) AS w, count(*) AS hosts FROM rollup_watermarks GROUP BY tier`).then((rows) => {
          const t = simNow;
          for (const r of rows) {
            const period = r.tier === '5m' ? 5 * MIN : r.tier === '1h' ? HOUR : 0;
            if (period === 0) continue;
            // Until every host's first run has ended, only the hosts that have a watermark count;
            // after it, a host still without one counts as not past the run's start.
            if (Number(r.hosts) < n && !firstRoundDone()) continue;
            const w = Number(r.hosts) < n ? Math.min(Number(r.w), Math.floor(start / period) * period) : Number(r.w);
            const due = Math.floor((t - GRACE) / period) * period;
            const lag = Math.max(0, due - w);
            lagCounted++;
            if (period === 5 * MIN) lag5mMax = Math.max(lag5mMax, lag);
            else lag1hMax = Math.max(lag1hMax, lag);
          }
        }),
      );
    };

    // The writes: WRITERS in flight at once, each one host's minute.
    const writeMs: number[] = [];
    let inFlight = 0;
    let samples = 0;
    let wake: (() => void) | undefined;
    const writes: Promise<void>[] = [];
    const write = (h: Host, t: number): void => {
      inFlight++;
      const m = Math.round((t - D0) / MIN);
      const batch = h.ids.map((id, k) => ({ seriesId: id, timeMs: t, value: k < 600 ? ((id * 7 + m * 13) % 100) * 1.5 : k < 900 ? (m % 1000) * (1 + (id % 5)) : m * (1 + (k % 10)) }));
      const w0 = performance.now();
      writes.push(
        ingest.writeSamples(batch).then(() => {
          samples += batch.length;
          writeMs.push(performance.now() - w0);
          inFlight--;
          wake?.();
        }),
      );
    };
    const wall0 = performance.now();
    for (let minute = start; minute < end; minute += MIN) {
      const events: { t: number; run: () => void }[] = [];
      if (minute % HOUR === 0) events.push({ t: minute, run: () => bigRound('hourly') });
      if (minute % DAY === 3 * HOUR) events.push({ t: minute, run: () => bigRound('daily') });
      events.push({ t: minute + 20_000, run: readLag });
      const closes = Math.floor((minute + 20_000 - GRACE) / (5 * MIN)) !== Math.floor((minute + 20_000 - MIN - GRACE) / (5 * MIN));
      events.push({ t: minute + 20_000, run: closes ? round : () => void hosts.forEach((h) => void trigger(h, 'rollup')) });
      for (const h of hosts) events.push({ t: minute + h.phaseMs, run: () => write(h, minute + h.phaseMs) });
      events.sort((a, b) => a.t - b.t);
      for (const e of events) {
        while (inFlight >= WRITERS) await new Promise<void>((r) => (wake = r));
        if (SPEED > 0) {
          const due = wall0 + (e.t - start) / SPEED;
          if (due > performance.now()) await sleep(due - performance.now());
        }
        simNow = Math.max(simNow, e.t);
        e.run();
      }
    }
    await Promise.all(writes);
    const wallS = (performance.now() - wall0) / 1000;
    simNow = end;
    readLag();
    // What the jobs still had to do when ingest ended.
    const d0 = performance.now();
    await Promise.all(jobs);
    const drainS = (performance.now() - d0) / 1000;
    await Promise.all(lagReads);
    let errors = 0;
    for (const h of hosts) errors += await jobErrors(h.registry);
    for (const h of hosts) await h.rec.stop();

    const raw = await tableStats(ingest, 'samples');
    const r5 = await tableStats(ingest, 'rollup_5m');
    const needed = (n * SERIES) / 60;
    const sustained = samples / wallS;
    const headroom = sustained / needed;
    // Keeping up at real time: ingest faster than needed, each round of rollups done within
    // its real period (5 min; an hour for the hourly and daily runs), no job failed.
    const pass = headroom >= 1 && rounds.length > 0 && Math.max(...rounds) < 300 && bigRounds.every((r) => r.s < 3600) && errors === 0;
    return {
      slowWrites: writeMs.filter((x) => x > 5000).length,
      rounds,
      bigRounds,
      lagCounted,
      n, samples, wallS, sustained, needed, headroom, lag5mMax, lag1hMax, skipped, errors, drainS, rollupJobMs, writeMs,
      rawBytesPerSample: raw.bytes / Math.max(1, raw.rows), rollupBytesPerRow: r5.bytes / Math.max(1, r5.rows), setupS, pass, errorLines,
    };
  } finally {
    await ingest.close();
    await jobsStore.close();
    await dropPgSchema(schema);
  }
}

/** HISTORY_HOSTS hosts × HISTORY_SERIES series, HISTORY_DAYS days: rollups, retention, partitions and 30-day queries. */
async function history(base: Config): Promise<void> {
  const schema = `${SCHEMA}_hist`;
  const end = D0 + HISTORY_DAYS * DAY;
  const NOW = end + 3 * HOUR + 10 * MIN;
  const now = (): number => NOW;
  await dropPgSchema(schema);
  const store = await open(schema, now, 8);
  try {
    const names = Array.from({ length: HISTORY_HOSTS }, (_, i) => `host-${String(i).padStart(4, '0')}`);
    const metrics: { name: string; type: 'gauge' | 'counter'; labels: Record<string, string> }[] = [
      { name: 'node_load1', type: 'gauge', labels: {} },
      { name: 'node_cpu_seconds_total', type: 'counter', labels: { cpu: '0', mode: 'idle' } },
      { name: 'node_memory_MemAvailable_bytes', type: 'gauge', labels: {} },
      { name: 'larder_recorder_batches_total', type: 'counter', labels: {} },
    ];
    const defsOf = (host: string): SeriesDef[] =>
      Array.from({ length: HISTORY_SERIES }, (_, i) => {
        const m = metrics[i % metrics.length]!;
        return { name: m.name, type: m.type, labels: { ...m.labels, job: 'larder', instance: host, ...(i >= metrics.length ? { shard: String(i) } : {}) } };
      });
    await createHosts(schema, now, names, defsOf);
    let t = performance.now();
    for (let day = D0; day < end; day += DAY) {
      const chunk = await store.ensureChunk('samples', day);
      const i0 = (day - D0) / MIN;
      await store.execute(
        `INSERT INTO ${ident(chunk.name)} (series_id, ts, value)
         SELECT se.id, to_timestamp((${day}::bigint + i * ${MIN}) / 1000.0),
           CASE WHEN se.type = 'gauge' THEN ((se.id * 7 + i * 13) % 100) * 1.5 ELSE ((${i0} + i) % 1000) * (1 + se.id % 5) END
         FROM series se CROSS JOIN generate_series(0, 1439) AS t(i) ORDER BY se.id, i`,
      );
    }
    await store.execute('ANALYZE');
    const genS = (performance.now() - t) / 1000;
    const rawRows = HISTORY_HOSTS * HISTORY_SERIES * 1440 * HISTORY_DAYS;
    console.log(`\n## ${HISTORY_DAYS} simulated days: ${HISTORY_HOSTS} hosts × ${HISTORY_SERIES} series at 60 s = ${rawRows.toLocaleString()} raw samples, generated with SQL in ${fmt(genS, 1)} s (load ${load()})`);

    // Every host's daily run at 03:00, all at once as on a real fleet: its tiers catch up, then retention once across hosts.
    const histErrors: string[] = [];
    const histLog = new Logger('error', (l) => void histErrors.push(String(l)));
    const recs = names.map((name) => startRecording({ registry: new Registry(), store, config: hostConfig(base, name), log: histLog, now, schedule: false }));
    await recs[0]!.engine.prepare();
    await precreate(store, recs[0]!.tiers, D0, NOW);
    t = performance.now();
    await Promise.all(recs.map((r) => r.jobs.daily()));
    const rollS = (performance.now() - t) / 1000;
    const wm = await store.query<{ tier: string; lo: unknown; hi: unknown; hosts: unknown }>(`SELECT tier, min(watermark_ms) AS lo, max(watermark_ms) AS hi, count(*) AS hosts FROM rollup_watermarks GROUP BY tier ORDER BY min(watermark_ms) DESC`);
    console.log(`every host's daily run (rollups of ${HISTORY_DAYS} days, then retention once): ${fmt(rollS, 1)} s; watermarks: ${wm.map((r) => `${r.tier} ${new Date(Number(r.lo)).toISOString().slice(0, 16)} (${String(r.hosts)} hosts)`).join(', ')}`);

    for (const l of histErrors.slice(0, 10)) console.log(`  ${l}`);
    const rows: string[][] = [['table', 'rows', 'partitions', 'MB', 'bytes/row']];
    for (const table of ['samples', 'rollup_5m', 'rollup_5m_quantiles', 'rollup_1h', 'rollup_1h_quantiles', 'rollup_1d', 'rollup_1d_quantiles']) {
      const s = await tableStats(store, table);
      rows.push([table, s.rows.toLocaleString(), String(s.chunks), fmt(s.bytes / 1e6), s.rows > 0 ? fmt(s.bytes / s.rows, 1) : '-']);
    }
    printTable(rows);
    console.log(`partitions in the schema after ${HISTORY_DAYS} simulated days: ${await partitionCount(store, schema)}`);

    // The 30-day hourly queries, through the Prometheus API as Grafana sends them.
    const rec = recs[0]!;
    const tiers = { tiers: rec.tiers, watermark: (tier: string) => rec.engine.watermark(tier), now };
    const api = createPromApi({ store: () => store, createEngine: (s) => createQueryEngine(s, { tiers }), log: silentLogger, timeoutMs: 120_000, now });
    const app = express();
    app.use('/api/v1', api);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const base_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const from = Math.max(D0, end - 30 * DAY) + HOUR;
    const promql = async (query: string): Promise<{ ms: number[]; series: number; points: number }> => {
      const body = new URLSearchParams({ query, start: String(from / 1000), end: String(end / 1000), step: '3600' }).toString();
      const ms: number[] = [];
      let series = 0;
      let points = 0;
      for (let i = 0; i < RUNS + 2; i++) {
        const t0 = performance.now();
        const res = await fetch(`${base_}/api/v1/query_range`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const json = (await res.json()) as { status: string; error?: string; data?: { result: { values: unknown[] }[] } };
        if (json.status !== 'success') throw new Error(`${query}: ${json.error}`);
        if (i >= 2) ms.push(performance.now() - t0);
        series = json.data!.result.length;
        points = json.data!.result.reduce((a, r) => a + r.values.length, 0);
      }
      return { ms, series, points };
    };
    const sql = async (text: string, params: (string | number)[]): Promise<{ ms: number[]; rows: number }> => {
      const ms: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS + 2; i++) {
        const t0 = performance.now();
        rows = (await store.query(text, params)).length;
        if (i >= 2) ms.push(performance.now() - t0);
      }
      return { ms, rows };
    };
    try {
      const one = names[Math.floor(names.length / 2)]!;
      const out: string[][] = [[`query (${HISTORY_DAYS} days, hourly)`, 'series', 'points/rows', `median ms of ${RUNS}`, 'p90 ms']];
      for (const [label, q] of [
        ['PromQL one host', `avg_over_time(node_load1{instance="${one}"}[1h])`],
        ['PromQL all hosts', 'avg_over_time(node_load1[1h])'],
        ['PromQL all hosts, by instance', 'sum by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1h]))'],
      ] as const) {
        const r = await promql(q);
        out.push([`${label}: ${q}`, String(r.series), r.points.toLocaleString(), fmt(median(r.ms)), fmt(quantile(r.ms, 0.9))]);
      }
      const view = `SELECT ts, instance, avg FROM metrics_1h WHERE metric_name = 'node_load1' AND ts >= to_timestamp($1 / 1000.0) AND ts < to_timestamp($2 / 1000.0)`;
      const s1 = await sql(`${view} AND instance = $3 ORDER BY ts`, [from, end, one]);
      out.push([`SQL one host: metrics_1h … instance = '${one}'`, '1', s1.rows.toLocaleString(), fmt(median(s1.ms)), fmt(quantile(s1.ms, 0.9))]);
      const sa = await sql(`${view} AND job = $3 ORDER BY ts, instance`, [from, end, 'larder']);
      out.push(["SQL all hosts: metrics_1h … job = 'larder'", String(HISTORY_HOSTS), sa.rows.toLocaleString(), fmt(median(sa.ms)), fmt(quantile(sa.ms, 0.9))]);
      printTable(out);
    } finally {
      server.close();
      for (const r of recs) await r.stop();
    }
  } finally {
    await store.close();
    await dropPgSchema(schema);
  }
}

async function main(): Promise<void> {
  const { config: base } = loadConfig({ argv: [], env: {} });
  console.log(`# hosts benchmark${QUICK ? ' (QUICK=1)' : ''}: N hosts × ${SERIES} series every 60 s into PostgreSQL ${PG_CONN.host}:${PG_CONN.port}/${PG_CONN.database}, schema ${SCHEMA}_*`);
  if (HOSTS.length > 0) console.log(`steady run: ${SPAN_MIN} simulated minutes from 02:54 per N (crosses the hourly and the daily run) after ${PREFILL_MIN} minutes written with SQL and rolled up, ${WRITERS} writes in flight, clock ${SPEED > 0 ? `at most ${SPEED}× real time` : 'as fast as ingest goes'}; ${new Date().toISOString()}, load ${load()}`);
  const results: SteadyResult[] = [];
  for (const n of HOSTS) {
    const r = await steady(n, base);
    results.push(r);
    const w = r.writeMs;
    console.log(
      `N=${n}: ${r.samples.toLocaleString()} samples in ${fmt(r.wallS, 1)} s (setup ${fmt(r.setupS, 1)} s) → ${fmt(r.sustained, 0)} samples/s sustained vs ${fmt(r.needed, 0)} needed, headroom ${fmt(r.headroom, 2)}×; ` +
        `rollup rounds (all ${n} hosts after a 5m bucket closed) ${r.rounds.map((x) => fmt(x, 1)).join(', ')} s wall vs 300 s real period; ${r.bigRounds.map((b) => `${b.job} round ${fmt(b.s, 1)} s`).join(', ')}; ` +
        `rollup lag in simulated time (at ${fmt(r.headroom, 1)}× speed) ${r.lagCounted === 0 ? 'not read (the first round outlasted the run)' : `max 5m ${fmt(r.lag5mMax / MIN, 1)} min, 1h ${fmt(r.lag1hMax / MIN, 1)} min`}; jobs left at the end ${fmt(r.drainS, 1)} s; ` +
        `rollup job median ${fmt(median(r.rollupJobMs), 0)} ms p99 ${fmt(quantile(r.rollupJobMs, 0.99), 0)} ms, ${r.skipped} skipped; write of 1,000 median ${fmt(median(w), 1)} ms p99 ${fmt(quantile(w, 0.99), 1)} ms max ${fmt(Math.max(...w), 0)} ms, ${r.slowWrites} over 5 s (a real Larder would spool those); ` +
        `job errors ${r.errors}; all the work of ${SPAN_MIN} simulated minutes (ingest, then the jobs left) in ${fmt(r.wallS + r.drainS, 1)} s: ${fmt((SPAN_MIN * 60) / (r.wallS + r.drainS), 1)}× real time ` +
        `(pessimistic: the window holds the hourly and daily rounds and each host's first catch-up); ${r.pass ? 'PASS' : 'FAIL'} (load ${load()})`,
    );
    for (const l of r.errorLines) console.log(`  ${l}`);
    if (!r.pass) break;
  }
  const rows: string[][] = [['N', 'samples/s sustained', 'needed', 'headroom', 'slowest 5m round s (of 300)', 'rollup headroom', 'sim lag 5m/1h min', 'raw B/sample', '5m B/row', 'result']];
  for (const r of results) {
    const worst = Math.max(...r.rounds);
    rows.push([String(r.n), fmt(r.sustained, 0), fmt(r.needed, 0), `${fmt(r.headroom, 2)}×`, fmt(worst, 1), `${fmt(300 / worst, 1)}×`, r.lagCounted === 0 ? 'n/a' : `${fmt(r.lag5mMax / MIN, 1)}/${fmt(r.lag1hMax / MIN, 1)}`, fmt(r.rawBytesPerSample, 1), fmt(r.rollupBytesPerRow, 1), r.pass ? 'pass' : 'FAIL']);
  }
  console.log('');
  if (results.length > 0) printTable(rows);
  const best = results.filter((r) => r.pass).at(-1);
  const at100 = results.find((r) => r.n === 100);
  if (results.length > 0) console.log(`largest N sustained: ${best ? best.n : 'none'}${results.at(-1)?.pass ? ' (the search stopped at the list\'s end: HOSTS=…)' : ''}`);
  if (at100) console.log(`headroom at N=100: ${fmt(at100.headroom, 2)}× (goal ≥ 5×); every rollup round within its real period: ${at100.pass ? 'yes' : 'no'}; at ${fmt(at100.headroom, 1)}× speed the simulated lag stayed ${at100.lag5mMax <= 5 * MIN && at100.lag1hMax <= HOUR ? 'within' : 'beyond'} one period`);
  if (process.env['HISTORY'] !== '0') await history(base);
  console.log(`\nend ${new Date().toISOString()}, load ${load()}`);
}

await main();

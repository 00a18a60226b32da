/**
 * A store filled for the dashboards: every metric a SQL panel reads, for two hosts of one
 * job, with the label values the panels split and filter by; 10 days of history (every
 * 10 minutes, every 30 s in the last 2 hours), rolled up into the default tiers, and raw
 * samples older than 2 days dropped, so that a long range can only be answered by a tier.
 */
import { RollupEngine } from '../../rollup/engine.js';
import { DEFAULT_TIERS } from '../../rollup/tiers.js';
import type { Labels, Sample, SeriesDef, Store } from '../../storage/store.js';
import { DASHBOARDS } from '../../grafana/definitions/index.js';
import type { SqlTarget } from '../../grafana/model.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The fixture's clock: the end of its data. */
export const END = Date.UTC(2026, 2, 11, 12);
/** Raw samples are kept from here on; older ones are dropped after the rollups. */
export const RAW_FROM = END - 2 * DAY;
export const START = END - 10 * DAY;
export const JOB = 'larder';
export const INSTANCES = ['host-a:9100', 'host-b:9100'];
const LES = ['0.01', '0.1', '1', '+Inf'];

/** Label values a panel may split or filter by, two each. */
const VALUES: Record<string, readonly string[]> = {
  mode: ['idle', 'user', 'system'],
  mountpoint: ['/', '/data'],
  fstype: ['ext4'],
  device: ['sda', 'eth0'],
  status_code: ['200', '503'],
  status: ['ok', 'error'],
};
const valuesOf = (label: string): readonly string[] => VALUES[label] ?? [`${label}-1`, `${label}-2`];

/** Every SQL target of every dashboard. */
export function allSqlTargets(): SqlTarget[] {
  return DASHBOARDS.flatMap((d) => d.rows.flatMap((r) => r.panels.flatMap((p) => p.sql)));
}

/** The series the panels need for the given instances: name, labels, type. */
export function fixtureSeries(instances: readonly string[] = INSTANCES): SeriesDef[] {
  const wanted = new Map<string, { type: 'gauge' | 'counter' | 'histogram'; labels: Set<string> }>();
  const want = (metric: string, kind: SqlTarget['kind'], labels: readonly string[]): void => {
    const type = kind === 'quantile' ? 'histogram' : kind === 'gauge' && !metric.endsWith('_total') ? 'gauge' : 'counter';
    const w = wanted.get(metric) ?? { type, labels: new Set<string>() };
    labels.forEach((l) => w.labels.add(l));
    wanted.set(metric, w);
  };
  for (const t of allSqlTargets()) {
    const labels = [...(t.by ?? []), ...Object.keys(t.match ?? {}), ...Object.keys(t.notIn ?? {})];
    for (const side of t.ratio ? [t.ratio.num, t.ratio.den] : []) labels.push(...Object.keys(side.match ?? {}), ...Object.keys(side.like ?? {}));
    for (const m of t.metrics) want(m, t.kind, labels.filter((l) => l !== 'job' && l !== 'instance'));
  }
  const out: SeriesDef[] = [];
  for (const instance of instances) {
    out.push({ name: 'node_uname_info', labels: { job: JOB, instance, nodename: instance.replace(/:.*/, '') }, type: 'gauge' });
    for (const [metric, w] of wanted) {
      let sets: Labels[] = [{ job: JOB, instance }];
      for (const l of w.labels) sets = sets.flatMap((s) => valuesOf(l).map((v) => ({ ...s, [l]: v })));
      for (const labels of sets) {
        if (w.type !== 'histogram') out.push({ name: metric, labels, type: w.type });
        else {
          for (const le of LES) out.push({ name: `${metric}_bucket`, labels: { ...labels, le }, type: 'histogram' });
          out.push({ name: `${metric}_count`, labels, type: 'histogram' }, { name: `${metric}_sum`, labels, type: 'histogram' });
        }
      }
    }
  }
  return out;
}

/** The shape of the data: who, from when to when, how often. */
export interface FixtureShape {
  readonly instances: readonly string[];
  readonly start: number;
  readonly end: number;
  /** Spacing of samples before the last two hours. */
  readonly stepMs: number;
}
const SHAPE: FixtureShape = { instances: INSTANCES, start: START, end: END, stepMs: 10 * MIN };

/** The sample times: every `stepMs`, then every 30 s in the last two hours. */
function times(shape: FixtureShape): number[] {
  const out: number[] = [];
  for (let ts = shape.start; ts < shape.end - 2 * HOUR; ts += shape.stepMs) out.push(ts);
  for (let ts = shape.end - 2 * HOUR; ts < shape.end; ts += 30_000) out.push(ts);
  return out;
}

/** Gauges that mean something together: a total above what is free of it, a success flag 0 or 1. */
function gaugeValue(name: string, k: number, i: number, t: number): number {
  if (name === 'node_uname_info') return 1;
  if (name === 'node_time_seconds') return t / 1000;
  if (name === 'node_boot_time_seconds' || name === 'process_start_time_seconds') return (t - (t % (7 * DAY))) / 1000;
  if (name.startsWith('node_load')) return 0.6 + 0.4 * Math.sin(k / 30 + i);
  if (/_(size_bytes|MemTotal_bytes|SwapTotal_bytes)$/.test(name)) return 1000;
  if (name === 'larder_collector_success') return k % 50 === 0 ? 0 : 1;
  return 100 + 50 * Math.sin(k / 30 + i);
}

/** Deterministic values: gauges wave, counters grow (one reset on day 5), histograms fill their buckets. */
function samples(defs: readonly SeriesDef[], ids: readonly number[], ts: readonly number[]): Sample[] {
  const out: Sample[] = [];
  defs.forEach((def, i) => {
    const id = ids[i]!;
    let v = 0;
    const bucketShare = def.name.endsWith('_bucket') ? Math.min(1, (LES.indexOf(def.labels['le']!) + 1) / (LES.length - 1)) : 1;
    ts.forEach((t, k) => {
      let value: number;
      if (def.type === 'gauge') value = gaugeValue(def.name, k, i, t);
      else {
        if (k === Math.floor(ts.length / 2)) v = 0; // a restart
        // Seconds counters (CPU, disk time, pressure) grow by at most a fraction of a second per second.
        const perSecond = def.name.includes('seconds_total') ? 0.05 * (1 + (i % 5)) : 1 + (i % 5);
        v += ((t - (ts[k - 1] ?? t)) / 1000) * perSecond * bucketShare;
        value = def.name.endsWith('_sum') ? v * 0.05 : v;
      }
      out.push({ seriesId: id, timeMs: t, value });
    });
  });
  return out;
}

/**
 * Fills `store` and rolls it up (at `rollupNow`, default two hours after the data's end:
 * every bucket); resolves with the number of samples written. Raw samples older than two
 * days before the end are dropped afterwards unless `dropRaw` is false.
 */
export async function fillForDashboards(
  store: Store,
  shape: FixtureShape = SHAPE,
  opts: { readonly rollupNow?: number; readonly dropRaw?: boolean } = {},
): Promise<{ samples: number; series: number }> {
  const defs = fixtureSeries(shape.instances);
  const ids = await store.resolveSeries(defs);
  const ts = times(shape);
  let written = 0;
  // A few series at a time, so memory stays bounded at any scale.
  for (let i = 0; i < defs.length; i += 20) {
    const batch = samples(defs.slice(i, i + 20), ids.slice(i, i + 20), ts);
    for (let j = 0; j < batch.length; j += 50_000) await store.writeSamples(batch.slice(j, j + 50_000));
    written += batch.length;
  }
  const rollupNow = opts.rollupNow ?? shape.end + 2 * HOUR;
  await new RollupEngine({ store, tiers: DEFAULT_TIERS, graceMs: 2 * MIN, now: () => rollupNow }).run();
  if (opts.dropRaw !== false) await store.dropChunksBefore('samples', shape.end - 2 * DAY);
  return { samples: written, series: defs.length };
}

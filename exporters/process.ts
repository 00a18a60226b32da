/** Larder's own process metrics (CPU, memory, event loop, GC): prom-client's default metrics. */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CollectorDefinition } from './collector.js';

const noCollect = (): void => {};

/**
 * Sampling period of the event-loop delay monitor, ms. prom-client's default is 10 ms:
 * 100 wake-ups a second, which measured as half of an idle Larder's CPU (0.45 → 0.21 s/min).
 */
export const EVENT_LOOP_RESOLUTION_MS = 100;

/** The delay figures that include the sampling period (stddev is a spread: a constant shift leaves it alone). */
export const EVENT_LOOP_LAG_GAUGES: readonly string[] = [
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
];

/**
 * Node's delay monitor records the time between two runs of a repeating timer of
 * `resolution` ms: an idle loop reads about `resolution` (99.4 to 100.5 ms), not 0.
 * The lag is that time minus the resolution; the timer may fire up to a millisecond
 * early (libuv's millisecond clock), so it is clamped at 0. A stall of T ms shows as a
 * lag between T − resolution and T: the sample lands wherever the timer was due.
 */
async function subtractResolution(own: Registry, resolutionSeconds: number): Promise<void> {
  const gauges = EVENT_LOOP_LAG_GAUGES.map((name) => own.getSingleMetric(name) as Gauge | undefined);
  const values = await Promise.all(gauges.map(async (g) => (g ? (await g.get()).values[0]?.value : undefined)));
  const [min, max] = values;
  // No timer run since the last reset (the loop blocked for a whole collect interval):
  // prom-client reports min as 2^63 ns and max 0; leave those as they are.
  if (min === undefined || max === undefined || min > max) return;
  gauges.forEach((g, i) => {
    const v = values[i];
    if (g && v !== undefined && Number.isFinite(v)) g.set(Math.max(0, v - resolutionSeconds));
  });
}

/**
 * A process collector sampling the event-loop delay every `resolutionMs`.
 *
 * prom-client refreshes its default metrics in `collect` hooks run at every scrape:
 * a readdir of /proc/self/fd, a read of /proc/self/status, and the event-loop delay
 * percentiles (0.19 ms of a 2 ms scrape in a CPU profile). Here the hooks run in
 * `update()` on the collector interval instead, and a scrape only serializes, as for
 * every other collector. Names, types and help stay prom-client's. The event-loop
 * delay figures (min, max, percentiles) then cover one collect interval instead of
 * the time since the previous scrape, whoever scraped, and report the lag: the
 * monitor's sampling period is taken out (see subtractResolution).
 */
export function processCollectorWith(resolutionMs: number): CollectorDefinition {
  return {
    name: 'process',
    defaultEnabled: true,
    create(ctx) {
      const own = new Registry();
      collectDefaultMetrics({ register: own, eventLoopMonitoringPrecision: resolutionMs });
      const hooks: Array<() => void | Promise<void>> = [];
      for (const m of own.getMetricsAsArray()) {
        const metric = own.getSingleMetric(m.name);
        if (metric === undefined) continue;
        // Optional in prom-client, though its types say otherwise.
        const hook: typeof m.collect | undefined = m.collect;
        if (typeof hook === 'function') {
          hooks.push(() => hook.call(m));
          m.collect = noCollect;
        }
        ctx.registry.registerMetric(metric);
      }
      // Two figures prom-client lacks that the bundled Node.js rules need (rules/packs/nodejs.ts):
      // how busy the loop was (lag shows only stalls, not a loop that is never idle), and
      // the heap's limit, so used/limit says how close an out-of-memory crash is.
      const utilization = new Gauge({
        name: 'nodejs_eventloop_utilization_ratio',
        help: 'Share of the last collect interval the event loop spent running code rather than waiting (0 to 1).',
        registers: [ctx.registry],
      });
      // The same busy time as a counter, for the dashboards: its rate over any window (a
      // Prometheus range, a rollup bucket) is the utilisation over that whole window, where
      // the gauge, read once per scrape or record, samples only the collect interval before.
      const busySeconds = new Counter({
        name: 'nodejs_eventloop_busy_seconds_total',
        help: 'Time the event loop spent running code rather than waiting, in seconds: its rate is the event-loop utilisation (0 to 1).',
        registers: [ctx.registry],
      });
      const heapLimit = new Gauge({ name: 'nodejs_heap_size_limit_bytes', help: 'Largest size V8 lets the heap grow to (--max-old-space-size and the young generation).', registers: [ctx.registry] });
      let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
      return {
        async update() {
          for (const hook of hooks) await hook();
          await subtractResolution(own, resolutionMs / 1000);
          const elu = performance.eventLoopUtilization();
          const since = performance.eventLoopUtilization(elu, lastElu);
          utilization.set(since.utilization);
          busySeconds.inc(since.active / 1000);
          lastElu = elu;
          heapLimit.set(getHeapStatistics().heap_size_limit);
        },
      };
    },
  };
}

/** Larder's process collector: the delay monitor samples every 100 ms (a stall still delays the next sample by its full length, so long stalls show). */
export const processCollector: CollectorDefinition = processCollectorWith(EVENT_LOOP_RESOLUTION_MS);

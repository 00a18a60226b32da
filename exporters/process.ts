/** Larder's own process metrics (CPU, memory, event loop, GC): prom-client's default metrics. */
import { createRequire } from 'node:module';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CollectorDefinition } from './collector.js';
import { immediateLag, LAG_SAMPLER_DEFAULTS, LagSampler, type LagFigures, type LagSamplerOptions } from './event-loop-lag.js';

const noCollect = (): void => {};

/** One of prom-client's default-metric modules: registers its metrics on `registry`. */
type DefaultMetricModule = (registry: Registry, config: Record<string, unknown>) => void;

/**
 * prom-client's default metrics but its event-loop lag (`eventLoopLag`, which arms
 * Node's delay monitor at a fixed resolution for ever): each module of
 * `collectDefaultMetrics.metricsList` (its own list, Node-version checks applied),
 * loaded from the path prom-client's `defaultMetrics.js` loads it from.
 */
function registerDefaultMetricsButLag(registry: Registry): void {
  const req = createRequire(import.meta.url);
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'eventLoopLag') continue;
    (req(`prom-client/lib/metrics/${name}.js`) as DefaultMetricModule)(registry, {});
  }
}

type Aggregator = 'min' | 'max' | 'average';

/** The lag gauges this collector sets from the sampler (prom-client's names, help and cluster aggregators). */
const LAG_GAUGES: ReadonlyArray<readonly [keyof LagFigures, string, string, Aggregator?]> = [
  ['min', 'nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', 'min'],
  ['max', 'nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 'max'],
  ['mean', 'nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.'],
  ['stddev', 'nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.'],
  ['p50', 'nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.'],
  ['p90', 'nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.'],
  ['p99', 'nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.'],
];

/**
 * A process collector whose event-loop lag comes from an adaptive sampler
 * (exporters/event-loop-lag.ts: every 100 ms while the loop is busy, every second while
 * idle, by default).
 *
 * prom-client refreshes its default metrics in `collect` hooks run at every scrape:
 * a readdir of /proc/self/fd, a read of /proc/self/status (0.19 ms of a 2 ms scrape in
 * a CPU profile). Here the hooks run in `update()` on the collector interval instead,
 * and a scrape only serializes, as for every other collector. Names, types and help
 * stay prom-client's. The lag figures (min, max, mean, stddev, percentiles) cover one
 * collect interval, whoever scraped, and are the lag itself: how late a timer ran,
 * 0 when on time. A window without a sample (shorter than the sampling period) leaves
 * them as they were.
 */
export function processCollectorWith(lagOpts: Partial<LagSamplerOptions> = {}): CollectorDefinition {
  return {
    name: 'process',
    defaultEnabled: true,
    create(ctx) {
      const own = new Registry();
      registerDefaultMetricsButLag(own);
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
      const sampler = new LagSampler(lagOpts);
      sampler.start();
      const lagNow = new Gauge({ name: 'nodejs_eventloop_lag_seconds', help: 'Lag of event loop in seconds.', aggregator: 'average', registers: [ctx.registry] });
      const lagGauges = LAG_GAUGES.map(([key, name, help, aggregator]) => [key, new Gauge({ name, help, aggregator: aggregator ?? 'average', registers: [ctx.registry] })] as const);
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
          const lag = sampler.take();
          if (lag.count > 0) for (const [key, g] of lagGauges) g.set(lag[key]);
          lagNow.set(await immediateLag());
          const elu = performance.eventLoopUtilization();
          const since = performance.eventLoopUtilization(elu, lastElu);
          utilization.set(since.utilization);
          busySeconds.inc(since.active / 1000);
          lastElu = elu;
          heapLimit.set(getHeapStatistics().heap_size_limit);
        },
        close() {
          sampler.stop();
        },
      };
    },
  };
}

/** Larder's process collector: lag sampled every 100 ms while the loop is busy, every second while idle. */
export const processCollector: CollectorDefinition = processCollectorWith(LAG_SAMPLER_DEFAULTS);

/** Larder's own process metrics (CPU, memory, event loop, GC): prom-client's default metrics. */
import { collectDefaultMetrics } from 'prom-client';
import type { CollectorDefinition } from './collector.js';

/** prom-client computes these at scrape time from cheap process calls; nothing to refresh. */
export const processCollector: CollectorDefinition = {
  name: 'process',
  defaultEnabled: true,
  create(ctx) {
    // prom-client samples event-loop delay with a 10 ms timer by default: 100 wake-ups a
    // second, which measured here as half of an idle Larder's CPU (0.45 → 0.21 s/min).
    // A stall still delays the next 100 ms sample by its full length, so long stalls show.
    collectDefaultMetrics({ register: ctx.registry, eventLoopMonitoringPrecision: 100 });
    return { update: async () => {} };
  },
};

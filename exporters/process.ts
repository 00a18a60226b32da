/** Larder's own process metrics (CPU, memory, event loop, GC): prom-client's default metrics. */
import { collectDefaultMetrics } from 'prom-client';
import type { CollectorDefinition } from './collector.js';

/** prom-client computes these at scrape time from cheap process calls; nothing to refresh. */
export const processCollector: CollectorDefinition = {
  name: 'process',
  defaultEnabled: true,
  create(ctx) {
    collectDefaultMetrics({ register: ctx.registry });
    return { update: async () => {} };
  },
};

/** `node_time_seconds` and the time zone offset (node_exporter's time collector, without the clocksource parts). */
import { Gauge } from 'prom-client';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';

/** The zone's short name (`UTC`, `CET`) at `ms`, as Go's time.Zone() gives it. */
function zoneName(format: Intl.DateTimeFormat, ms: number): string {
  return format.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
}

/** node_exporter's `time` collector. */
export const timeCollector: CollectorDefinition = {
  name: 'time',
  defaultEnabled: true,
  create(ctx) {
    // Read at scrape time, as node_exporter does: alerts compare it with the scrape
    // timestamp (`abs(node_time_seconds - timestamp(node_time_seconds)) > 1`), which a
    // value up to one interval old would trip. Reading the clock is not collection.
    new Gauge({
      name: 'node_time_seconds',
      help: 'System time in seconds since epoch (1970).',
      registers: [ctx.registry],
      collect() {
        this.set(ctx.now() / 1000);
      },
    });
    const offset = new ConstMetric(ctx.registry, { name: 'node_time_zone_offset_seconds', help: 'System time zone offset in seconds.' });
    // building the formatter costs ~0.5 ms; using it is cheap
    const format = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
    return {
      async update() {
        const ms = ctx.now();
        offset.set([{ labels: { time_zone: zoneName(format, ms) }, value: -new Date(ms).getTimezoneOffset() * 60 }]);
      },
    };
  },
};

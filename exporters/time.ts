/** `node_time_seconds` and the time zone offset (node_exporter's time collector, without the clocksource parts). */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';

/** The zone's short name (`UTC`, `CET`) at `ms`, as Go's time.Zone() gives it. */
function zoneName(ms: number): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** node_exporter's `time` collector. */
export const timeCollector: CollectorDefinition = {
  name: 'time',
  defaultEnabled: true,
  create(ctx) {
    const now = new ConstMetric(ctx.registry, { name: 'node_time_seconds', help: 'System time in seconds since epoch (1970).' });
    const offset = new ConstMetric(ctx.registry, { name: 'node_time_zone_offset_seconds', help: 'System time zone offset in seconds.' });
    return {
      async update() {
        const ms = ctx.now();
        now.setValue(ms / 1000);
        offset.set([{ labels: { time_zone: zoneName(ms) }, value: -new Date(ms).getTimezoneOffset() * 60 }]);
      },
    };
  },
};

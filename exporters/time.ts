/** `node_time_seconds` and the time zone offset (node_exporter's time collector, without the clocksource parts). */
import { readFile } from 'node:fs/promises';
import { Gauge } from 'prom-client';
import type { CollectorDefinition, CollectorLog } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { abbreviationAt, numericAbbreviation, parseTzif, zoneFilePath, type Tzif } from './tzif.js';

/** This process's zone file, parsed; undefined (numeric names) when there is none or it is unreadable. */
async function loadLocalZone(log: CollectorLog): Promise<Tzif | undefined> {
  const path = zoneFilePath(process.env['TZ']);
  if (path === undefined) return undefined;
  try {
    return parseTzif(await readFile(path));
  } catch (err) {
    // a container without /etc/localtime runs on UTC, as Go's time package does
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('time zone file unreadable; zone names are numeric', { path, err: String(err) });
    return undefined;
  }
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
    // the zone is read once, as Go reads time.Local once per process
    let zone: Promise<Tzif | undefined> | undefined;
    return {
      async update() {
        zone ??= loadLocalZone(ctx.log);
        const tz = await zone;
        const ms = ctx.now();
        const utcOffset = -new Date(ms).getTimezoneOffset() * 60;
        const name = tz ? abbreviationAt(tz, ms, utcOffset) : numericAbbreviation(utcOffset);
        offset.set([{ labels: { time_zone: name }, value: utcOffset }]);
      },
    };
  },
};

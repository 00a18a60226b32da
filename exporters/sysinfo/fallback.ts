/**
 * The host collectors where /proc does not exist (macOS, Windows): cpu, meminfo,
 * filesystem, netdev and loadavg read through systeminformation (in its worker
 * thread) on the slow interval, under the /proc collectors' names where the meaning is
 * the same. `--collector.host-source` picks the source: `auto` (the default) uses
 * /proc when `<procfs>/stat` is there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Collector, CollectorContext, CollectorDefinition, HostCollectorOptions } from '../collector.js';
import { ConstMetric, type ConstSample } from '../const-metric.js';
import type { HostSample } from './protocol.js';
import { sysinfoSource } from './source.js';

/** Whether the host collectors of these options read systeminformation instead of /proc. */
export function usesSysinfo(options: HostCollectorOptions): boolean {
  const source = options.hostSource ?? 'auto';
  if (source === 'auto') return !existsSync(join(options.procfs, 'stat'));
  return source === 'systeminformation';
}

/** Builds a fallback collector from the part of a sample it reports. */
function fallback(ctx: CollectorContext, name: string, apply: (s: HostSample) => void): Collector {
  const source = sysinfoSource(ctx.registry);
  source.acquire();
  let warned = false;
  return {
    slow: true,
    async update() {
      const s = await source.sample();
      const err = s.errors[name];
      // a part that failed keeps its last values and says so once; the others are still reported
      if (err !== undefined) {
        if (!warned) ctx.log.warn('systeminformation could not read a part; its last values are kept', { collector: name, err });
        warned = true;
        throw new Error(err);
      }
      warned = false;
      apply(s);
    },
    close: () => source.release(),
  };
}

const FALLBACKS: Readonly<Record<string, (ctx: CollectorContext) => Collector>> = {
  cpu(ctx) {
    const seconds = new ConstMetric(ctx.registry, { name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', type: 'counter' });
    return fallback(ctx, 'cpu', (s) => {
      const out: ConstSample[] = [];
      s.cpus.forEach((c, i) => {
        for (const mode of ['user', 'nice', 'system', 'idle', 'irq'] as const) out.push({ labels: { cpu: String(i), mode }, value: c[mode] });
      });
      seconds.set(out);
    });
  },
  loadavg(ctx) {
    const g = (n: string, h: string): ConstMetric => new ConstMetric(ctx.registry, { name: n, help: h });
    const l1 = g('node_load1', '1m load average.');
    const l5 = g('node_load5', '5m load average.');
    const l15 = g('node_load15', '15m load average.');
    return fallback(ctx, 'loadavg', (s) => {
      const l = s.load;
      l1.set(l ? [{ labels: {}, value: l[0] }] : []);
      l5.set(l ? [{ labels: {}, value: l[1] }] : []);
      l15.set(l ? [{ labels: {}, value: l[2] }] : []);
    });
  },
  meminfo(ctx) {
    const fields = [
      ['MemTotal', 'total'], ['MemFree', 'free'], ['MemAvailable', 'available'], ['SwapTotal', 'swapTotal'], ['SwapFree', 'swapFree'],
    ] as const;
    const metrics = fields.map(([f, key]) => ({ key, m: new ConstMetric(ctx.registry, { name: `node_memory_${f}_bytes`, help: `Memory information field ${f}_bytes.` }) }));
    return fallback(ctx, 'meminfo', (s) => {
      for (const { key, m } of metrics) m.setValue(s.memory[key]);
    });
  },
  filesystem(ctx) {
    const g = (n: string, h: string): ConstMetric => new ConstMetric(ctx.registry, { name: n, help: h });
    const size = g('node_filesystem_size_bytes', 'Filesystem size in bytes.');
    const free = g('node_filesystem_free_bytes', 'Filesystem free space in bytes.');
    const avail = g('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.');
    const ro = g('node_filesystem_readonly', 'Filesystem read-only status.');
    const o = ctx.options;
    return fallback(ctx, 'filesystem', (s) => {
      const fss = s.filesystems.filter(
        (f) => !o.mountPointsExclude?.test(f.mountpoint) && (!o.mountPointsInclude || o.mountPointsInclude.test(f.mountpoint)) && !o.fsTypesExclude?.test(f.fstype),
      );
      const labels = (f: (typeof fss)[number]): Record<string, string> => ({ device: f.device, fstype: f.fstype, mountpoint: f.mountpoint });
      size.set(fss.map((f) => ({ labels: labels(f), value: f.size })));
      free.set(fss.map((f) => ({ labels: labels(f), value: f.free })));
      avail.set(fss.map((f) => ({ labels: labels(f), value: f.avail })));
      ro.set(fss.map((f) => ({ labels: labels(f), value: f.readonly ? 1 : 0 })));
    });
  },
  netdev(ctx) {
    const counters = [
      ['receive_bytes', 'receiveBytes'], ['transmit_bytes', 'transmitBytes'], ['receive_errs', 'receiveErrs'],
      ['transmit_errs', 'transmitErrs'], ['receive_drop', 'receiveDrop'], ['transmit_drop', 'transmitDrop'],
    ] as const;
    const metrics = counters.map(([c, key]) => ({
      key,
      m: new ConstMetric(ctx.registry, { name: `node_network_${c}_total`, help: `Network device statistic ${c}.`, type: 'counter' }),
    }));
    const { netdevDeviceExclude: exclude, netdevDeviceInclude: include } = ctx.options;
    return fallback(ctx, 'netdev', (s) => {
      const devs = s.networks.filter((d) => !exclude?.test(d.device) && (!include || include.test(d.device)));
      for (const { key, m } of metrics) m.set(devs.map((d) => ({ labels: { device: d.device }, value: d[key] })));
    });
  },
};

/** The names of the host collectors that have a systeminformation fallback. */
export const FALLBACK_COLLECTORS: readonly string[] = Object.keys(FALLBACKS);

/**
 * `def` with the systeminformation fallback: the same name and switch, the /proc
 * reading when the options say so, the fallback (on the slow interval) otherwise.
 */
export function withSysinfoFallback(def: CollectorDefinition): CollectorDefinition {
  const make = FALLBACKS[def.name];
  if (!make) throw new Error(`no systeminformation fallback for the ${def.name} collector`);
  return { ...def, create: (ctx) => (usesSysinfo(ctx.options) ? make(ctx) : def.create(ctx)) };
}

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
import { CPU_MODES, FS_FIELDS, MEMORY_FIELDS, NET_FIELDS, offsets, type SampleLayout } from './protocol.js';
import { sysinfoSource, type HostReading } from './source.js';

/** Whether the host collectors of these options read systeminformation instead of /proc. */
export function usesSysinfo(options: HostCollectorOptions): boolean {
  const source = options.hostSource ?? 'auto';
  if (source === 'auto') return !existsSync(join(options.procfs, 'stat'));
  return source === 'systeminformation';
}

/** Builds a fallback collector from the part of a sample it reports. */
function fallback(ctx: CollectorContext, name: string, apply: (s: HostReading) => void): Collector {
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

/**
 * What a collector derives from the label sets alone (its series' labels, filtered),
 * computed again only when the layout object changes (a mount or an interface came or went).
 */
function perLayout<T>(derive: (layout: SampleLayout) => T): (layout: SampleLayout) => T {
  let seen: SampleLayout | undefined;
  let derived: T | undefined;
  return (layout) => {
    if (layout !== seen || derived === undefined) {
      derived = derive(layout);
      seen = layout;
    }
    return derived;
  };
}

const FALLBACKS: Readonly<Record<string, (ctx: CollectorContext) => Collector>> = {
  cpu(ctx) {
    const seconds = new ConstMetric(ctx.registry, { name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', type: 'counter' });
    const labels = perLayout((l) => Array.from({ length: l.cpus * CPU_MODES.length }, (_, i) => ({ cpu: String(Math.floor(i / CPU_MODES.length)), mode: CPU_MODES[i % CPU_MODES.length]! })));
    return fallback(ctx, 'cpu', (s) => {
      seconds.set(labels(s.layout).map((l, i) => ({ labels: l, value: s.values[i]! })));
    });
  },
  loadavg(ctx) {
    const g = (n: string, h: string): ConstMetric => new ConstMetric(ctx.registry, { name: n, help: h });
    const loads = [g('node_load1', '1m load average.'), g('node_load5', '5m load average.'), g('node_load15', '15m load average.')];
    return fallback(ctx, 'loadavg', (s) => {
      const at = offsets(s.layout).load;
      loads.forEach((m, i) => m.set(s.layout.load ? [{ labels: {}, value: s.values[at + i]! }] : []));
    });
  },
  meminfo(ctx) {
    const names: Record<(typeof MEMORY_FIELDS)[number], string> = { total: 'MemTotal', free: 'MemFree', available: 'MemAvailable', swapTotal: 'SwapTotal', swapFree: 'SwapFree' };
    const metrics = MEMORY_FIELDS.map((key) => new ConstMetric(ctx.registry, { name: `node_memory_${names[key]}_bytes`, help: `Memory information field ${names[key]}_bytes.` }));
    return fallback(ctx, 'meminfo', (s) => {
      const at = offsets(s.layout).memory;
      metrics.forEach((m, j) => m.setValue(s.values[at + j]!));
    });
  },
  filesystem(ctx) {
    const g = (n: string, h: string): ConstMetric => new ConstMetric(ctx.registry, { name: n, help: h });
    // in FS_FIELDS' order
    const metrics = [
      g('node_filesystem_size_bytes', 'Filesystem size in bytes.'),
      g('node_filesystem_free_bytes', 'Filesystem free space in bytes.'),
      g('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.'),
      g('node_filesystem_readonly', 'Filesystem read-only status.'),
    ];
    const o = ctx.options;
    // the mounts reported (by index) and their labels
    const kept = perLayout((l) =>
      l.filesystems
        .map((f, i) => ({ i, labels: { device: f.device, fstype: f.fstype, mountpoint: f.mountpoint } }))
        .filter(({ labels: f }) => !o.mountPointsExclude?.test(f.mountpoint) && (!o.mountPointsInclude || o.mountPointsInclude.test(f.mountpoint)) && !o.fsTypesExclude?.test(f.fstype)),
    );
    return fallback(ctx, 'filesystem', (s) => {
      const at = offsets(s.layout).filesystems;
      const fss = kept(s.layout);
      metrics.forEach((m, j) => m.set(fss.map((f) => ({ labels: f.labels, value: s.values[at + f.i * FS_FIELDS.length + j]! }))));
    });
  },
  netdev(ctx) {
    const counters = ['receive_bytes', 'transmit_bytes', 'receive_errs', 'transmit_errs', 'receive_drop', 'transmit_drop'] as const; // NET_FIELDS' order
    const metrics = counters.map((c) => new ConstMetric(ctx.registry, { name: `node_network_${c}_total`, help: `Network device statistic ${c}.`, type: 'counter' }));
    const { netdevDeviceExclude: exclude, netdevDeviceInclude: include } = ctx.options;
    const kept = perLayout((l) => l.networks.map((device, i) => ({ i, labels: { device } })).filter(({ labels: { device: d } }) => !exclude?.test(d) && (!include || include.test(d))));
    return fallback(ctx, 'netdev', (s) => {
      const at = offsets(s.layout).networks;
      const devs = kept(s.layout);
      metrics.forEach((m, j) => m.set(devs.map((d) => ({ labels: d.labels, value: s.values[at + d.i * NET_FIELDS.length + j]! }))));
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

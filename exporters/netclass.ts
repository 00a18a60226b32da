/**
 * Interface properties from /sys/class/net/<iface> (node_exporter's netclass
 * collector, the properties its dashboards use): up, carrier, MTU, speed, queue length
 * and the info labels. Honours the netdev device patterns.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { readSingleShot } from './procfs/read.js';

/** What one interface's sysfs folder says; numbers are undefined where the kernel refuses (carrier of a down link). */
export interface NetClass {
  readonly device: string;
  readonly operstate: string;
  readonly address: string;
  readonly broadcast: string;
  readonly duplex: string;
  readonly ifalias: string;
  readonly carrier?: number;
  readonly mtu?: number;
  /** Mbit/s as the kernel reports it (-1 when unknown). */
  readonly speed?: number;
  readonly txQueueLen?: number;
}

const int = (s: string | undefined): number | undefined => {
  const n = s === undefined ? NaN : parseInt(s.trim(), 10);
  return Number.isNaN(n) ? undefined : n;
};

/** Reads every interface of `<sysfs>/class/net`. */
export async function readNetClass(sysfs: string): Promise<NetClass[]> {
  const base = join(sysfs, 'class', 'net');
  const names = await readdir(base);
  const read = (dev: string, f: string): Promise<string | undefined> => readSingleShot(join(base, dev, f));
  const all = await Promise.all(
    names.map(async (device): Promise<NetClass | undefined> => {
      const [operstate, address, broadcast, duplex, ifalias, carrier, mtu, speed, txq] = await Promise.all(
        ['operstate', 'address', 'broadcast', 'duplex', 'ifalias', 'carrier', 'mtu', 'speed', 'tx_queue_len'].map((f) => read(device, f)),
      );
      if (operstate === undefined) return undefined; // not an interface folder (bonding_masters)
      const c = int(carrier);
      const m = int(mtu);
      const s = int(speed);
      const q = int(txq);
      return {
        device,
        operstate: operstate.trim(),
        address: address?.trim() ?? '',
        broadcast: broadcast?.trim() ?? '',
        duplex: duplex?.trim() ?? '',
        ifalias: ifalias?.trim() ?? '',
        ...(c !== undefined ? { carrier: c } : {}),
        ...(m !== undefined ? { mtu: m } : {}),
        ...(s !== undefined ? { speed: s } : {}),
        ...(q !== undefined ? { txQueueLen: q } : {}),
      };
    }),
  );
  return all.filter((x): x is NetClass => x !== undefined).sort((a, b) => (a.device < b.device ? -1 : 1));
}

/** node_exporter's `netclass` collector (the commonly used subset). */
export const netclassCollector: CollectorDefinition = {
  name: 'netclass',
  defaultEnabled: true,
  create(ctx) {
    const g = (name: string, help: string): ConstMetric => new ConstMetric(ctx.registry, { name, help });
    const up = g('node_network_up', "Value is 1 if operstate is 'up', 0 otherwise.");
    const info = g('node_network_info', 'Non-numeric data from /sys/class/net/<iface>, value is always 1.');
    const carrier = g('node_network_carrier', 'Network device property: carrier');
    const mtu = g('node_network_mtu_bytes', 'Network device property: mtu_bytes');
    const speed = g('node_network_speed_bytes', 'Network device property: speed_bytes');
    const txq = g('node_network_transmit_queue_length', 'Network device property: transmit_queue_length');
    return {
      async update() {
        const { netdevDeviceExclude: exclude, netdevDeviceInclude: include } = ctx.options;
        const ifaces = (await readNetClass(ctx.options.sysfs)).filter((d) => !exclude?.test(d.device) && (!include || include.test(d.device)));
        const each = (pick: (d: NetClass) => number | undefined): ConstSample[] =>
          ifaces.flatMap((d) => {
            const v = pick(d);
            return v === undefined ? [] : [{ labels: { device: d.device }, value: v }];
          });
        up.set(each((d) => (d.operstate === 'up' ? 1 : 0)));
        info.set(
          ifaces.map((d) => ({
            labels: { address: d.address, broadcast: d.broadcast, device: d.device, duplex: d.duplex, ifalias: d.ifalias, operstate: d.operstate },
            value: 1,
          })),
        );
        carrier.set(each((d) => d.carrier));
        mtu.set(each((d) => d.mtu));
        // Mbit/s to bytes/s as node_exporter does, -1 (unknown) included
        speed.set(each((d) => (d.speed === undefined ? undefined : d.speed * 125_000)));
        txq.set(each((d) => d.txQueueLen));
      },
    };
  },
};

/**
 * `larder_host_info`: the host's inventory as labels (CPU model, system vendor and
 * model, OS), value 1, on every platform. systeminformation reads it once, in its worker
 * thread (its calls run dmidecode, lscpu and the like); the worker is let go after.
 */
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { sysinfoSource } from './sysinfo/source.js';

/** The `hostinfo` collector (slow interval; reads once, then serves the same labels). */
export const hostinfoCollector: CollectorDefinition = {
  name: 'hostinfo',
  defaultEnabled: true,
  slow: true,
  create(ctx) {
    const info = new ConstMetric(ctx.registry, {
      name: 'larder_host_info',
      help: 'Host inventory read once by systeminformation (value 1): cpu_model, cpu_vendor, cpu_cores, system_vendor, system_model, os_platform, os_distro, os_release, arch.',
      // known before the background read answers
      labelNames: ['cpu_model', 'cpu_vendor', 'cpu_cores', 'system_vendor', 'system_model', 'os_platform', 'os_distro', 'os_release', 'arch'],
    });
    const source = sysinfoSource(ctx.registry);
    source.acquire();
    let held = true;
    let closed = false;
    const letGo = (): void => {
      if (held) source.release();
      held = false;
    };
    let reading: Promise<void> | undefined;
    let warned = false;
    return {
      // Never waits: the first update starts the read (Larder's start, and so its listening,
      // is not held up by the helper's start); the labels appear when it answers.
      async update() {
        if (info.current().length || reading) return;
        reading = source.inventory().then(
          (inv) => {
            info.set([
              {
                labels: {
                  cpu_model: inv.cpuModel,
                  cpu_vendor: inv.cpuVendor,
                  cpu_cores: String(inv.cpuCores),
                  system_vendor: inv.systemVendor,
                  system_model: inv.systemModel,
                  os_platform: inv.osPlatform,
                  os_distro: inv.osDistro,
                  os_release: inv.osRelease,
                  arch: inv.arch,
                },
                value: 1,
              },
            ]);
            letGo();
          },
          (err: unknown) => {
            // tried again on the next (slow) update; a read cut short by stop() is no problem to report
            if (!warned && !closed) ctx.log.warn('systeminformation could not read the host inventory; larder_host_info is missing until it can', { collector: 'hostinfo', err: (err as Error).message });
            warned = true;
            reading = undefined;
          },
        );
      },
      close() {
        closed = true;
        letGo();
      },
    };
  },
};

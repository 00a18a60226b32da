/** `node_uname_info`, read from /proc/sys/kernel so a fixture tree can stand in. */
import { machine } from 'node:os';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { readOptional, readText } from './procfs/read.js';

/** node_exporter's `uname` collector. */
export const unameCollector: CollectorDefinition = {
  name: 'uname',
  defaultEnabled: true,
  create(ctx) {
    const info = new ConstMetric(ctx.registry, { name: 'node_uname_info', help: 'Labeled system information as provided by the uname system call.' });
    // The kernel's name, release, version and machine only change with a reboot: read once.
    let kernel: { sysname: string; release: string; version: string; machine: string } | undefined;
    return {
      async update() {
        const k = (f: string): Promise<string> => readText(ctx.options.procfs, 'sys', 'kernel', f).then((s) => s.trim());
        if (!kernel) {
          const [sysname, release, version, arch] = await Promise.all([
            k('ostype'),
            k('osrelease'),
            k('version'),
            // /proc/sys/kernel/arch exists since Linux 6.1; uname(2)'s machine otherwise
            readOptional(ctx.options.procfs, 'sys', 'kernel', 'arch'),
          ]);
          kernel = { sysname, release, version, machine: arch?.trim() || machine() };
        }
        const [nodename, domainname] = await Promise.all([k('hostname'), k('domainname')]);
        const { sysname, release, version, machine: mach } = kernel;
        info.set([{ labels: { sysname, release, version, machine: mach, nodename, domainname }, value: 1 }]);
      },
    };
  },
};

/** `node_filesystem_*{device,fstype,mountpoint}` from the mount table and statfs (node_exporter's filesystem collector). */
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric, type ConstSample } from './const-metric.js';
import { selectMounts } from './procfs/mounts.js';
import { BoundedStatfs, readMounts } from './statfs.js';

/** Per-mount statfs timeout when the option is unset (node_exporter's --collector.filesystem.mount-timeout). */
export const DEFAULT_MOUNT_TIMEOUT_MS = 5000;

/**
 * node_exporter's `filesystem` collector. A mount whose statfs fails or hangs is
 * reported with `node_filesystem_device_error` 1 and no sizes; the others are unaffected.
 */
export const filesystemCollector: CollectorDefinition = {
  name: 'filesystem',
  defaultEnabled: true,
  create(ctx) {
    const r = ctx.registry;
    const g = (name: string, help: string): ConstMetric => new ConstMetric(r, { name, help });
    const size = g('node_filesystem_size_bytes', 'Filesystem size in bytes.');
    const free = g('node_filesystem_free_bytes', 'Filesystem free space in bytes.');
    const avail = g('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.');
    const files = g('node_filesystem_files', 'Filesystem total file nodes.');
    const filesFree = g('node_filesystem_files_free', 'Filesystem total free file nodes.');
    const readonly = g('node_filesystem_readonly', 'Filesystem read-only status.');
    const deviceError = g('node_filesystem_device_error', 'Whether an error occurred while getting statistics for the given device.');
    const statfs = new BoundedStatfs(ctx.options.filesystemMountTimeout ?? DEFAULT_MOUNT_TIMEOUT_MS);
    // mount points whose failure was logged: once per failure, not every interval
    const warned = new Set<string>();
    return {
      async update() {
        const mounts = selectMounts(await readMounts(ctx.options.procfs), ctx.options);
        const results = await Promise.allSettled(mounts.map((m) => statfs.stat(join(ctx.options.rootfs ?? '/', m.mountPoint))));
        const out = { size: [] as ConstSample[], free: [] as ConstSample[], avail: [] as ConstSample[], files: [] as ConstSample[], filesFree: [] as ConstSample[], ro: [] as ConstSample[], err: [] as ConstSample[] };
        mounts.forEach((m, i) => {
          const labels = { device: m.device, fstype: m.fsType, mountpoint: m.mountPoint };
          const res = results[i]!;
          out.err.push({ labels, value: res.status === 'fulfilled' ? 0 : 1 });
          out.ro.push({ labels, value: m.options.includes('ro') ? 1 : 0 });
          if (res.status === 'rejected') {
            if (!warned.has(m.mountPoint)) ctx.log.warn('filesystem statfs failed', { mountpoint: m.mountPoint, err: (res.reason as Error).message });
            warned.add(m.mountPoint);
            return;
          }
          warned.delete(m.mountPoint);
          const s = res.value;
          out.size.push({ labels, value: s.size });
          out.free.push({ labels, value: s.free });
          out.avail.push({ labels, value: s.avail });
          out.files.push({ labels, value: s.files });
          out.filesFree.push({ labels, value: s.filesFree });
        });
        size.set(out.size);
        free.set(out.free);
        avail.set(out.avail);
        files.set(out.files);
        filesFree.set(out.filesFree);
        readonly.set(out.ro);
        deviceError.set(out.err);
      },
    };
  },
};

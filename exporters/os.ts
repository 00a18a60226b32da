/** `node_os_info` and `node_os_version` from os-release(5), as node_exporter's os collector. */
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { osVersionNumber, parseOsRelease } from './procfs/os-release.js';
import { readWhole } from './procfs/read.js';

/** The labels of node_os_info, in node_exporter's names, and their os-release keys. */
const INFO_LABELS: readonly [string, string][] = [
  ['build_id', 'BUILD_ID'], ['id', 'ID'], ['id_like', 'ID_LIKE'], ['image_id', 'IMAGE_ID'], ['image_version', 'IMAGE_VERSION'], ['name', 'NAME'],
  ['pretty_name', 'PRETTY_NAME'], ['variant', 'VARIANT'], ['variant_id', 'VARIANT_ID'], ['version', 'VERSION'], ['version_codename', 'VERSION_CODENAME'],
  ['version_id', 'VERSION_ID'],
];

/** Reads `<rootfs>/etc/os-release`, or `<rootfs>/usr/lib/os-release` as os-release(5) says. */
export async function readOsRelease(rootfs: string): Promise<Record<string, string>> {
  try {
    return parseOsRelease(await readWhole(join(rootfs, 'etc', 'os-release')));
  } catch {
    return parseOsRelease(await readWhole(join(rootfs, 'usr', 'lib', 'os-release')));
  }
}

/** node_exporter's `os` collector. The file changes only with an upgrade, so it is read on the slow interval. */
export const osCollector: CollectorDefinition = {
  name: 'os',
  defaultEnabled: true,
  slow: true,
  create(ctx) {
    const info = new ConstMetric(ctx.registry, {
      name: 'node_os_info',
      help: "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
    });
    const version = new ConstMetric(ctx.registry, { name: 'node_os_version', help: 'Metric containing the major.minor part of the OS version.' });
    return {
      async update() {
        const os = await readOsRelease(ctx.options.rootfs ?? '/');
        info.set([{ labels: Object.fromEntries(INFO_LABELS.map(([label, key]) => [label, os[key] ?? ''])), value: 1 }]);
        const v = osVersionNumber(os['VERSION_ID'] ?? '');
        version.set(Number.isNaN(v) ? [] : [{ labels: { id: os['ID'] ?? '', id_like: os['ID_LIKE'] ?? '', name: os['NAME'] ?? '' }, value: v }]);
      },
    };
  },
};

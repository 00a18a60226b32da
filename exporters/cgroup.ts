/**
 * The limits of the cgroup Larder runs in (v2, or v1 where mounted): what a container
 * may use, which node_exporter's host-wide figures cannot show. A limit that is not
 * set is left out rather than exposed as +Inf, so `absent()` and ratio queries behave.
 */
import { join } from 'node:path';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import {
  cgroupDirs,
  parseCgroupMounts,
  parseCpuMaxV2,
  parseCpuQuotaV1,
  parseCpuStatUsageV2,
  parseMemoryLimit,
  parseProcCgroup,
  type CgroupMembership,
  type CgroupMount,
} from './procfs/cgroup.js';
import { readOptional } from './procfs/read.js';

/** What the cgroup collector found. */
export interface CgroupReading {
  readonly version: 1 | 2;
  /** The cgroup path of the memory controller (v1) or of the unified hierarchy (v2). */
  readonly path: string;
  readonly memoryUsage?: number;
  /** The tightest limit of the cgroup and its ancestors; undefined for none. */
  readonly memoryLimit?: number;
  /** The tightest CPU quota in cores; undefined for none. */
  readonly cpuQuotaCores?: number;
  readonly cpuUsageSeconds?: number;
}

/** Maps the kernel's absolute cgroup mount point onto the configured sysfs root. */
function underSysfs(sysfs: string, abs: string): string {
  return abs === '/sys' || abs.startsWith('/sys/') ? join(sysfs, abs.slice('/sys'.length)) : abs;
}

/** The folder and its ancestors up to (and including) the mount point, deepest first. */
function upToMount(dir: string, mountPoint: string): string[] {
  const out = [dir];
  let d = dir;
  while (d.length > mountPoint.length && d.startsWith(mountPoint)) {
    d = d.slice(0, d.lastIndexOf('/')) || '/';
    if (d.length < mountPoint.length) break;
    out.push(d);
  }
  return out;
}

function minDefined(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

async function firstWith(dirs: readonly string[], file: string): Promise<string | undefined> {
  for (const d of dirs) if ((await readOptional(d, file)) !== undefined) return d;
  return undefined;
}

/** Where this process's cgroup files are: found once, read every interval. */
export type CgroupLayout =
  | { readonly version: 2; readonly path: string; readonly dir: string; readonly chain: readonly string[] }
  | {
      readonly version: 1;
      readonly path: string;
      readonly memDir?: string | undefined;
      readonly memChain: readonly string[];
      readonly cpuChain: readonly string[];
      readonly acctDir?: string | undefined;
    };

/** Finds the cgroup folders of this process; undefined outside any cgroup hierarchy Larder can read. */
export async function resolveCgroup(procfs: string, sysfs: string): Promise<CgroupLayout | undefined> {
  const [cg, mi] = await Promise.all([readOptional(procfs, 'self', 'cgroup'), readOptional(procfs, 'self', 'mountinfo')]);
  if (cg === undefined || mi === undefined) return undefined;
  const memberships: CgroupMembership[] = parseProcCgroup(cg);
  const mounts: CgroupMount[] = parseCgroupMounts(mi).map((m) => ({ ...m, mountPoint: underSysfs(sysfs, m.mountPoint) }));

  // v2 first: in hybrid mode the unified hierarchy is mounted but holds no controllers,
  // which shows as the absence of memory.current.
  const v2Mount = mounts.find((m) => m.version === 2);
  const v2 = v2Mount ? await firstWith(cgroupDirs(memberships, mounts, undefined), 'memory.current') : undefined;
  if (v2Mount && v2) {
    return { version: 2, path: memberships.find((m) => m.hierarchy === '0')?.path ?? '/', dir: v2, chain: upToMount(v2, v2Mount.mountPoint) };
  }
  const memMount = mounts.find((m) => m.version === 1 && m.controllers.includes('memory'));
  const memDir = await firstWith(cgroupDirs(memberships, mounts, 'memory'), 'memory.usage_in_bytes');
  const cpuMount = mounts.find((m) => m.version === 1 && m.controllers.includes('cpu'));
  const cpuDir = await firstWith(cgroupDirs(memberships, mounts, 'cpu'), 'cpu.cfs_quota_us');
  const acctDir = await firstWith(cgroupDirs(memberships, mounts, 'cpuacct'), 'cpuacct.usage');
  if (!memDir && !cpuDir) return undefined;
  const member = memberships.find((m) => m.controllers.includes('memory')) ?? memberships.find((m) => m.controllers.includes('cpu'));
  return {
    version: 1,
    path: member?.path ?? '/',
    memDir,
    memChain: memDir && memMount ? upToMount(memDir, memMount.mountPoint) : [],
    cpuChain: cpuDir && cpuMount ? upToMount(cpuDir, cpuMount.mountPoint) : [],
    acctDir,
  };
}

/** Reads usage and limits at a resolved layout. */
export async function readCgroupValues(l: CgroupLayout): Promise<CgroupReading> {
  if (l.version === 2) {
    const [usage, limits, quotas, cpuStat] = await Promise.all([
      readOptional(l.dir, 'memory.current'),
      Promise.all(l.chain.map((d) => readOptional(d, 'memory.max'))),
      Promise.all(l.chain.map((d) => readOptional(d, 'cpu.max'))),
      readOptional(l.dir, 'cpu.stat'),
    ]);
    return {
      version: 2,
      path: l.path,
      ...(usage !== undefined ? { memoryUsage: Number(usage.trim()) } : {}),
      ...opt('memoryLimit', minDefined(limits.map((t) => (t === undefined ? undefined : parseMemoryLimit(t))))),
      ...opt('cpuQuotaCores', minDefined(quotas.map((t) => (t === undefined ? undefined : parseCpuMaxV2(t))))),
      ...opt('cpuUsageSeconds', cpuStat === undefined ? undefined : parseCpuStatUsageV2(cpuStat)),
    };
  }
  const [usage, limits, quotas, acct] = await Promise.all([
    l.memDir ? readOptional(l.memDir, 'memory.usage_in_bytes') : undefined,
    Promise.all(l.memChain.map((d) => readOptional(d, 'memory.limit_in_bytes'))),
    Promise.all(l.cpuChain.map(async (d) => [await readOptional(d, 'cpu.cfs_quota_us'), await readOptional(d, 'cpu.cfs_period_us')] as const)),
    l.acctDir ? readOptional(l.acctDir, 'cpuacct.usage') : undefined,
  ]);
  return {
    version: 1,
    path: l.path,
    ...(usage !== undefined ? { memoryUsage: Number(usage.trim()) } : {}),
    ...opt('memoryLimit', minDefined(limits.map((t) => (t === undefined ? undefined : parseMemoryLimit(t))))),
    ...opt('cpuQuotaCores', minDefined(quotas.map(([q, p]) => (q === undefined || p === undefined ? undefined : parseCpuQuotaV1(q, p))))),
    ...opt('cpuUsageSeconds', acct === undefined ? undefined : Number(acct.trim()) / 1e9),
  };
}

/** Resolves and reads in one go (for one-off use; the collector keeps the layout). */
export async function readCgroup(procfs: string, sysfs: string): Promise<CgroupReading | undefined> {
  const layout = await resolveCgroup(procfs, sysfs);
  return layout ? readCgroupValues(layout) : undefined;
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

/** The `cgroup` collector: exposes nothing where no cgroup is readable. */
export const cgroupCollector: CollectorDefinition = {
  name: 'cgroup',
  defaultEnabled: true,
  create(ctx) {
    const r = ctx.registry;
    const info = new ConstMetric(r, { name: 'larder_cgroup_info', help: 'The cgroup Larder runs in: cgroup version and path; always 1.' });
    const limit = new ConstMetric(r, { name: 'larder_cgroup_memory_limit_bytes', help: 'Memory limit of the cgroup (the tightest of it and its ancestors); absent when unlimited.' });
    const usage = new ConstMetric(r, { name: 'larder_cgroup_memory_usage_bytes', help: 'Memory the cgroup uses now, page cache included (memory.current / memory.usage_in_bytes).' });
    const quota = new ConstMetric(r, { name: 'larder_cgroup_cpu_quota_cores', help: 'CPU quota of the cgroup in cores (quota / period); absent when there is no quota.' });
    const cpu = new ConstMetric(r, { name: 'larder_cgroup_cpu_usage_seconds_total', help: 'CPU time used by the cgroup.', type: 'counter' });
    const one = (m: ConstMetric, v: number | undefined): void => m.set(v === undefined ? [] : [{ labels: {}, value: v }]);
    // Membership rarely changes, so the folders are found once (parsing mountinfo is the
    // costly part) and found again when the usage file stops answering, e.g. after a move.
    let layout: CgroupLayout | undefined;
    return {
      async update() {
        let c = layout ? await readCgroupValues(layout) : undefined;
        if (c?.memoryUsage === undefined && (layout?.version === 2 || (layout?.version === 1 && layout.memDir))) c = undefined;
        if (!c) {
          layout = await resolveCgroup(ctx.options.procfs, ctx.options.sysfs);
          c = layout ? await readCgroupValues(layout) : undefined;
        }
        info.set(c ? [{ labels: { version: String(c.version), path: c.path }, value: 1 }] : []);
        one(limit, c?.memoryLimit);
        one(usage, c?.memoryUsage);
        one(quota, c?.cpuQuotaCores);
        one(cpu, c?.cpuUsageSeconds);
      },
    };
  },
};

/**
 * Pure parts of the cgroup collector: /proc/self/cgroup, /proc/self/mountinfo and the
 * limit files of cgroup v1 and v2.
 * https://docs.kernel.org/admin-guide/cgroup-v2.html
 * https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
 */
import { fields } from './read.js';
import { unescapeMountField } from './mounts.js';

/** One line of /proc/<pid>/cgroup. */
export interface CgroupMembership {
  readonly hierarchy: string;
  /** Controllers of a v1 hierarchy (`memory`, `cpu,cpuacct`); empty for v2. */
  readonly controllers: readonly string[];
  readonly path: string;
}

/** Parses /proc/<pid>/cgroup (`4:memory:/a/b`, `0::/a`). */
export function parseProcCgroup(text: string): CgroupMembership[] {
  const out: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    out.push({ hierarchy: m[1]!, controllers: m[2] === '' ? [] : m[2]!.split(','), path: m[3]! });
  }
  return out;
}

/** One cgroup mount from /proc/<pid>/mountinfo. */
export interface CgroupMount {
  /** The cgroup path the mount shows at its mount point (`/` unless bind-mounted from inside). */
  readonly root: string;
  readonly mountPoint: string;
  readonly version: 1 | 2;
  /** v1 controllers from the super options (`memory`, `cpu`…). */
  readonly controllers: readonly string[];
}

/** Parses the cgroup and cgroup2 mounts out of /proc/<pid>/mountinfo. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    const fsType = f[dash + 1];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const superOptions = (f[dash + 3] ?? '').split(',');
    out.push({
      root: unescapeMountField(f[3]!),
      mountPoint: unescapeMountField(f[4]!),
      version: fsType === 'cgroup2' ? 2 : 1,
      controllers: fsType === 'cgroup' ? superOptions.filter((o) => o !== 'rw' && o !== 'ro' && !o.includes('=')) : [],
    });
  }
  return out;
}

/**
 * Candidate folders (absolute, as the kernel names them) of this process's cgroup for
 * a controller (`memory`, `cpu`), or for v2 with `controller === undefined`. The first
 * is the full path; inside a cgroup namespace or a container that mounts only its own
 * cgroup, the path may not exist under the mount, so the mount point itself follows.
 */
export function cgroupDirs(memberships: readonly CgroupMembership[], mounts: readonly CgroupMount[], controller: string | undefined): string[] {
  const member = controller === undefined ? memberships.find((m) => m.hierarchy === '0' && m.controllers.length === 0) : memberships.find((m) => m.controllers.includes(controller));
  const mount = controller === undefined ? mounts.find((m) => m.version === 2) : mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
  if (!member || !mount) return [];
  let rel = member.path;
  if (mount.root !== '/' && (rel === mount.root || rel.startsWith(mount.root + '/'))) rel = rel.slice(mount.root.length);
  const full = joinAbs(mount.mountPoint, rel);
  return full === mount.mountPoint ? [full] : [full, mount.mountPoint];
}

function joinAbs(a: string, b: string): string {
  const s = `${a.replace(/\/+$/, '')}/${b.replace(/^\/+/, '')}`;
  return s.length > 1 ? s.replace(/\/+$/, '') : s;
}

/**
 * v1 reports "no limit" as a huge page-aligned number (LONG_MAX rounded down to the
 * page size, 9223372036854771712 on x86_64); anything at or above 2^62 means none.
 */
const V1_UNLIMITED = 2 ** 62;

/** `memory.limit_in_bytes` (v1) or `memory.max` (v2) → bytes, or undefined for no limit. */
export function parseMemoryLimit(text: string): number | undefined {
  const s = text.trim();
  if (s === 'max') return undefined;
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new Error(`cgroup memory limit: unexpected ${JSON.stringify(s)}`);
  return n >= V1_UNLIMITED ? undefined : n;
}

/** `cpu.max` (v2: `max 100000` or `50000 100000`) → cores, or undefined for no quota. */
export function parseCpuMaxV2(text: string): number | undefined {
  const [quota, period] = fields(text);
  if (quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100000);
  if (!Number.isFinite(q) || !(p > 0)) throw new Error(`cgroup cpu.max: unexpected ${JSON.stringify(text.trim())}`);
  return q / p;
}

/** `cpu.cfs_quota_us` and `cpu.cfs_period_us` (v1) → cores, or undefined for no quota (-1). */
export function parseCpuQuotaV1(quotaText: string, periodText: string): number | undefined {
  const q = Number(quotaText.trim());
  const p = Number(periodText.trim());
  if (!Number.isFinite(q) || !(p > 0)) throw new Error(`cgroup cpu.cfs_quota_us/cfs_period_us: unexpected ${JSON.stringify(quotaText.trim())}/${JSON.stringify(periodText.trim())}`);
  return q < 0 ? undefined : q / p;
}

/** `usage_usec` of a v2 `cpu.stat`, in seconds. */
export function parseCpuStatUsageV2(text: string): number | undefined {
  const m = /^usage_usec\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) / 1e6 : undefined;
}

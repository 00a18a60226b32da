/**
 * CPU time spent on a piece of work, in ms: this process's (every thread, so the SQLite
 * worker too) plus, for PostgreSQL on this machine, that of the server backends serving
 * connections with `applicationName`, read from /proc. On a shared machine wall time
 * depends on the others' load; CPU time much less. Backends that ended during the work
 * are not counted (the bench's pool keeps its connections while it works).
 */
import { readFileSync } from 'node:fs';
import type { Store } from '../../storage/store.js';

const TICK_MS = 10; // USER_HZ = 100 on Linux

function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0; // not on this machine, or ended
  }
}

/** CPU ms so far of this process and of the backends of `applicationName` (PostgreSQL), per backend pid. */
export async function cpuNow(store: Store, applicationName?: string): Promise<{ self: number; backends: Map<number, number> }> {
  const u = process.cpuUsage();
  const backends = new Map<number, number>();
  if (store.dialect === 'postgresql' && applicationName !== undefined) {
    const rows = await store.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    for (const r of rows) backends.set(Number(r.pid), procCpuMs(Number(r.pid)));
  }
  return { self: (u.user + u.system) / 1000, backends };
}

/** CPU ms between two cpuNow readings, this process's and the backends' (a backend new since `a` counts from zero). */
export function cpuSpent(a: { self: number; backends: Map<number, number> }, b: { self: number; backends: Map<number, number> }): { self: number; backends: number } {
  let backends = 0;
  for (const [pid, v] of b.backends) backends += v - (a.backends.get(pid) ?? 0);
  return { self: b.self - a.self, backends };
}

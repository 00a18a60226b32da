/**
 * statfs(2) of mount points, bounded: a hung mount (a stale NFS server) costs one
 * timeout once, then is skipped while its call is still pending, so it neither hides
 * the other mounts nor piles up calls in libuv's small thread pool.
 */
import { statfs } from 'node:fs/promises';
import { parseMounts, type Mount } from './procfs/mounts.js';
import { readText } from './procfs/read.js';

/** Sizes of one filesystem, in bytes and inodes. */
export interface FsSize {
  readonly size: number;
  readonly free: number;
  /** Available to unprivileged users (free minus the root reserve). */
  readonly avail: number;
  readonly files: number;
  readonly filesFree: number;
}

/**
 * Fraction 0–1 of a filesystem in use as `df` computes Use%: used / (used + avail),
 * so the root reserve counts neither as used nor as available. NaN for an empty filesystem.
 */
export function fsUsageRatio(s: FsSize): number {
  const used = s.size - s.free;
  return used + s.avail > 0 ? used / (used + s.avail) : NaN;
}

/** The mount table: PID 1's view (the host's, when Larder runs in its own mount namespace), else our own. */
export async function readMounts(procfs: string): Promise<Mount[]> {
  let text: string;
  try {
    text = await readText(procfs, '1', 'mounts');
  } catch {
    text = await readText(procfs, 'mounts');
  }
  return parseMounts(text);
}

/** What statfs(2) returns, as far as sizes need it. */
export interface RawStatfs {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

/** Runs statfs with a per-mount timeout and remembers mounts whose call never returned. */
export class BoundedStatfs {
  private readonly pending = new Map<string, Promise<unknown>>();

  /**
   * @param timeoutMs a call running longer is given up on.
   * @param statfsFn the system call; a test of the hang handling passes one that never returns.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly statfsFn: (path: string) => Promise<RawStatfs> = statfs,
  ) {}

  /** Mount points whose statfs is still hung. */
  stuck(): string[] {
    return [...this.pending.keys()];
  }

  /** statfs of one mount point; rejects on error, timeout, or while an earlier call on it is still hung. */
  stat(mountPoint: string): Promise<FsSize> {
    if (this.pending.has(mountPoint)) return Promise.reject(new Error(`statfs ${mountPoint}: an earlier call is still hung`));
    const call = this.statfsFn(mountPoint);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.pending.set(mountPoint, call);
        const clear = (): void => void this.pending.delete(mountPoint);
        call.then(clear, clear);
        reject(new Error(`statfs ${mountPoint}: timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
    });
    return Promise.race([call, timeout])
      .then((s) => ({
        size: s.blocks * s.bsize,
        free: s.bfree * s.bsize,
        avail: s.bavail * s.bsize,
        files: s.files,
        filesFree: s.ffree,
      }))
      .finally(() => clearTimeout(timer));
  }
}

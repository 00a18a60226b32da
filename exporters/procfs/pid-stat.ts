/** Parser of /proc/<pid>/stat, as far as the processes collector needs it. */

/** State and thread count of one process. */
export interface PidStat {
  /** R, S, D, Z, T, t, X, I… */
  readonly state: string;
  readonly numThreads: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) may itself hold spaces and
 * parentheses, so fields are counted from the last `)`.
 */
export function parsePidStat(text: string): PidStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('/proc/<pid>/stat: no command name');
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); num_threads is field 20
  const state = rest[0];
  const numThreads = Number(rest[17]);
  if (!state || !Number.isInteger(numThreads)) throw new Error('/proc/<pid>/stat: malformed');
  return { state, numThreads };
}

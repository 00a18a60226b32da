/**
 * The option mechanism: every setting is declared once with its flag, environment
 * variables, config-file key, default and parser, so help text, validation and
 * error messages all come from the same declaration.
 */
import { parseDuration, formatDuration } from '../duration.js';

/** One setting. `parse` throws an Error whose message says what is allowed. */
export interface OptionSpec<T> {
  /** Flag name without the leading dashes (`listen` → `--listen`). Also the config-file key. */
  readonly flag: string;
  /** Environment variables, first one set wins. */
  readonly env?: readonly string[];
  /** Default value when nothing sets it. */
  readonly default: T;
  /** One line for `--help`. */
  readonly help: string;
  /** Turns a raw value (a string from a flag or the environment, anything from the config file) into T. */
  parse(raw: unknown): T;
  /** How the default is shown in `--help`. (Method syntax keeps groups of mixed T assignable.) */
  show?(value: T): string;
  /** True for values only the config file can hold (lists, maps). */
  readonly fileOnly?: boolean;
  /** True when the value holds a secret (a password, token or hash): error messages never show it. */
  readonly secret?: boolean;
  /** True when an empty environment variable is a value (e.g. '' = off), not the same as unset. */
  readonly emptyEnvIsValue?: boolean;
  /** True when the flag may be given several times: `parse` then gets the values as an array (once alone, a string). */
  readonly repeatable?: boolean;
}

/** A named group of options, e.g. the web server's. */
export type OptionGroup = Readonly<Record<string, OptionSpec<unknown>>>;

/** The parsed values of a group. */
export type OptionValues<G extends OptionGroup> = { readonly [K in keyof G]: G[K] extends OptionSpec<infer T> ? T : never };

/** Declares an option group, keeping its exact types for OptionValues. */
export function defineOptions<G extends OptionGroup>(group: G): G {
  return group;
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}

/** A string, optionally constrained by a pattern. */
export function str(opts: { pattern?: RegExp; allowed?: string } = {}): (raw: unknown) => string {
  return (raw) => {
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error('expected a string');
    const s = String(raw);
    if (opts.pattern && !opts.pattern.test(s)) throw new Error(`expected ${opts.allowed ?? opts.pattern.source}`);
    return s;
  };
}

/** An integer within [min, max]. */
export function int(opts: { min?: number; max?: number } = {}): (raw: unknown) => number {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** A Prometheus-style duration in milliseconds (`15s`, `5m`), within [min, max]. */
export function duration(opts: { min?: number; max?: number } = {}): (raw: unknown) => number {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return (raw) => {
    const ms = typeof raw === 'string' ? parseDuration(raw.trim()) : undefined;
    const range = `from ${formatDuration(min)}${max < Number.MAX_SAFE_INTEGER ? ` to ${formatDuration(max)}` : ''}`;
    if (ms === undefined) throw new Error(`expected a duration such as 15s, 5m or 1h30m, ${range}`);
    if (ms < min || ms > max) throw new Error(`expected a duration ${range}`);
    return ms;
  };
}

/** `true/false/1/0/yes/no`. */
export function bool(): (raw: unknown) => boolean {
  return (raw) => {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new Error('expected true or false');
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(values: readonly T[]): (raw: unknown) => T {
  return (raw) => {
    const s = String(raw).trim();
    if (!(values as readonly string[]).includes(s)) throw new Error(`expected one of ${values.join(', ')}`);
    return s as T;
  };
}

/** A regular expression, anchored like node_exporter's patterns are meant to be written; '' means none. */
export function regex(): (raw: unknown) => RegExp | undefined {
  return (raw) => {
    const s = String(raw);
    if (s === '') return undefined;
    try {
      return new RegExp(s);
    } catch (err) {
      throw new Error(`expected a regular expression (${(err as Error).message})`);
    }
  };
}

/** `host:port`, `:port` or `[v6]:port`. */
export function hostPort(): (raw: unknown) => { host: string; port: number } {
  return (raw) => {
    const s = String(raw).trim();
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) throw new Error('expected host:port such as 127.0.0.1:9464, :9464 or [::1]:9464 (port 0-65535)');
    return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
  };
}

/** A byte size: a plain number of bytes or with a unit (`512MB`, `2GiB`). 0 means no limit. */
export function bytes(): (raw: unknown) => number {
  const units: Record<string, number> = {
    '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  };
  return (raw) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(String(raw).trim());
    const unit = m ? units[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new Error('expected a size such as 0, 500000000, 512MB or 2GiB');
    return Math.round(Number(m[1]) * unit);
  };
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to a mistyped `name`, for a "did you mean" hint: the nearest by
 * edit distance if it is near enough to be a typo, else one that contains the name or
 * its last part (`--tls-cert-file` → `web.tls-cert-file`); undefined when none is close.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  if (name === '' || name.length > 100) return undefined;
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (!best || d < best.d) best = { c, d };
  }
  if (best && best.d <= Math.max(2, Math.floor(name.length / 4))) return best.c;
  const tail = name.split('.').pop()!;
  if (tail.length < 4) return undefined;
  return candidates.find((c) => c.endsWith(`.${name}`) || c.endsWith(`.${tail}`) || c.endsWith(`-${tail}`));
}

/** Shows a duration default. */
export const showDuration = (ms: number): string => formatDuration(ms);
/** Shows a regex default. */
export const showRegex = (r: RegExp | undefined): string => (r ? r.source : '');

/** Shows a raw value in an error message. */
export { describe as describeRaw };

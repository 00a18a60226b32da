/**
 * The shape of a `larder <command>` and the parsing every command shares: its own
 * flags first, then Larder's options (`--storage.*`, `--config.file`, …) through
 * loadConfig, so a command reads the store exactly as `larder serve` would.
 * Exit codes: 0 success, 1 the operation failed, 2 bad usage.
 */
import { ConfigError, loadConfig, type Config } from '../config.js';
import { closestName } from '../options/option.js';
import { parseDuration } from '../duration.js';
import type { OutStream } from './output.js';

/** Bad usage: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation failed: exit code 1 (the default for any other error). */
export class FailedError extends Error {
  override readonly name = 'FailedError';
}

/**
 * What an interrupted command (SIGINT, SIGTERM) must wait for before it exits: work that
 * holds the store's lock outside the main thread (backup's VACUUM INTO in a worker),
 * which an exit would cut off with the lock folder left behind.
 */
export const interruptGuard: { wait?: () => Promise<unknown> } = {};

/** One flag of a command. */
export interface FlagSpec {
  /** Without the dashes. */
  readonly name: string;
  /** Boolean flags take no value. */
  readonly boolean?: boolean;
  /** Shown in --help, after the flag (e.g. `DURATION`). */
  readonly value?: string;
  readonly help: string;
}

/** What a command's run() gets. */
export interface CommandContext {
  /** The command's own flags: name → value ('true' for booleans); repeated flags keep the last. */
  readonly flags: ReadonlyMap<string, string>;
  /** Bare words after the flags. */
  readonly words: readonly string[];
  /** Larder's configuration from the remaining flags, the environment and --config.file. */
  readonly config: Config;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
}

/** A `larder <name>` command. */
export interface Command {
  readonly name: string;
  /** One line for `larder --help`. */
  readonly summary: string;
  /** Usage line(s) and a paragraph, for `larder <name> --help`. */
  readonly usage: string;
  readonly flags: readonly FlagSpec[];
  /** Whether Larder's storage options apply (adds them to --help). @default true */
  readonly storageOptions?: boolean;
  /** Exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** The --help text of a command. */
export function commandHelp(c: Command): string {
  const lines = [c.usage.trimEnd(), '', 'Options:'];
  for (const f of [...c.flags, { name: 'help', boolean: true, help: 'show this help' }]) {
    lines.push(`  --${f.name}${f.boolean ? '' : ` ${(f as FlagSpec).value ?? 'VALUE'}`}`, `      ${f.help}`);
  }
  if (c.storageOptions !== false) {
    lines.push(
      '',
      'The store is chosen by the options of larder serve: --storage.engine [MONITORING_DB],',
      '--storage.sqlite-path [SQLITE_DB_PATH], --storage.database-url [DATABASE_URL], --storage.db-host,',
      '-port, -name, -user, -password [DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD], and',
      '--config.file [LARDER_CONFIG]; "larder serve --help" lists them all.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Splits argv into the command's flags and the rest (for loadConfig); throws UsageError on a bad flag of the command. */
export function splitCommandArgs(c: Command, argv: readonly string[]): { flags: Map<string, string>; rest: string[] } {
  const byName = new Map(c.flags.map((f) => [f.name, f]));
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = byName.get(name);
    if (spec === undefined) {
      rest.push(arg);
      continue;
    }
    if (spec.boolean) {
      if (eq > 0 && !['true', 'false'].includes(arg.slice(eq + 1))) throw new UsageError(`--${name} takes no value (or =true / =false)`);
      if (eq < 0 || arg.slice(eq + 1) === 'true') flags.set(name, 'true');
      else flags.delete(name);
    } else if (eq > 0) flags.set(name, arg.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`--${name} needs a value (--${name}=${spec.value ?? 'VALUE'})`);
      flags.set(name, v);
      i++;
    }
  }
  return { flags, rest };
}

/** Parses the arguments of command `c`: its own flags, then Larder's options. ConfigError → UsageError. */
export function parseCommandArgs(c: Command, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { flags: Map<string, string>; words: string[]; config: Config } {
  const { flags, rest } = splitCommandArgs(c, argv);
  try {
    const { config, words } = loadConfig({ argv: rest, env });
    return { flags, words, config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const m = /^unknown option --(\S+?)(?: \(did you mean --\S+\?\))?; /.exec(e.message);
    if (m) {
      const near = closestName(m[1]!, c.flags.map((f) => f.name));
      const hint = near !== undefined ? ` (did you mean --${near}?)` : e.message.includes('did you mean') ? e.message.slice(e.message.indexOf(' ('), e.message.indexOf(';')) : '';
      throw new UsageError(`unknown option --${m[1]}${hint}; larder ${c.name} --help lists its options`);
    }
    throw new UsageError(e.message);
  }
}

/** A duration flag (`6h`, `90s`), in ms; UsageError names the flag. */
export function durationFlag(name: string, text: string, opts: { min?: number } = {}): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < (opts.min ?? 1)) throw new UsageError(`invalid duration ${JSON.stringify(text.slice(0, 40))} for --${name}: expected a Prometheus duration such as 30s, 5m, 6h or 7d`);
  return ms;
}

/** A time flag: RFC 3339, epoch seconds, or `now` / `now-6h`; epoch ms. */
export function timeFlag(name: string, text: string, nowMs: number): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^now-(.+)$/.exec(t);
  if (rel) return nowMs - durationFlag(name, rel[1]!);
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const ms = Date.parse(t);
  if (!/^\d{4}-\d\d-\d\d/.test(t) || Number.isNaN(ms)) throw new UsageError(`invalid time ${JSON.stringify(t.slice(0, 40))} for --${name}: expected RFC 3339 (2026-01-10T12:00:00Z), epoch seconds, now or now-6h`);
  return ms;
}

/** A positive integer flag. */
export function intFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`invalid value ${JSON.stringify(text.slice(0, 40))} for --${name}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** One of the allowed values. */
export function choiceFlag<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`invalid value ${JSON.stringify(text.slice(0, 40))} for --${name}: expected one of ${allowed.join(', ')}`);
  return text as T;
}

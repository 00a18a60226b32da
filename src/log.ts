/**
 * A small leveled logger; `once` keys keep a repeating failure to one line until it clears.
 * Lines are logfmt (`ts=… level=… msg="…"`). By default debug and info go to stdout and
 * warn and error to stderr, the split PM2 (out/error log files), Docker and most process
 * managers expect; under systemd each line also carries its syslog priority for journald.
 */
import { fstatSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where log lines go (with their level); injectable so tests can capture them. */
export type LogSink = (line: string, level: LogLevel) => void;

/** syslog priorities (RFC 5424): debug 7, informational 6, warning 4, error 3. */
const SYSLOG_PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/**
 * True when file descriptor `fd` is the journald stream systemd connected: `JOURNAL_STREAM`
 * holds its `device:inode`, and a child that inherited the variable but writes elsewhere
 * must not add prefixes (https://www.freedesktop.org/software/systemd/man/systemd.exec.html#%24JOURNAL_STREAM).
 */
function isJournalStream(fd: number, journalStream: string | undefined): boolean {
  if (!journalStream) return false;
  try {
    const st = fstatSync(fd);
    return journalStream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/**
 * The default sink: debug and info lines to stdout, warn and error to stderr. When a stream
 * is journald's, each line starts with `<priority>` (systemd's SyslogLevelPrefix), so
 * `journalctl -p warning` finds the warnings.
 */
export function standardStreamsSink(env: Readonly<Record<string, string | undefined>> = process.env): LogSink {
  const journal = env['JOURNAL_STREAM'];
  const out = { stream: process.stdout, prefixed: isJournalStream(1, journal) };
  const err = { stream: process.stderr, prefixed: isJournalStream(2, journal) };
  return (line, level) => {
    const to = LEVELS[level] >= LEVELS.warn ? err : out;
    to.stream.write(`${to.prefixed ? `<${SYSLOG_PRIORITY[level]}>` : ''}${line}\n`);
  };
}

/** A logger with a level, optional fields and once-per-condition warnings. */
export class Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LogSink = standardStreamsSink(),
    private readonly component = '',
    // shared with children, so a condition logged by one is not repeated by a sibling
    private readonly onceKeys = new Set<string>(),
  ) {}

  /** A logger that prefixes every line with `component=<name>` and shares this one's sink and level. */
  child(component: string): Logger {
    return new Logger(this.level, this.sink, component, this.onceKeys);
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }

  /** Logs `msg` at `level` only the first time `key` is seen since it was last cleared. */
  once(key: string, level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (this.onceKeys.has(key)) return;
    this.onceKeys.add(key);
    this.write(level, msg, fields);
  }

  /** Forgets `key`, so the next failure under it is logged again; returns true if it was set. */
  clearOnce(key: string): boolean {
    return this.onceKeys.delete(key);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const parts = [`ts=${new Date().toISOString()}`, `level=${level}`];
    if (this.component) parts.push(`component=${this.component}`);
    parts.push(`msg=${JSON.stringify(msg)}`);
    for (const [k, v] of Object.entries(fields ?? {})) {
      const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
      parts.push(`${k}=${JSON.stringify(text)}`);
    }
    this.sink(parts.join(' '), level);
  }
}

/** A logger that discards everything (for tests that do not look at logs). */
export const silentLogger = new Logger('error', () => {});

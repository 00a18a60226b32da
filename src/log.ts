/** A small leveled logger; `once` keys keep a repeating failure to one line until it clears. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where log lines go; injectable so tests can capture them. */
export type LogSink = (line: string) => void;

/** A logger with a level, optional fields and once-per-condition warnings. */
export class Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly sink: LogSink = (line) => process.stderr.write(line + '\n'),
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
    this.sink(parts.join(' '));
  }
}

/** A logger that discards everything (for tests that do not look at logs). */
export const silentLogger = new Logger('error', () => {});

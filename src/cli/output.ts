/**
 * Terminal output of the CLI: aligned tables, CSV, JSON lines, a small chart, and a
 * progress bar on stderr. A few lines of our own rather than cli-table3/cli-progress:
 * they need no dependency in a package that installs on hosts, and they only ever
 * draw when the stream is a terminal (progress is silent otherwise, tables turn into
 * tab-separated text that pipes well).
 */

/** Where a command writes: process.stdout / process.stderr, or a capture in tests. */
export interface OutStream {
  write(text: string): unknown;
  /** True on a terminal: tables align and progress bars draw only then. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** A cell as text: numbers shortest round-trip, NaN/±Inf as Prometheus writes them. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString('hex')}'`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Width of a string in terminal columns (no wide-character support: labels are ASCII in practice). */
function width(s: string): number {
  return [...s].length;
}

/** An aligned table with a header rule; numbers right-aligned. */
export function renderTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const text = rows.map((r) => r.map(cellText));
  const widths = columns.map((c, i) => Math.max(width(c), ...text.map((r) => width(r[i] ?? ''))));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'));
  const pad = (s: string, i: number): string => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => cells.map(pad).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '─'.repeat(w)).join('  '), ...text.map(line)].join('\n') + '\n';
}

/** Tab-separated rows with a header: the table's form when stdout is not a terminal. */
export function renderTsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const clean = (s: string): string => s.replace(/[\t\n\r]/g, ' ');
  return [columns.map(clean).join('\t'), ...rows.map((r) => r.map((v) => clean(cellText(v))).join('\t'))].join('\n') + '\n';
}

/** RFC 4180 CSV. */
export function renderCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [columns.map(q).join(','), ...rows.map((r) => r.map((v) => q(cellText(v))).join(','))].join('\r\n') + '\r\n';
}

/** One JSON object per row (NaN and ±Inf as strings, as Prometheus' API writes values). */
export function renderJson(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const val = (v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? cellText(v) : typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? cellText(v) : v);
  return rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, val(r[i])])))).join('\n') + (rows.length ? '\n' : '');
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A line per series: name, a bar per point scaled to the shared min..max, then the range. */
export function renderChart(series: readonly { name: string; values: readonly number[] }[], maxWidth = 80): string {
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  if (finite.length === 0) return 'no finite values to chart\n';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of finite) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  const out: string[] = [`min ${cellText(lo)}  max ${cellText(hi)}`];
  for (const s of series) {
    // Down-sample to the width by averaging neighbouring points.
    const n = Math.min(maxWidth, s.values.length);
    const bars: string[] = [];
    for (let i = 0; i < n; i++) {
      const from = Math.floor((i * s.values.length) / n);
      const to = Math.max(from + 1, Math.floor(((i + 1) * s.values.length) / n));
      const part = s.values.slice(from, to).filter(Number.isFinite);
      if (part.length === 0) {
        bars.push(' ');
        continue;
      }
      const v = part.reduce((a, b) => a + b, 0) / part.length;
      bars.push(BLOCKS[span === 0 ? 3 : Math.min(7, Math.floor(((v - lo) / span) * 8))]!);
    }
    out.push(`${bars.join('')}  ${s.name}`);
  }
  return out.join('\n') + '\n';
}

/** Bytes as B / KiB / MiB / GiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Seconds as `1h02m`, `3m05s`, `12s`. */
export function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/**
 * A progress bar redrawn in place on a terminal (at most 10 times a second), with rate
 * and ETA; on anything else it writes nothing.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private done = 0;
  private readonly active: boolean;

  constructor(
    private readonly stream: OutStream,
    private readonly label: string,
    private total: number,
    private readonly unit: (n: number) => string = String,
  ) {
    this.active = stream.isTTY === true;
  }

  /** Sets the total (when it becomes known). */
  setTotal(total: number): void {
    this.total = total;
  }

  /** Sets the amount done and redraws if due. */
  update(done: number, force = false): void {
    this.done = done;
    if (!this.active) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const cols = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 60));
    const full = Math.round(frac * cols);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    this.stream.write(`\r${this.label} [${'█'.repeat(full)}${'░'.repeat(cols - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.unit(done)}/${this.unit(this.total)} ETA ${formatEta(eta)}\x1b[K`);
  }

  /** Adds to the amount done. */
  tick(n: number): void {
    this.update(this.done + n);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.active) return;
    this.update(this.done, true);
    this.stream.write('\n');
  }
}

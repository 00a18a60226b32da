/**
 * Unit formatting for axes, legends and tables. Pure (no DOM), so the unit tests
 * in test/ui/ run it under Node.
 */

/** The units a chart or a table cell can be in. */
export type Unit = 'bytes' | 'bytes/s' | 'seconds' | 'percent' | 'per-second' | 'number';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** Up to 3 significant digits, without trailing zeros ("1.5", "12.3", "512"). */
function short(n: number): string {
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return String(Number(n.toFixed(digits)));
}

/** `1536` → `1.5 KiB`: powers of 1024, as `free -h` and `df -h` show sizes. */
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${short(v)} ${BYTE_UNITS[i]}`;
}

/** `0.0042` → `4.2 ms`; `93784` → `1d 2h`: the two largest parts from days down. */
export function formatSeconds(s: number): string {
  const abs = Math.abs(s);
  if (abs === 0) return '0 s';
  if (abs < 1e-6) return `${short(s * 1e9)} ns`;
  if (abs < 1e-3) return `${short(s * 1e6)} µs`;
  if (abs < 1) return `${short(s * 1e3)} ms`;
  if (abs < 60) return `${short(s)} s`;
  const sign = s < 0 ? '-' : '';
  const parts: [number, string][] = [
    [86400 * 365, 'y'],
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  let rest = Math.round(abs);
  const out: string[] = [];
  for (const [size, name] of parts) {
    if (rest >= size || out.length > 0) {
      const q = Math.floor(rest / size);
      rest -= q * size;
      if (q > 0 || out.length > 0) out.push(`${q}${name}`);
      if (out.length === 2) break;
    }
  }
  return sign + out.filter((p) => !/^0/.test(p)).join(' ');
}

/** `1234567` → `1.23M`: powers of 1000. */
export function formatNumber(n: number): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0 && Math.abs(v) < 0.01 && v !== 0) return v.toExponential(1);
  return `${short(v)}${SI[i]}`;
}

/** Formats a value in a unit; NaN and ±Inf as Prometheus writes them, null as a dash. */
export function formatValue(v: number | null | undefined, unit: Unit): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'bytes':
      return formatBytes(v);
    case 'bytes/s':
      return `${formatBytes(v)}/s`;
    case 'seconds':
      return formatSeconds(v);
    case 'percent':
      return `${short(v * 100)}%`;
    case 'per-second':
      return `${formatNumber(v)}/s`;
    case 'number':
      return formatNumber(v);
  }
}

/** Parses a sample value as the API encodes it ("NaN", "+Inf", "-Inf", decimals). */
export function parseSampleValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** A series' labels as Prometheus writes them: `name{a="1", b="2"}`, the name first. */
export function formatLabels(metric: Readonly<Record<string, string>>): string {
  const name = metric['__name__'] ?? '';
  const rest = Object.keys(metric)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(metric[k])}`);
  return rest.length ? `${name}{${rest.join(', ')}}` : name === '' ? '{}' : name;
}

/** Fills `{{label}}` in a legend template from a series' labels (missing labels read empty). */
export function fillTemplate(template: string, metric: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, name: string) => metric[name] ?? '').trim();
}

/** `1:6: parse error: …` → line 1, column 6 (1-based), as the engine names a position (the API puts `invalid parameter "query": ` before it). */
export function errorPosition(message: string): { line: number; col: number } | undefined {
  const m = /^(?:invalid parameter "query": )?(\d+):(\d+):/.exec(message);
  return m ? { line: Number(m[1]), col: Number(m[2]) } : undefined;
}

/**
 * The unit a query's result is most likely in, from the metric names it reads, as
 * Prometheus' naming conventions put the unit last: `_bytes`, `_seconds`, `_ratio`;
 * a rate of a `_bytes_total` counter is bytes/s. Anything else is a plain number.
 */
export function unitOf(query: string): Unit {
  const names = query.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  const perSecond = /\b(?:rate|irate|deriv)\s*\(/.test(query);
  if (/histogram_quantile\s*\(/.test(query) && names.some((n) => /_seconds_bucket$/.test(n))) return 'seconds';
  if (names.some((n) => /_bytes(_total)?$/.test(n))) return perSecond ? 'bytes/s' : 'bytes';
  if (names.some((n) => /_seconds$/.test(n)) && !perSecond) return 'seconds';
  if (names.some((n) => /_ratio$/.test(n))) return 'percent';
  return 'number';
}

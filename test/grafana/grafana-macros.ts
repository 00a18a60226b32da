/**
 * Grafana's variable and macro expansion for the SQL data sources, as ../shared/GRAFANA.md
 * documents it (we cannot run Grafana here): the frontend replaces variables, then the
 * PostgreSQL backend replaces `$__interval_ms`, `$__interval`, `$__unixEpochFrom()`,
 * `$__unixEpochTo()` and the macros; the SQLite plugin only `$__unixEpochGroupSeconds`.
 * An unknown `$__x(...)` macro is an error, as in Grafana.
 */

/** A dashboard time range and what Grafana derives from it. */
export interface GrafanaRange {
  readonly fromMs: number;
  readonly toMs: number;
  /** `$__interval_ms`: Grafana's interval for the panel (range / max data points, rounded). */
  readonly intervalMs: number;
}

/** Grafana's interval for a range and a panel of `maxDataPoints` (kbn.roundInterval's steps, simplified to whole ms). */
export function rangeOf(fromMs: number, toMs: number, maxDataPoints = 1000): GrafanaRange {
  const raw = (toMs - fromMs) / maxDataPoints;
  const steps = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000];
  const intervalMs = steps.find((s) => s >= raw) ?? steps[steps.length - 1]!;
  return { fromMs, toMs, intervalMs };
}

const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Grafana's text interval (`1m`, `30s`, `2h`). */
function intervalText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Multi-value variables as the SQL data sources format them: quoted, comma-separated. */
function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
}

/** Frontend: dashboard variables and the global time variables. */
export function expandVariables(sql: string, r: GrafanaRange, vars: Readonly<Record<string, readonly string[]>>): string {
  let out = sql.replace(/\$\{__from:date:seconds\}/g, String(Math.floor(r.fromMs / 1000))).replace(/\$\{__to:date:seconds\}/g, String(Math.floor(r.toMs / 1000)));
  out = out.replace(/\$__from\b/g, String(r.fromMs)).replace(/\$__to\b/g, String(r.toMs)).replace(/\$__interval_ms\b/g, String(r.intervalMs)).replace(/\$__interval\b/g, intervalText(r.intervalMs));
  for (const [name, values] of Object.entries(vars)) out = out.replace(new RegExp(`\\$\\{${name}(:[a-z]+)?\\}|\\$${name}\\b`, 'g'), sqlList(values));
  return out;
}

function macroArgs(args: string): string[] {
  return args.split(',').map((a) => a.trim());
}

function seconds(text: string): number {
  const m = /^'?(\d+)(s|m|h|d)'?$/.exec(text.trim());
  if (!m) throw new Error(`bad interval ${text}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** PostgreSQL data source: variables, then the backend's interval values and macros. */
export function expandPostgres(sql: string, r: GrafanaRange, vars: Readonly<Record<string, readonly string[]>>): string {
  let out = expandVariables(sql, r, vars);
  out = out.replace(/\$__unixEpochFrom\(\)/g, String(Math.floor(r.fromMs / 1000))).replace(/\$__unixEpochTo\(\)/g, String(Math.floor(r.toMs / 1000)));
  out = out.replace(/\$__(\w+)\(([^)]*)\)/g, (_m, name: string, args: string) => {
    const a = macroArgs(args);
    switch (name) {
      case 'time': return `${a[0]} AS "time"`;
      case 'timeEpoch': return `extract(epoch from ${a[0]}) as "time"`;
      case 'timeFilter': return `${a[0]} BETWEEN '${rfc3339(r.fromMs)}' AND '${rfc3339(r.toMs)}'`;
      case 'timeFrom': return `'${rfc3339(r.fromMs)}'`;
      case 'timeTo': return `'${rfc3339(r.toMs)}'`;
      case 'timeGroup': return `floor(extract(epoch from ${a[0]})/${seconds(a[1]!)})*${seconds(a[1]!)}`;
      case 'timeGroupAlias': return `floor(extract(epoch from ${a[0]})/${seconds(a[1]!)})*${seconds(a[1]!)} AS "time"`;
      case 'unixEpochFilter': return `${a[0]} >= ${Math.floor(r.fromMs / 1000)} AND ${a[0]} <= ${Math.floor(r.toMs / 1000)}`;
      case 'unixEpochGroup': return `floor((${a[0]})/${seconds(a[1]!)})*${seconds(a[1]!)}`;
      case 'unixEpochGroupAlias': return `floor((${a[0]})/${seconds(a[1]!)})*${seconds(a[1]!)} AS "time"`;
      default: throw new Error(`unknown macro $__${name}(${args})`);
    }
  });
  if (/\$__\w+/.test(out)) throw new Error(`unexpanded Grafana variable in: ${/\$__\w+/.exec(out)![0]}`);
  return out;
}

/** SQLite data source (frser-sqlite-datasource): variables, then its one macro. */
export function expandSqlite(sql: string, r: GrafanaRange, vars: Readonly<Record<string, readonly string[]>>): string {
  let out = expandVariables(sql, r, vars);
  out = out.replace(/\$__unixEpochGroupSeconds\(([^,()]+),\s*(\d+)(?:,\s*NULL)?\)/g, (_m, c: string, n: string) => `cast((${c} / ${n}) as int) * ${n}`);
  // Any other macro reaches SQLite verbatim and fails there; fail here with a clearer message.
  if (/\$__\w+/.test(out)) throw new Error(`not a SQLite data source macro: ${/\$__\w+/.exec(out)![0]}`);
  return out;
}

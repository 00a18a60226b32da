/**
 * The dashboards' single source of truth: each panel once (title, description, unit,
 * thresholds), with its query for every source: PromQL for Prometheus, and one SQL
 * description that `sql-query.ts` turns into PostgreSQL and SQLite SQL.
 */

/** The data sources a dashboard is generated for. */
export type Source = 'prometheus' | 'postgresql' | 'sqlite';
export const SOURCES: readonly Source[] = ['prometheus', 'postgresql', 'sqlite'];

/** Grafana plugin ids of the sources. */
export const PLUGIN_ID: Readonly<Record<Source, string>> = {
  prometheus: 'prometheus',
  postgresql: 'grafana-postgresql-datasource',
  sqlite: 'frser-sqlite-datasource',
};

/** One step of a panel's thresholds; the first has `value: null` (the base). */
export interface Threshold {
  readonly value: number | null;
  readonly color: string;
}

/** A PromQL target. */
export interface PromTarget {
  readonly expr: string;
  /** Grafana legend, e.g. `{{mode}}`. */
  readonly legend?: string;
}

/**
 * What one SQL target computes, per time bucket:
 * - `gauge`: the mean of each series over the bucket;
 * - `rate`: each counter's increase in the bucket per second (resets handled);
 * - `increase`: each counter's increase in the bucket;
 * - `quantile`: a histogram's stored p50/p95/p99 (the highest in the bucket).
 * Then the series are combined per bucket and `by` group with `agg`, or, with `ratio`,
 * as `sum(series matching num) / sum(series matching den)`.
 */
export interface SqlTarget {
  readonly kind: 'gauge' | 'rate' | 'increase' | 'quantile';
  /** Metric names read (the histogram's base name for `quantile`). */
  readonly metrics: readonly string[];
  /** Label equalities every series must satisfy. */
  readonly match?: Readonly<Record<string, string>>;
  /** Label values every series must not have. */
  readonly notIn?: Readonly<Record<string, readonly string[]>>;
  /** Labels the result is split by (each becomes a Grafana label). */
  readonly by?: readonly string[];
  /** How the series of a group are combined (`count`: how many series). @default 'sum' */
  readonly agg?: 'sum' | 'avg' | 'max' | 'min' | 'count';
  /** For `quantile`. */
  readonly quantile?: 'p50' | 'p95' | 'p99';
  /**
   * Instead of `agg`: the sums of the series each side selects, divided (`/`, the default)
   * or subtracted (`-`); `oneMinus` gives `1 - num / den`.
   */
  readonly ratio?: { readonly num: SeriesFilter; readonly den: SeriesFilter; readonly op?: '/' | '-'; readonly oneMinus?: boolean };
  /** Multiplies the value (e.g. 100 for percent, 1/cores). @default 1 */
  readonly scale?: number;
  /** Legend: a fixed name, or `{{label}}` naming a `by` label. */
  readonly legend?: string;
}

/** Selects series by name and label values, for a ratio's sides. */
export interface SeriesFilter {
  readonly metric: string;
  readonly match?: Readonly<Record<string, string>>;
  readonly notIn?: Readonly<Record<string, readonly string[]>>;
  /** SQL LIKE patterns, e.g. `{ status_code: '5%' }` (PromQL `=~"5.."`). */
  readonly like?: Readonly<Record<string, string>>;
  /** Count the selected series instead of adding their values (e.g. CPUs). */
  readonly count?: boolean;
}

/** One panel. */
export interface PanelDef {
  readonly title: string;
  readonly description: string;
  readonly type: 'timeseries' | 'stat' | 'gauge' | 'bargauge';
  /** A Grafana unit id: `percentunit`, `bytes`, `s`, `reqps`, `ops`, `short`, `Bps`, … */
  readonly unit: string;
  readonly thresholds?: readonly Threshold[];
  readonly min?: number;
  readonly max?: number;
  /** Width in grid columns (24 = full). @default 12 (timeseries), 6 (others) */
  readonly width?: number;
  /** Height in grid rows. @default 8 (timeseries), 4 (others) */
  readonly height?: number;
  /** For stat/gauge: how the series is reduced. @default 'lastNotNull' */
  readonly reduce?: 'lastNotNull' | 'sum' | 'max' | 'mean';
  readonly prometheus: readonly PromTarget[];
  readonly sql: readonly SqlTarget[];
}

/** A row of panels. */
export interface RowDef {
  readonly title: string;
  readonly panels: readonly PanelDef[];
}

/** A dashboard, for every source. */
export interface DashboardDef {
  /** Short stable key: `host` → uids `larder-host-prom`, `larder-host-pg`, `larder-host-sqlite`. */
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** Metric whose series list the job/instance variables (Prometheus: `label_values(<m>, job)`). */
  readonly variableMetric: string;
  /** Use `node_uname_info{nodename}` as the instance picker's text. */
  readonly nodename?: boolean;
  readonly rows: readonly RowDef[];
  /** Exceptions to grafana/dashboard-linter rules on the Prometheus dashboard, each with a reason. */
  readonly lint?: Readonly<Record<string, { readonly reason: string; readonly panels: readonly string[] }>>;
}

/** Green base, amber and red steps at the given values. */
export function traffic(amber: number, red: number): readonly Threshold[] {
  return [
    { value: null, color: 'green' },
    { value: amber, color: 'orange' },
    { value: red, color: 'red' },
  ];
}

/**
 * Business metrics: counters and gauges for domain events (a user registered, a
 * recipe was created), declared from code with typed labels or from the config file,
 * bounded by the same series guard as every other application metric.
 */
import { assertLabelNames, assertMetricName } from '../guard/names.js';
import type { GuardedCounter, GuardedGauge, LabelSet, SeriesGuard } from '../guard/series-guard.js';

/** A business metric as the config file declares it. */
export interface BusinessMetricDefinition {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  /** A full sentence. */
  readonly help: string;
  /** @default [] */
  readonly labels?: readonly string[];
}

/**
 * The seed's business metrics (the recipe site's). Declared only when asked
 * (`--business-metrics.seed`), or by the service that updates them: a host that is not
 * the recipe site would otherwise show them at 0 and could not declare its own
 * `searches_total` with other labels.
 */
export const SEED_BUSINESS_METRICS: readonly BusinessMetricDefinition[] = [
  { name: 'user_registrations_total', type: 'counter', help: 'Users who registered.' },
  { name: 'recipes_created_total', type: 'counter', help: 'Recipes created.', labels: ['category'] },
  { name: 'searches_total', type: 'counter', help: 'Searches run.', labels: ['kind'] },
  { name: 'user_engagement_score', type: 'gauge', help: 'Engagement score of the user base (the service decides how it is computed).' },
];

/** A declared business counter. */
export interface BusinessCounter<L extends string = string> {
  readonly name: string;
  /** Adds `by` (default 1). */
  inc(labels?: LabelSet<L>, by?: number): void;
}

/** A declared business gauge. */
export interface BusinessGauge<L extends string = string> {
  readonly name: string;
  set(labels: LabelSet<L> | undefined, value: number): void;
  inc(labels?: LabelSet<L>, by?: number): void;
  dec(labels?: LabelSet<L>, by?: number): void;
}

type Declared = { readonly def: BusinessMetricDefinition; readonly source: string | undefined } & ({ readonly kind: 'counter'; readonly metric: GuardedCounter<string> } | { readonly kind: 'gauge'; readonly metric: GuardedGauge<string> });

/** The business metrics of one registry. */
export class BusinessMetrics {
  private readonly declared = new Map<string, Declared>();
  /** Where the declarations being made come from (set by declareAll). */
  private source: string | undefined;

  constructor(private readonly guard: SeriesGuard) {}

  /**
   * Declares a counter. Declaring the same name again with the same type and labels
   * returns the existing one (so a config-file declaration and a code one agree);
   * anything else throws, naming the metric.
   */
  counter<L extends string = never>(name: string, help: string, labels: readonly L[] = []): BusinessCounter<L> {
    if (!name.endsWith('_total')) throw new Error(`business counter ${JSON.stringify(name)}: counter names end in _total`);
    const d = this.declare({ name, type: 'counter', help, labels });
    if (d.kind !== 'counter') throw new Error(`business metric ${name} is a ${d.kind}, not a counter`);
    const metric = d.metric;
    return { name, inc: (l, by = 1) => {
      if (!(by >= 0)) throw new Error(`business counter ${name}: cannot add ${by}; counters only go up`);
      metric.inc(l, by);
    } };
  }

  /** Declares a gauge (same rules as `counter`). */
  gauge<L extends string = never>(name: string, help: string, labels: readonly L[] = []): BusinessGauge<L> {
    const d = this.declare({ name, type: 'gauge', help, labels });
    if (d.kind !== 'gauge') throw new Error(`business metric ${name} is a ${d.kind}, not a gauge`);
    const metric = d.metric;
    return { name, set: (l, v) => metric.set(l, v), inc: (l, by = 1) => metric.inc(l, by), dec: (l, by = 1) => metric.dec(l, by) };
  }

  /**
   * Declares every definition (from the config file); throws on the first bad one, naming it.
   * `source` says where they come from (e.g. `the config file's business-metrics`), so that a
   * later clashing declaration is told where the first one was made and how to change it.
   */
  declareAll(defs: readonly BusinessMetricDefinition[], source?: string): void {
    const before = this.source;
    this.source = source;
    try {
      for (const def of defs) {
        if (def.type === 'counter') this.counter(def.name, def.help, def.labels ?? []);
        else this.gauge(def.name, def.help, def.labels ?? []);
      }
    } finally {
      this.source = before;
    }
  }

  /** Adds to a declared counter by name (for metrics declared in the config file). */
  inc(name: string, labels?: Readonly<Record<string, string | number>>, by = 1): void {
    const d = this.lookup(name);
    if (d.kind === 'counter') {
      if (!(by >= 0)) throw new Error(`business counter ${name}: cannot add ${by}; counters only go up`);
      d.metric.inc(labels, by);
    } else d.metric.inc(labels, by);
  }

  /** Sets a declared gauge by name. */
  set(name: string, labels: Readonly<Record<string, string | number>> | undefined, value: number): void {
    const d = this.lookup(name);
    if (d.kind !== 'gauge') throw new Error(`business metric ${name} is a counter; use inc()`);
    d.metric.set(labels, value);
  }

  /** Names of the declared metrics. */
  names(): string[] {
    return [...this.declared.keys()];
  }

  private lookup(name: string): Declared {
    const d = this.declared.get(name);
    if (!d) throw new Error(`business metric ${name} is not declared; declare it in code or under business-metrics in the config file (declared: ${this.names().join(', ') || 'none'})`);
    return d;
  }

  private declare(def: BusinessMetricDefinition): Declared {
    const labels = def.labels ?? [];
    const existing = this.declared.get(def.name);
    if (existing) {
      const same = existing.def.type === def.type && (existing.def.labels ?? []).join(',') === labels.join(',');
      if (!same) {
        const by = existing.source ? ` by ${existing.source}` : '';
        throw new Error(
          `business metric ${def.name} is already declared${by} as a ${existing.def.type} with labels [${(existing.def.labels ?? []).join(', ')}]; ` +
            `declare it with the same type and labels, or use another name`,
        );
      }
      return existing;
    }
    const config = { name: def.name, help: def.help, labelNames: labels };
    const source = this.source;
    const d: Declared = def.type === 'counter' ? { def, source, kind: 'counter', metric: this.guard.counter(config) } : { def, source, kind: 'gauge', metric: this.guard.gauge(config) };
    this.declared.set(def.name, d);
    return d;
  }
}

/** Validates the config file's `business-metrics` list; throws naming the entry and field. */
export function parseBusinessMetrics(raw: unknown): BusinessMetricDefinition[] {
  if (!Array.isArray(raw)) throw new Error('expected a list of {name, type: counter|gauge, help, labels}');
  return raw.map((item: unknown, i) => {
    const at = `entry ${i}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Error(`${at}: expected a mapping with name, type, help and optional labels`);
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['name', 'type', 'help', 'labels'].includes(k)) throw new Error(`${at}: unknown key "${k}" (allowed: name, type, help, labels)`);
    if (typeof o['name'] !== 'string' || o['name'] === '') throw new Error(`${at}: name must be a non-empty string`);
    const where = `entry ${i} (${o['name']})`;
    assertMetricName(o['name'], where);
    if (o['type'] !== 'counter' && o['type'] !== 'gauge') throw new Error(`${where}: type must be counter or gauge, got ${JSON.stringify(o['type'])}`);
    const help = o['help'] ?? `Business metric ${o['name']}.`;
    if (typeof help !== 'string') throw new Error(`${where}: help must be a string`);
    const labels = o['labels'] ?? [];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) throw new Error(`${where}: labels must be a list of label names`);
    assertLabelNames(o['name'], labels, o['type']);
    if (o['type'] === 'counter' && !o['name'].endsWith('_total')) throw new Error(`${where}: counter names end in _total`);
    return { name: o['name'], type: o['type'], help, labels: labels as string[] };
  });
}

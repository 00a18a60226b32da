/**
 * How a bundled alert is defined, once: its thresholds with their defaults, the `for`
 * it waits, and functions that build its expression and annotations from the values in
 * force. The generator (rules/generate.ts) writes the defaults to `rules/<pack>.rules.yml`;
 * `bundledRuleFiles` (rules/bundled.ts) builds the same rules with a user's overrides.
 */

/** What a threshold measures, for the docs and for checking an override. */
export type ParamUnit = 'ratio' | 'seconds' | 'bytes/s' | 'count' | 'per second';

/** One overridable number of an alert. */
export interface ParamSpec {
  readonly default: number;
  readonly unit: ParamUnit;
  /** What the number means, one line for the docs. */
  readonly help: string;
  /** Smallest and largest value an override may take (inclusive). */
  readonly min: number;
  readonly max: number;
}

export type Severity = 'critical' | 'warning' | 'info';

/** One bundled alerting rule. */
export interface BundledAlert<P extends string = string> {
  /** The alert name, unique across every pack (also the name an override uses). */
  readonly name: string;
  readonly severity: Severity;
  /** The default `for` ("0s" fires at once). */
  readonly for: string;
  readonly params: { readonly [K in P]: ParamSpec };
  /** The PromQL expression for the given threshold values. */
  expr(p: { readonly [K in P]: number }): string;
  /** Short annotation: Prometheus templating allowed (`{{ $labels.instance }}`). */
  summary(p: { readonly [K in P]: number }): string;
  /** Longer annotation with the value (`{{ $value | humanizePercentage }}`) and the threshold; `forValue` is the `for` in force. */
  description(p: { readonly [K in P]: number }, forValue: string): string;
  /** For the docs: what firing means. */
  readonly meaning: string;
  /** For the docs: what to look at and do. */
  readonly action: string;
}

/** A pack: one rule group, one generated file `rules/<name>.rules.yml`. */
export interface RulePack {
  /** Short name, also the file name and the name `--rules.bundled.disable` takes. */
  readonly name: string;
  /** The group's name in the file. */
  readonly group: string;
  readonly title: string;
  /** What the pack watches and which metrics it needs, for the docs. */
  readonly about: string;
  readonly alerts: readonly BundledAlert[];
}

/** Declares an alert keeping its parameter names typed. */
export function alert<P extends string>(a: BundledAlert<P>): BundledAlert {
  return a as unknown as BundledAlert;
}

/**
 * A threshold written into PromQL or a description: plain decimal, no exponent (PromQL
 * reads `1e-05` too, but people read `0.00001` better), at most 6 significant digits.
 */
export function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const s = String(Number(n.toPrecision(6)));
  return /e/i.test(s) ? n.toFixed(12).replace(/0+$/, '') : s;
}

/** A ratio as a percentage for a description: 0.05 → "5%". */
export function pct(ratio: number): string {
  return `${num(Number((ratio * 100).toPrecision(6)))}%`;
}

/** Seconds for a description: 0.25 → "250ms", 90 → "90s", 7200 → "2h". */
export function secs(s: number): string {
  if (s < 1) return `${num(Number((s * 1000).toPrecision(6)))}ms`;
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${num(s)}s`;
}

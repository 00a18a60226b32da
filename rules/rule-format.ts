/**
 * The shape of a Prometheus rule file (Prometheus' `rulefmt`), as YAML gives it: the
 * bundled rules in this folder are built in this shape, and the alerting loader
 * (src/alerting/) parses users' files into it. Durations stay as Prometheus writes
 * them ("5m", "1h30m"); the loader validates and converts them.
 */

/** An alerting rule: fires for each series `expr` returns, once it has for `for`. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A recording rule: stores `expr`'s result under the name `record`. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export type Rule = AlertingRule | RecordingRule;

/** A group: its rules run in order, on its interval (the global evaluation interval when absent). */
export interface RuleGroup {
  name: string;
  interval?: string;
  /** Most alerts or series a rule may produce; 0 or absent: no limit. */
  limit?: number;
  /** Added to every rule's result, the rule's own labels winning. */
  labels?: Record<string, string>;
  rules: Rule[];
}

/** A whole rule file. */
export interface RuleFile {
  groups: RuleGroup[];
}

/** True when `r` is an alerting rule. */
export function isAlertingRule(r: Rule): r is AlertingRule {
  return 'alert' in r;
}

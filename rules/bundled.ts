/**
 * The bundled rules as the evaluator loads them: one RuleFile per pack, built from the
 * definitions in rules/packs/ with a user's overrides applied.
 */
import type { BundledAlert, RulePack } from './model.js';
import { checkOverrides, checkValue, DEFAULT_OVERRIDES, type BundledOverrides } from './overrides.js';
import { PACKS } from './packs/index.js';
import type { AlertingRule, RuleFile } from './rule-format.js';

/** One pack's rules, and the name to show for it where a rule file's path would be. */
export interface BundledRuleFile {
  /** The pack's name (`host`, `nodejs`, `http`, `clients`, `larder`). */
  readonly pack: string;
  /** Where the rules come from, for messages and /api/v1/rules' `file`: `bundled:<pack>` (the defaults are in rules/<pack>.rules.yml). */
  readonly source: string;
  readonly file: RuleFile;
}

/** The threshold values of an alert: the defaults with `set`'s numbers over them. */
function paramValues(a: BundledAlert, set: Readonly<Record<string, number | string>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, spec] of Object.entries(a.params)) {
    const v = set?.[k];
    out[k] = v === undefined ? spec.default : (checkValue(a, k, v) as number);
  }
  return out;
}

/** An alert as a rule-file rule, with the given parameter values and `for`. */
export function alertingRule(a: BundledAlert, set?: Readonly<Record<string, number | string>>): AlertingRule {
  const p = paramValues(a, set);
  const forValue = set?.['for'] === undefined ? a.for : (checkValue(a, 'for', set['for']) as string);
  const rule: AlertingRule = { alert: a.name, expr: a.expr(p) };
  if (forValue !== '0s' && forValue !== '0') rule.for = forValue;
  rule.labels = { severity: a.severity };
  rule.annotations = { summary: a.summary(p), description: a.description(p, forValue) };
  return rule;
}

/** A pack as a rule file; undefined when every alert of it is disabled. */
function packFile(pack: RulePack, o: BundledOverrides): RuleFile | undefined {
  if (o.disable.includes(pack.name)) return undefined;
  const rules = pack.alerts.filter((a) => !o.disable.includes(a.name)).map((a) => alertingRule(a, o.set[a.name]));
  return rules.length === 0 ? undefined : { groups: [{ name: pack.group, rules }] };
}

/**
 * The bundled rule files with `overrides` applied (the shipped defaults when omitted):
 * none when bundled rules are off, and no file for a pack whose alerts are all disabled.
 * Throws an Error for an unknown alert, pack or parameter, or a value out of range
 * (the options refuse those first, with the option's name).
 */
export function bundledRuleFiles(overrides: BundledOverrides = DEFAULT_OVERRIDES): BundledRuleFile[] {
  checkOverrides(overrides);
  if (!overrides.enabled) return [];
  const out: BundledRuleFile[] = [];
  for (const pack of PACKS) {
    const file = packFile(pack, overrides);
    if (file) out.push({ pack: pack.name, source: `bundled:${pack.name}`, file });
  }
  return out;
}

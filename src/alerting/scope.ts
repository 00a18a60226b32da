/**
 * Scoping the bundled rules to the series this Larder writes: every selector of every
 * expression gets an `instance` matcher for the instances it records (its own
 * `--instance`, and each scrape target's `instance`: `instance="a"` for one,
 * `instance=~"a|b"` for several) and an equality matcher per external label, the way
 * prom-label-proxy enforces a label on a query and the monitoring mixins put their
 * `selector` into every rule. The rule's text is the scoped query, so /api/v1/rules,
 * the generatorURL and a copy into Prometheus show what really runs.
 *
 * Why: several Larders sharing one PostgreSQL each see every host's series; unscoped,
 * each would evaluate the bundled rules over all of them and every alert would fire
 * once per Larder. Users' rule files are not scoped: as in Prometheus (and Thanos
 * Ruler over a global view), a rule means what its expression says. (A recording rule
 * in a scoped file must keep `instance` in its result for a later rule to find it: the
 * bundled packs have none.)
 */
import type { LabelMatcher, Labels } from '../../storage/store.js';
import { matchSeries } from '../../storage/store-common.js';
import type { Expr, VectorSelector } from '../../query/ast.js';
import { exprString } from '../../query/format.js';
import { parseQuery } from '../../query/parse.js';
import type { RuleFile } from '../../rules/rule-format.js';

/** `e` with `add` on every vector selector (a selector's own matcher on the same label is replaced). */
function scoped(e: Expr, add: readonly LabelMatcher[]): Expr {
  switch (e.kind) {
    case 'vector': {
      const v: VectorSelector = { ...e, matchers: [...e.matchers.filter((m) => !add.some((a) => a.label === m.label)), ...add] };
      return v;
    }
    case 'matrix':
      return { ...e, vector: scoped(e.vector, add) as VectorSelector };
    case 'subquery':
    case 'unary':
    case 'paren':
      return { ...e, expr: scoped(e.expr, add) };
    case 'call':
      return { ...e, args: e.args.map((a) => scoped(a, add)) };
    case 'aggregate':
      return { ...e, expr: scoped(e.expr, add), param: e.param === undefined ? undefined : scoped(e.param, add) };
    case 'binary':
      return { ...e, lhs: scoped(e.lhs, add), rhs: scoped(e.rhs, add) };
    default:
      return e;
  }
}

/** `value` as a regular expression that matches exactly it (RE2 and JavaScript alike). */
export function regexQuote(value: string): string {
  return value.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');
}

/**
 * The bundled rules' scope for a Larder: `instance` one of `instances` (its own and
 * its scrape targets', deduplicated; `=` when there is one) and each external label by
 * equality. External labels are added to a scraped series only where it lacks them, so
 * a target exposing one of those labels itself is out of scope.
 */
export function bundledScope(instances: readonly string[], externalLabels: Labels): LabelMatcher[] {
  const own = [...new Set(instances)];
  const instance: LabelMatcher = own.length === 1 ? { label: 'instance', op: '=', value: own[0]! } : { label: 'instance', op: '=~', value: own.sort().map(regexQuote).join('|') };
  return [...Object.entries(externalLabels).map(([label, value]): LabelMatcher => ({ label, op: '=', value })), instance];
}

/**
 * `expr` with `add` on every selector (a selector's own matcher on the same label is
 * replaced), as Prometheus' canonical text. An expression that does not parse is
 * returned as it is, for the rule loader to refuse with its file and line.
 */
export function scopeExpr(expr: string, add: readonly LabelMatcher[]): string {
  if (add.length === 0) return expr;
  let parsed: Expr;
  try {
    parsed = parseQuery(expr);
  } catch {
    return expr;
  }
  return exprString(scoped(parsed, add));
}

/** True when `labels` satisfy every matcher of `scope` (an alert of a rule scoped to it). */
export function inScope(labels: Labels, scope: readonly LabelMatcher[] | undefined): boolean {
  return scope === undefined || matchSeries([{ id: 0, name: '', labels, type: 'untyped', help: '', fingerprint: '', createdMs: 0 }], scope).length === 1;
}

/** A copy of `file` whose every rule's expression is scoped to `matchers` (scopeExpr). */
export function scopeRuleFile(file: RuleFile, matchers: readonly LabelMatcher[]): RuleFile {
  return { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: scopeExpr(r.expr, matchers) })) })) };
}

/**
 * Scoping the bundled rules to the Larder's own series: every selector of every
 * expression gets `instance="<--instance>"` and an equality matcher per external label,
 * the way prom-label-proxy enforces a label on a query and the monitoring mixins put
 * their `selector` into every rule. The rule's text is the scoped query, so
 * /api/v1/rules, the generatorURL and a copy into Prometheus show what really runs.
 *
 * Why: several Larders sharing one PostgreSQL each see every host's series; unscoped,
 * each would evaluate the bundled rules over all of them and every alert would fire
 * once per Larder. Users' rule files are not scoped: as in Prometheus (and Thanos
 * Ruler over a global view), a rule means what its expression says. (A recording rule
 * in a scoped file must keep `instance` in its result for a later rule to find it: the
 * bundled packs have none.)
 */
import type { LabelMatcher, Labels } from '../../storage/store.js';
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

/**
 * `expr` with an equality matcher for each of `labels` on every selector, as Prometheus'
 * canonical text. An expression that does not parse is returned as it is, for the rule
 * loader to refuse with its file and line.
 */
export function scopeExpr(expr: string, labels: Labels): string {
  const add = Object.entries(labels).map(([label, value]): LabelMatcher => ({ label, op: '=', value }));
  if (add.length === 0) return expr;
  let parsed: Expr;
  try {
    parsed = parseQuery(expr);
  } catch {
    return expr;
  }
  return exprString(scoped(parsed, add));
}

/** True when `labels` carry every one of `scope` (an alert of a rule scoped to it). */
export function inScope(labels: Labels, scope: Labels | undefined): boolean {
  return scope === undefined || Object.entries(scope).every(([k, v]) => labels[k] === v);
}

/** A copy of `file` whose every rule's expression is scoped to `labels` (scopeExpr). */
export function scopeRuleFile(file: RuleFile, labels: Labels): RuleFile {
  return { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: scopeExpr(r.expr, labels) })) })) };
}

/** What a rule reads: the metric names and label names in its expression and annotations. */
import type { Expr } from '../../query/ast.js';
import type { LabelMatcher } from '../../storage/store.js';
import { parseQuery } from '../../query/parse.js';

/** One selector: the metric and the labels its matchers name. */
export interface SelectorUse {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** The selectors of an expression and the labels its by/without/on/ignoring clauses name. */
export interface ExprUse {
  readonly selectors: SelectorUse[];
  /** Every label a by/without/on/ignoring/group_x clause names. */
  readonly grouping: string[];
  /** Labels an aggregation's `without` removes from the result. */
  readonly dropped: string[];
  /** Each `by (…)` list: the result keeps only those. */
  readonly kept: string[][];
}

function matcherLabels(ms: readonly LabelMatcher[]): string[] {
  return ms.map((m) => m.label).filter((n) => n !== '__name__');
}

/** Walks a parsed expression. */
export function exprUse(text: string): ExprUse {
  const out: ExprUse = { selectors: [], grouping: [], dropped: [], kept: [] };
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'vector':
        if (e.name === undefined) throw new Error(`a selector without a metric name in ${text}`);
        out.selectors.push({ metric: e.name, labels: matcherLabels(e.matchers) });
        return;
      case 'matrix':
        return walk(e.vector);
      case 'subquery':
      case 'unary':
      case 'paren':
        return walk(e.expr);
      case 'call':
        return e.args.forEach(walk);
      case 'aggregate':
        out.grouping.push(...e.grouping);
        if (e.without) out.dropped.push(...e.grouping);
        else out.kept.push([...e.grouping]);
        if (e.param) walk(e.param);
        return walk(e.expr);
      case 'binary':
        if (e.matching) out.grouping.push(...e.matching.labels, ...e.matching.include);
        walk(e.lhs);
        return walk(e.rhs);
      case 'number':
      case 'string':
        return;
    }
  };
  walk(parseQuery(text));
  return out;
}

/** Label names a template reads (`{{ $labels.mountpoint }}`). */
export function templateLabels(text: string): string[] {
  return [...text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1]!);
}

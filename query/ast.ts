/**
 * PromQL's syntax tree, as query/parse.ts builds it from the lezer grammar's tree.
 * Positions are character offsets into the query text (for error messages).
 */
import type { LabelMatcher } from '../storage/store.js';

/** The four PromQL value types. */
export type ValueType = 'scalar' | 'string' | 'vector' | 'matrix';

/** `@` modifier: a fixed time (ms), or the query's start/end. */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' } | { readonly kind: 'end' };

/** A number literal (`1`, `0x1F`, `Inf`, a duration read as seconds). */
export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

/** A string literal, unquoted. */
export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}

/** `name{matchers}` (all matchers, `__name__` included). */
export interface VectorSelector {
  readonly kind: 'vector';
  readonly name: string | undefined;
  readonly matchers: readonly LabelMatcher[];
  offsetMs: number;
  at: AtModifier | undefined;
  /** Where it starts in the query text. */
  readonly pos: number;
}

/** `selector[range]`. */
export interface MatrixSelector {
  readonly kind: 'matrix';
  readonly vector: VectorSelector;
  readonly rangeMs: number;
}

/** `expr[range:step]`; stepMs 0 = the query's default step. */
export interface Subquery {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly rangeMs: number;
  readonly stepMs: number;
  offsetMs: number;
  at: AtModifier | undefined;
}

/** A function call; `pos` is where its name starts. */
export interface Call {
  readonly kind: 'call';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: number;
}

/** Aggregation operators (`limitk`/`limit_ratio` are experimental in Prometheus 3). */
export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values' | 'limitk' | 'limit_ratio';

/** `op by|without (labels) ([param,] expr)`. */
export interface Aggregate {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | undefined;
  /** Grouping labels; `without` true for `without (…)`. */
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly pos: number;
}

/** Binary operators, arithmetic, comparison and set. */
export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '==' | '!=' | '<' | '>' | '<=' | '>=' | 'and' | 'or' | 'unless';

/** `on`/`ignoring` and `group_left`/`group_right`. */
export interface VectorMatching {
  /** `on (…)` when true, `ignoring (…)` when false. */
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** Labels of `group_left(…)`/`group_right(…)` to copy from the "one" side. */
  readonly include: readonly string[];
}

/** `lhs op [bool] [on|ignoring (…)] [group_left|group_right (…)] rhs`. */
export interface Binary {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  readonly matching: VectorMatching | undefined;
}

/** `-expr` or `+expr`. */
export interface Unary {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
}

/** `(expr)`, kept so that modifiers after it are refused as Prometheus does. */
export interface Paren {
  readonly kind: 'paren';
  readonly expr: Expr;
}

/** Any PromQL expression. */
export type Expr = NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | Subquery | Call | Aggregate | Binary | Unary | Paren;

/** Comparison operators (filter unless `bool`). */
export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '<', '>', '<=', '>=']);
/** Set operators (many-to-many only). */
export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

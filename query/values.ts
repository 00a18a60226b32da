/** The evaluator's values: one step's result, with labels that include `__name__`. */
import type { Labels } from '../storage/store.js';

/** One element of an instant vector; `ts` is the sample's own time (for `timestamp()`). */
export interface VSample {
  readonly metric: Labels;
  readonly value: number;
  readonly ts: number;
  /**
   * `__name__` is to be removed at the end of the query (Prometheus 3's delayed name
   * removal): kept until then so that label_replace/label_join and `by (__name__)` see it.
   */
  readonly drop?: boolean;
}

/** One series of a range vector. */
export interface MSeries {
  readonly metric: Labels;
  readonly ts: readonly number[];
  readonly vs: readonly number[];
  /** As VSample.drop. */
  readonly drop?: boolean;
}

/** The value of an expression at one step. */
export type Value =
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'vector'; readonly samples: readonly VSample[] }
  | { readonly type: 'matrix'; readonly series: readonly MSeries[] };

/**
 * Memo of labelsKey, keyed by object identity: label objects are shared from step to
 * step, and a WeakMap holds no state a caller could observe or leak.
 */
const keyCache = new WeakMap<Labels, string>();

/** A stable key of a label set (sorted name/value pairs). Label sets must not be mutated once keyed. */
export function labelsKey(l: Labels): string {
  const cached = keyCache.get(l);
  if (cached !== undefined) return cached;
  const keys = Object.keys(l).sort();
  let s = '';
  for (const k of keys) s += `${k}\xff${l[k]}\xfe`;
  keyCache.set(l, s);
  return s;
}

/**
 * Memos of keyOn/keyWithout per label set and grouping list (as labelsKey's). The list is
 * keyed by identity: callers pass the AST's own `by (…)` / `on (…)` array, the same at every
 * step, so a lookup builds no string (it was a sixth of a 1,000-series `sum by` range query).
 */
const onCache = new WeakMap<Labels, Map<readonly string[], string>>();
const withoutCache = new WeakMap<Labels, Map<readonly string[], string>>();

function cachedGroupKey(cache: WeakMap<Labels, Map<readonly string[], string>>, l: Labels, names: readonly string[], compute: (l: Labels, names: readonly string[]) => string): string {
  let m = cache.get(l);
  if (m === undefined) cache.set(l, (m = new Map()));
  let v = m.get(names);
  if (v === undefined) m.set(names, (v = compute(l, names)));
  return v;
}

/** A key of only the named labels (missing ones count as empty). Pass a list that lives as long as the query (the AST's). */
export function keyOn(l: Labels, names: readonly string[]): string {
  return cachedGroupKey(onCache, l, names, computeKeyOn);
}

/** A key of every label but the named ones and `__name__`. Pass a list that lives as long as the query (the AST's). */
export function keyWithout(l: Labels, names: readonly string[]): string {
  return cachedGroupKey(withoutCache, l, names, computeKeyWithout);
}

function computeKeyOn(l: Labels, names: readonly string[]): string {
  let s = '';
  for (const k of [...names].sort()) {
    const v = l[k];
    if (v !== undefined && v !== '') s += `${k}\xff${v}\xfe`;
  }
  return s;
}

function computeKeyWithout(l: Labels, names: readonly string[]): string {
  const skip = new Set(names);
  skip.add('__name__');
  let s = '';
  for (const k of Object.keys(l).sort()) if (!skip.has(k)) s += `${k}\xff${l[k]}\xfe`;
  return s;
}

/** dropName's answers by label set (as labelsKey's): the same object at every step, so its key is computed once. */
const droppedCache = new WeakMap<Labels, Labels>();

/** `l` without `__name__`. Label sets must not be mutated once passed. */
export function dropName(l: Labels): Labels {
  if (!('__name__' in l)) return l;
  let rest = droppedCache.get(l);
  if (rest === undefined) {
    const { __name__: _dropped, ...r } = l;
    droppedCache.set(l, (rest = r));
  }
  return rest;
}

/** Go's text form of a label set, `{__name__="x", a="b"}`, as Prometheus' errors print it. */
export function formatLabels(l: Labels): string {
  return `{${Object.keys(l)
    .sort()
    .map((k) => `${k}=${JSON.stringify(l[k])}`)
    .join(', ')}}`;
}

/** Prometheus' stale marker (storage/stale.ts): a NaN with a payload that ends a series. */
export { isStaleNaN, staleNaN } from '../storage/stale.js';

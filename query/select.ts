/**
 * Loads the raw samples every selector of a query needs, once per query for the
 * whole evaluation range, and answers instant and range selections from them.
 */
import { packColumns } from '../storage/store-common.js';
import type { Labels, LabelMatcher, PackedReadResult, ReadQuery, SeriesInfo, Store, TieredReadQuery } from '../storage/store.js';
import type { AtModifier, Expr, VectorSelector } from './ast.js';
import { bucketsById, columnsFor, loadTierRows } from './tiers.js';
import type { BucketColumns, TierPlan } from './tiers.js';
import { compileAnchored } from './regex.js';
import { QueryError } from './types.js';
import { isStaleNaN } from './values.js';
import type { MSeries, VSample } from './values.js';

/** One loaded series: its labels and its samples in time order. */
export interface LoadedSeries {
  readonly id: number;
  readonly metric: Labels;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** What the loader needs to know about a query. */
export interface LoadPlan {
  readonly startMs: number;
  readonly endMs: number;
  readonly lookbackMs: number;
  readonly subqueryStepMs: number;
  /** Most samples all selectors may load together. */
  readonly maxSamples: number;
  /** Selectors a rollup tier answers up to its watermark (query/tiers.ts). */
  readonly tiered?: ReadonlyMap<VectorSelector, TierPlan>;
}

/** One series of a tiered selector: its buckets and its raw samples from the watermark on. */
export interface TieredSeries {
  readonly metric: Labels;
  /** Undefined when the tier holds no bucket of it in the range. */
  readonly buckets: BucketColumns | undefined;
  readonly raw: LoadedSeries | undefined;
}

/** A raw read as columns: the store's own packed read where it has one. */
async function readPacked(store: Store, q: ReadQuery): Promise<PackedReadResult> {
  if (store.readSamplesPacked !== undefined) return store.readSamplesPacked(q);
  const r = await store.readSamples(q);
  return { series: r.series, ...packColumns(r.samples) };
}

/** Resolves an `@` modifier against the query's start and end. */
export function atTime(at: AtModifier, startMs: number, endMs: number): number {
  return at.kind === 'time' ? at.ms : at.kind === 'start' ? startMs : endMs;
}

/** Anchored matcher test against a full label set (`__name__` included). */
export function matcherTest(m: LabelMatcher): (l: Labels) => boolean {
  const get = (l: Labels): string => l[m.label] ?? '';
  switch (m.op) {
    case '=':
      return (l) => get(l) === m.value;
    case '!=':
      return (l) => get(l) !== m.value;
    case '=~': {
      const re = compileAnchored(m.value);
      return (l) => re.test(get(l));
    }
    case '!~': {
      const re = compileAnchored(m.value);
      return (l) => !re.test(get(l));
    }
  }
}

/** Latest time the store accepts (storage/series-key.ts). */
const STORE_MAX_MS = 253_402_300_799_999;

interface Need {
  readonly sel: VectorSelector;
  fromMs: number;
  toMs: number;
}

/** Every selector with the time span (inclusive) of raw samples it may look at. */
function collectNeeds(e: Expr, lo: number, hi: number, plan: LoadPlan, out: Need[], windowMs?: number): void {
  switch (e.kind) {
    case 'vector': {
      let a = lo;
      let b = hi;
      if (e.at !== undefined) a = b = atTime(e.at, plan.startMs, plan.endMs);
      const w = windowMs ?? plan.lookbackMs;
      out.push({ sel: e, fromMs: a - e.offsetMs - w, toMs: b - e.offsetMs });
      return;
    }
    case 'matrix':
      collectNeeds(e.vector, lo, hi, plan, out, e.rangeMs);
      return;
    case 'subquery': {
      let a = lo;
      let b = hi;
      if (e.at !== undefined) a = b = atTime(e.at, plan.startMs, plan.endMs);
      collectNeeds(e.expr, a - e.offsetMs - e.rangeMs, b - e.offsetMs, plan, out);
      return;
    }
    case 'call':
      for (const a of e.args) collectNeeds(a, lo, hi, plan, out);
      return;
    case 'aggregate':
      collectNeeds(e.expr, lo, hi, plan, out);
      if (e.param !== undefined) collectNeeds(e.param, lo, hi, plan, out);
      return;
    case 'binary':
      collectNeeds(e.lhs, lo, hi, plan, out);
      collectNeeds(e.rhs, lo, hi, plan, out);
      return;
    case 'unary':
    case 'paren':
      collectNeeds(e.expr, lo, hi, plan, out);
      return;
    default:
      return;
  }
}

/**
 * Whether the store's own matching (storage/store-common.ts matchSeries: `=` and `!=`
 * on the label, a missing label as '') picks exactly the series the engine's does:
 * true when, besides the one `__name__=` matcher, every matcher is `=` or `!=` on
 * another label. Regex matchers differ (RE2 here, JS RegExp there), so they are not sent.
 */
function storeMatchesAlike(sel: VectorSelector): boolean {
  let names = 0;
  for (const m of sel.matchers) {
    if (m.label === '__name__') {
      if (m.op !== '=' || ++names > 1) return false;
    } else if (m.op !== '=' && m.op !== '!=') return false;
  }
  return names === 1;
}

/** A valid metric name the selector asks for by equality (what the store can look up), if any. */
function metricNameOf(sel: VectorSelector): string | undefined {
  const m = sel.matchers.find((x) => x.label === '__name__' && x.op === '=');
  return m !== undefined && METRIC_NAME.test(m.value) ? m.value : undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * A stored series' labels as PromQL sees them: the name as `__name__`, and no label whose
 * value is empty. In Prometheus an empty label is the same as no label (its scrape drops
 * them, `label_replace` to "" removes one), so a query never answers one; the recorder
 * stores them as exposed (e.g. `system_vendor=""`), and they are dropped here, on read.
 * Matchers are unaffected: a missing label matches as "".
 */
export function seriesMetric(name: string, labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const k in labels) if (labels[k] !== '') out[k] = labels[k]!;
  out['__name__'] = name;
  return out;
}

/** Series with their labels as a selector sees them (seriesMetric), by id. */
function withNames(series: readonly SeriesInfo[]): { info: SeriesInfo; metric: Labels }[] {
  return [...series].sort((a, b) => a.id - b.id).map((s) => ({ info: s, metric: seriesMetric(s.name, s.labels) }));
}

/** The samples of every selector of a query, loaded up front. */
export class SampleSource {
  private readonly data = new Map<VectorSelector, LoadedSeries[]>();
  private readonly tierData = new Map<VectorSelector, TieredSeries[]>();
  /** Selectors whose loaded series hold no stale marker (plainSeries). */
  private readonly plain = new Map<VectorSelector, boolean>();
  private loaded = 0;

  private constructor(private readonly plan: LoadPlan) {}

  /** Loads every selector of `root` from `store`. */
  static async load(store: Store, root: Expr, plan: LoadPlan, checkDeadline: () => void): Promise<SampleSource> {
    const src = new SampleSource(plan);
    const needs: Need[] = [];
    collectNeeds(root, plan.startMs, plan.endMs, plan, needs);
    if (needs.length === 0) return src;
    // Every series, listed only when a selector names no metric (rare): a selector with
    // `__name__="x"` asks the store for the series of that name alone, so a query's
    // fixed cost no longer grows with the whole series table (~40 ms per query before).
    let all: { info: SeriesInfo; metric: Labels }[] | undefined;
    for (const need of needs) {
      const tests = need.sel.matchers.map(matcherTest);
      const name = metricNameOf(need.sel);
      if (name !== undefined && plan.tiered?.get(need.sel) === undefined && storeMatchesAlike(need.sel)) {
        // One round trip: the store picks the series by name and = / != matchers (the
        // same test as the engine's) and reads their samples in the same call.
        src.data.set(need.sel, await src.readByName(store, name, need.sel, tests, need.fromMs, need.toMs));
        checkDeadline();
        continue;
      }
      const tierPlan = plan.tiered?.get(need.sel);
      let matched: { info: SeriesInfo; metric: Labels }[];
      let raw: LoadedSeries[] | undefined;
      let rows: Map<number, BucketColumns> | undefined;
      if (tierPlan !== undefined && name !== undefined) {
        // The series, their raw samples from the watermark on and (where the store reads
        // both at once) their buckets before it, in one round trip.
        const wm = tierPlan.watermarkMs;
        const tier = { tier: tierPlan.tier.name, fromMs: need.fromMs, toMs: Math.min(wm, need.toMs), columns: columnsFor(tierPlan.func) };
        const r = await src.readNamed(store, name, need.sel, tests, Math.max(need.fromMs, wm - 1), need.toMs, tier);
        matched = r.matched;
        raw = r.loaded;
        rows = r.rows;
      } else {
        let candidates: { info: SeriesInfo; metric: Labels }[];
        if (name !== undefined) candidates = withNames((await store.readSamples({ name, fromMs: 0, toMs: 1, limit: 0 })).series);
        else candidates = all ??= withNames(await store.listSeries());
        matched = candidates.filter((s) => tests.every((t) => t(s.metric)));
      }
      checkDeadline();
      if (tierPlan === undefined) src.data.set(need.sel, await src.read(store, matched, need.fromMs, need.toMs));
      else {
        // Buckets [from, watermark) from the tier, samples from the watermark on from raw.
        const wm = tierPlan.watermarkMs;
        const buckets = rows ?? (await loadTierRows(store, tierPlan.tier.name, matched.map((s) => s.info.id), need.fromMs, Math.min(wm, need.toMs), tierPlan.func));
        raw ??= await src.read(store, matched, Math.max(need.fromMs, wm - 1), need.toMs);
        const rawById = new Map(raw.map((r) => [r.id, r]));
        src.tierData.set(
          need.sel,
          matched
            .map((s) => ({ metric: s.metric, buckets: buckets.get(s.info.id), raw: rawById.get(s.info.id) }))
            .filter((s) => s.buckets !== undefined || s.raw !== undefined),
        );
        for (const s of matched) src.loaded += buckets.get(s.info.id)?.ts.length ?? 0;
      }
      checkDeadline();
    }
    return src;
  }

  /** `read` of the series named `name` that `sel` matches, in one store call (see storeMatchesAlike). */
  private async readByName(store: Store, name: string, sel: VectorSelector, tests: ((l: Labels) => boolean)[], fromMs: number, toMs: number): Promise<LoadedSeries[]> {
    const from = Math.max(0, fromMs + 1);
    const to = Math.min(toMs + 1, STORE_MAX_MS);
    if (to <= from) return [];
    const left = this.plan.maxSamples - this.loaded;
    const matchers = sel.matchers.filter((m) => m.label !== '__name__');
    const r = await readPacked(store, { name, matchers, fromMs: from, toMs: to, limit: left + 1 });
    const matched = withNames(r.series).filter((s) => tests.every((t) => t(s.metric)));
    return this.loadedFrom(r, matched);
  }

  /**
   * The series named `name` that `sel` matches and their samples in `(fromMs, toMs]`, in
   * one store call (the store gets the matchers it applies alike, the rest are tested here).
   */
  private async readNamed(
    store: Store,
    name: string,
    sel: VectorSelector,
    tests: ((l: Labels) => boolean)[],
    fromMs: number,
    toMs: number,
    tier?: TieredReadQuery['tier'],
  ): Promise<{ matched: { info: SeriesInfo; metric: Labels }[]; loaded: LoadedSeries[]; rows?: Map<number, BucketColumns> }> {
    let from = Math.max(0, fromMs + 1);
    let to = Math.min(toMs + 1, STORE_MAX_MS);
    const empty = to <= from;
    if (empty) [from, to] = [0, 1];
    const left = this.plan.maxSamples - this.loaded;
    const matchers = storeMatchesAlike(sel) ? sel.matchers.filter((m) => m.label !== '__name__') : [];
    const q: ReadQuery = { name, matchers, fromMs: from, toMs: to, limit: empty ? 0 : left + 1 };
    // Only where the store picks exactly the matched series: it reads buckets for all it picks.
    if (tier !== undefined && tier.toMs > tier.fromMs && matchers.length === sel.matchers.length - 1 && store.readTiered !== undefined) {
      const r = await store.readTiered({ raw: q, tier });
      const matched = withNames(r.raw.series).filter((s) => tests.every((t) => t(s.metric)));
      return { matched, loaded: this.loadedFrom(r.raw, matched), rows: bucketsById(r.tier) };
    }
    const r = await readPacked(store, q);
    const matched = withNames(r.series).filter((s) => tests.every((t) => t(s.metric)));
    return { matched, loaded: this.loadedFrom(r, matched) };
  }

  private async read(store: Store, matched: { info: SeriesInfo; metric: Labels }[], fromMs: number, toMs: number): Promise<LoadedSeries[]> {
    if (matched.length === 0) return [];
    // The store holds times from 1970 to 9999 only; its range is half-open.
    const from = Math.max(0, fromMs + 1);
    const to = Math.min(toMs + 1, STORE_MAX_MS);
    if (to <= from) return [];
    const left = this.plan.maxSamples - this.loaded;
    const r = await readPacked(store, { seriesIds: matched.map((s) => s.info.id), fromMs: from, toMs: to, limit: left + 1 });
    return this.loadedFrom(r, matched);
  }

  /**
   * The samples read for `matched` as loaded series, counted against maxSamples. Each
   * series' arrays are views of the read's columns, never copied through a JS number[]:
   * V8's optimized code canonicalizes a NaN stored in a double array, which would erase a
   * stale marker's payload (storage/stale.ts).
   */
  private loadedFrom(r: PackedReadResult, matched: { info: SeriesInfo; metric: Labels }[]): LoadedSeries[] {
    this.loaded += r.ts.length;
    if (this.loaded > this.plan.maxSamples) {
      throw new QueryError('execution', `query processing would load too many samples into memory in query execution (more than ${this.plan.maxSamples})`);
    }
    const byId = new Map<number, { ts: Float64Array; vs: Float64Array }>();
    let at = 0;
    for (let k = 0; k < r.runs.length; k += 2) {
      const end = at + r.runs[k + 1]!;
      byId.set(r.runs[k]!, { ts: r.ts.subarray(at, end), vs: r.vs.subarray(at, end) });
      at = end;
    }
    const out: LoadedSeries[] = [];
    for (const m of matched) {
      const b = byId.get(m.info.id);
      if (b !== undefined) out.push({ id: m.info.id, metric: m.metric, ts: b.ts, vs: b.vs });
    }
    return out;
  }

  /** Samples (and tier rows) loaded so far. */
  get loadedSamples(): number {
    return this.loaded;
  }

  /**
   * The loaded series of `sel` when none holds a stale marker, so that a window of samples
   * is a plain index range (query/rate.ts reads them in place); undefined otherwise.
   */
  plainSeries(sel: VectorSelector): readonly LoadedSeries[] | undefined {
    let plain = this.plain.get(sel);
    if (plain === undefined) {
      plain = (this.data.get(sel) ?? []).every((s) => !holdsStaleMarker(s.vs));
      this.plain.set(sel, plain);
    }
    return plain ? (this.data.get(sel) ?? []) : undefined;
  }

  /** The series of a tiered selector. */
  tiered(sel: VectorSelector): readonly TieredSeries[] {
    return this.tierData.get(sel) ?? [];
  }

  /** The instant vector of `sel` at time `t` (offset and `@` already applied by the caller). */
  instant(sel: VectorSelector, t: number, lookbackMs: number): VSample[] {
    const out: VSample[] = [];
    for (const s of this.data.get(sel) ?? []) {
      const i = lastAtOrBefore(s.ts, t);
      if (i < 0) continue;
      const st = s.ts[i]!;
      if (st <= t - lookbackMs) continue;
      const v = s.vs[i]!;
      if (isStaleNaN(v)) continue;
      out.push({ metric: s.metric, value: v, ts: st });
    }
    return out;
  }

  /** The range vector of `sel` over `(t - rangeMs, t]`. */
  range(sel: VectorSelector, t: number, rangeMs: number): MSeries[] {
    const out: MSeries[] = [];
    for (const s of this.data.get(sel) ?? []) {
      const hi = lastAtOrBefore(s.ts, t);
      if (hi < 0) continue;
      const lo = lastAtOrBefore(s.ts, t - rangeMs) + 1;
      if (lo > hi) continue;
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = lo; i <= hi; i++) {
        const v = s.vs[i]!;
        if (isStaleNaN(v)) continue;
        ts.push(s.ts[i]!);
        vs.push(v);
      }
      if (ts.length > 0) out.push({ metric: s.metric, ts, vs });
    }
    return out;
  }
}

/** Whether `vs` holds a stale marker: a plain loop (`some` with a callback was 10 ms for 1.44 M values). */
function holdsStaleMarker(vs: Float64Array): boolean {
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    if (v !== v && isStaleNaN(v)) return true;
  }
  return false;
}

/** Index of the last element `<= t`, or -1. */
export function lastAtOrBefore(a: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/**
 * One read of the store per group evaluation. The rules of a group (the bundled packs
 * above all) select the same few metrics again and again; evaluated one by one, each
 * selector was its own store read: on SQLite a worker round trip, a read transaction
 * (the dotfile lock taken and released) and the series looked up by name, ~25 times
 * per evaluation of the host pack alone. Before a group runs, `prefetch` reads every
 * metric its rules name, over the widest window any of its selectors needs, in one
 * `readSamplesPackedMany` (or `readSamplesMany`); the engine then reads through `store`,
 * which answers from that snapshot exactly what the store would (same series, same
 * samples, same order, same limit) and passes every other read on to the store.
 * The snapshot is kept as columns and answered as columns (`readSamplesPacked`, the
 * engine's read): a group reading hours of a metric (the filesystem rule's 6 h) makes no
 * object per sample, where the samples went from the worker's columns to an object each
 * and back to columns in the engine.
 *
 * Not prefetched: the names the group's own recording rules write, and ALERTS /
 * ALERTS_FOR_STATE (a later rule must read what an earlier one wrote in the same
 * evaluation), and selectors with `@` or inside subqueries (their windows are not the
 * rule's); a read outside the snapshot's window goes to the store.
 */
import type { LabelMatcher, PackedReadResult, ReadQuery, ReadResult, Sample, SeriesInfo, Store } from '../../storage/store.js';
import { matchSeries, packColumns } from '../../storage/store-common.js';
import type { Expr } from '../../query/ast.js';
import { parseQueryCached } from '../../query/parse.js';
import type { GroupDef } from './load.js';

/** The engine's default lookback for instant selectors (query/engine.ts), ms. */
const LOOKBACK_MS = 300_000;

/**
 * How far back and forward of the evaluation time the group reads a metric (ms), and
 * the matchers every selector of it has, alike (the bundled rules' scope: on a shared
 * PostgreSQL the snapshot then holds the series this Larder writes, not every host's).
 */
interface Reach {
  back: number;
  fwd: number;
  eq: LabelMatcher[];
}

/** A metric's prefetched series and samples over [fromMs, toMs). */
interface Snapshot {
  readonly fromMs: number;
  readonly toMs: number;
  /** The matchers it was read with: a read without every one of them is not answered from it. */
  readonly matchers: readonly LabelMatcher[];
  readonly series: readonly SeriesInfo[];
  /** Samples by series id, in time order, as columns. */
  readonly samples: ReadonlyMap<number, Columns>;
}

/** One series' samples: times and values. */
interface Columns {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** Index of the first time in `ts` (ascending) at or after `ms`. */
function lowerBound(ts: Float64Array, ms: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A packed answer's columns by series id (views: nothing is copied). */
function columnsOf(r: PackedReadResult): Map<number, Columns> {
  const out = new Map<number, Columns>();
  let at = 0;
  for (let k = 0; k < r.runs.length; k += 2) {
    const n = r.runs[k + 1]!;
    out.set(r.runs[k]!, { ts: r.ts.subarray(at, at + n), vs: r.vs.subarray(at, at + n) });
    at += n;
  }
  return out;
}

/** A store's packed read: its own where it has one, else readSamples packed. */
async function readPacked(store: Store, q: ReadQuery): Promise<PackedReadResult> {
  if (store.readSamplesPacked !== undefined) return store.readSamplesPacked(q);
  const r = await store.readSamples(q);
  return { series: r.series, ...packColumns(r.samples) };
}

/** Every read of `plan` in one store call where the store can, as columns. */
async function readAll(store: Store, plan: readonly ReadQuery[]): Promise<PackedReadResult[]> {
  if (store.readSamplesPackedMany !== undefined) return store.readSamplesPackedMany(plan);
  const results = store.readSamplesMany !== undefined ? await store.readSamplesMany(plan) : await Promise.all(plan.map((q) => store.readSamples(q)));
  // packColumns wants the samples grouped by series, as the stores return them; grouped here
  // anyway, in the order of the series' first samples
  return results.map((r) => {
    const by = new Map<number, Sample[]>();
    for (const x of r.samples) {
      let list = by.get(x.seriesId);
      if (list === undefined) by.set(x.seriesId, (list = []));
      list.push(x);
    }
    return { series: r.series, ...packColumns([...by.values()].flat()) };
  });
}

/** The metric name a selector asks for by equality, if any. */
function nameOf(matchers: readonly LabelMatcher[]): string | undefined {
  return matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
}

function sameMatcher(a: LabelMatcher, b: LabelMatcher): boolean {
  return a.label === b.label && a.op === b.op && a.value === b.value;
}

/** Adds the reach of every plain selector of `e` (none under `@` or a subquery) to `out`. */
function reaches(e: Expr, out: Map<string, Reach>, rangeMs?: number): void {
  switch (e.kind) {
    case 'vector': {
      const name = nameOf(e.matchers);
      if (name === undefined || e.at !== undefined) return;
      const back = e.offsetMs + (rangeMs ?? LOOKBACK_MS);
      const eq = e.matchers.filter((m) => m.label !== '__name__');
      const r = out.get(name);
      if (r === undefined) out.set(name, { back, fwd: -e.offsetMs, eq });
      else {
        r.back = Math.max(r.back, back);
        r.fwd = Math.max(r.fwd, -e.offsetMs);
        r.eq = r.eq.filter((m) => eq.some((x) => sameMatcher(x, m)));
      }
      return;
    }
    case 'matrix':
      return reaches(e.vector, out, e.rangeMs);
    case 'call':
      for (const a of e.args) reaches(a, out);
      return;
    case 'aggregate':
      reaches(e.expr, out);
      if (e.param !== undefined) reaches(e.param, out);
      return;
    case 'binary':
      reaches(e.lhs, out);
      reaches(e.rhs, out);
      return;
    case 'unary':
    case 'paren':
      return reaches(e.expr, out);
    default:
      return;
  }
}

/** What a group's rules read, by metric name (computed once per loaded group). */
const plans = new WeakMap<GroupDef, ReadonlyMap<string, Reach>>();

function planOf(def: GroupDef): ReadonlyMap<string, Reach> {
  let plan = plans.get(def);
  if (plan === undefined) {
    const out = new Map<string, Reach>();
    for (const r of def.rules) {
      try {
        reaches(parseQueryCached(r.expr), out); // parsed when the rules were loaded
      } catch {
        // a query that does not parse fails in the engine, with its message
      }
    }
    for (const r of def.rules) if (r.kind === 'record') out.delete(r.name);
    out.delete('ALERTS');
    out.delete('ALERTS_FOR_STATE');
    plans.set(def, (plan = out));
  }
  return plan;
}

/** The store as a group's evaluation sees it: the prefetched snapshot, and the store for the rest. */
export class GroupReads {
  /** Reads answered from the snapshot, and passed on to the store, since start (tests, metrics). */
  hits = 0;
  misses = 0;
  readonly store: Store;
  private snapshot = new Map<string, Snapshot>();
  private byId = new Map<number, Snapshot>();

  constructor(readonly base: Store) {
    const read = (q: ReadQuery): Promise<ReadResult> => this.read(q);
    const readPackedView = (q: ReadQuery): Promise<PackedReadResult> => this.readPacked(q);
    this.store = new Proxy(base, {
      get(target, prop) {
        if (prop === 'readSamples') return read;
        if (prop === 'readSamplesPacked') return readPackedView;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** Reads every metric `def`'s rules select for an evaluation at `tsMs`, in one store call. */
  async prefetch(def: GroupDef, tsMs: number): Promise<void> {
    this.clear();
    const plan = [...planOf(def)].map(([name, r]) => ({ name, matchers: r.eq, fromMs: Math.max(0, tsMs - r.back), toMs: tsMs + r.fwd + 1 })).filter((q) => q.toMs > q.fromMs);
    if (plan.length === 0) return;
    const results = await readAll(this.base, plan);
    plan.forEach((q, i) => {
      const r = results[i]!;
      const snap: Snapshot = { fromMs: q.fromMs, toMs: q.toMs, matchers: q.matchers, series: r.series, samples: columnsOf(r) };
      this.snapshot.set(q.name, snap);
      for (const s of r.series) this.byId.set(s.id, snap);
    });
  }

  /** Drops the snapshot: every read goes to the store until the next prefetch. */
  clear(): void {
    this.snapshot.clear();
    this.byId.clear();
  }

  private read(q: ReadQuery): Promise<ReadResult> {
    const picked = this.pick(q);
    if (picked === undefined) {
      this.misses++;
      return this.base.readSamples(q);
    }
    this.hits++;
    const samples: Sample[] = [];
    for (const { id, c, from, to } of picked.ranges) for (let i = from; i < to; i++) samples.push({ seriesId: id, timeMs: c.ts[i]!, value: c.vs[i]! });
    return later({ series: picked.series, samples });
  }

  /** readSamplesPacked from the snapshot (the engine's read), copying only the columns' ranges asked. */
  private readPacked(q: ReadQuery): Promise<PackedReadResult> {
    const picked = this.pick(q);
    if (picked === undefined) {
      this.misses++;
      return readPacked(this.base, q);
    }
    this.hits++;
    let n = 0;
    for (const r of picked.ranges) n += r.to - r.from;
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    const runs = new Float64Array(picked.ranges.length * 2);
    let at = 0;
    picked.ranges.forEach((r, k) => {
      ts.set(r.c.ts.subarray(r.from, r.to), at);
      vs.set(r.c.vs.subarray(r.from, r.to), at); // a block copy: a stale marker keeps its bits
      at += r.to - r.from;
      runs[k * 2] = r.id;
      runs[k * 2 + 1] = r.to - r.from;
    });
    return later({ series: picked.series, runs, ts, vs });
  }

  /**
   * What the store would answer to `q`, from the snapshot: the series, and the index
   * range of each one's samples (series without any left out, the limit applied);
   * undefined when the snapshot does not hold it.
   */
  private pick(q: ReadQuery): { series: SeriesInfo[]; ranges: { id: number; c: Columns; from: number; to: number }[] } | undefined {
    const covers = (s: Snapshot): boolean => q.limit === 0 || (q.fromMs >= s.fromMs && q.toMs <= s.toMs);
    let series: SeriesInfo[];
    if (q.seriesIds !== undefined) {
      const found: SeriesInfo[] = [];
      for (const id of new Set(q.seriesIds)) {
        const snap = this.byId.get(id);
        if (snap === undefined || !covers(snap)) return undefined;
        found.push(snap.series.find((s) => s.id === id)!);
      }
      series = found.sort((a, b) => a.id - b.id);
    } else {
      const snap = q.name === undefined ? undefined : this.snapshot.get(q.name);
      if (snap === undefined || !covers(snap)) return undefined;
      // the snapshot holds only the series with its matchers: a read must ask for them all
      if (!snap.matchers.every((m) => q.matchers?.some((x) => sameMatcher(x, m)) === true)) return undefined;
      series = matchSeries(snap.series, q.matchers ?? []);
    }
    let left = q.limit ?? Number.POSITIVE_INFINITY;
    const ranges: { id: number; c: Columns; from: number; to: number }[] = [];
    for (const s of series) {
      if (left <= 0) break;
      const c = this.byId.get(s.id)!.samples.get(s.id);
      if (c === undefined) continue;
      const from = lowerBound(c.ts, q.fromMs);
      const to = Math.min(lowerBound(c.ts, q.toMs), from + left);
      if (to <= from) continue;
      ranges.push({ id: s.id, c, from, to });
      left -= to - from;
    }
    return { series, ranges };
  }
}

/**
 * `value` in a turn of the event loop of its own, as a store read is: a group's rules
 * answered from memory one after the other in one turn held the main thread ~15 ms.
 */
function later<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(value)));
}

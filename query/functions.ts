/** PromQL's functions over float samples. */
import type { Call, Expr } from './ast.js';
import { KahanSum, mean, quantile, variance } from './aggregations.js';
import { checkDistinct, evaluate } from './eval.js';
import type { EvalContext } from './eval.js';
import { evalTiered } from './eval-tiered.js';
import { histogramFraction, histogramQuantile } from './histogram.js';
import { extrapolatedRate, notCounterInfo, rateInPlace } from './rate.js';
import { compileAnchored } from './regex.js';
import { QueryError } from './types.js';
import { labelsKey } from './values.js';
import type { MSeries, VSample, Value } from './values.js';
import type { Labels } from '../storage/store.js';

const vec = (samples: VSample[]): Value => ({ type: 'vector', samples });

function argVector(e: Expr, t: number, ctx: EvalContext): readonly VSample[] {
  const v = evaluate(e, t, ctx);
  if (v.type !== 'vector') throw new QueryError('execution', `expected an instant vector, got ${v.type}`);
  return v.samples;
}

function argMatrix(e: Expr, t: number, ctx: EvalContext): readonly MSeries[] {
  const v = evaluate(e, t, ctx);
  if (v.type !== 'matrix') throw new QueryError('execution', `expected a range vector, got ${v.type}`);
  return v.series;
}

function argScalar(e: Expr, t: number, ctx: EvalContext): number {
  const v = evaluate(e, t, ctx);
  if (v.type !== 'scalar') throw new QueryError('execution', `expected a scalar, got ${v.type}`);
  return v.value;
}

function argString(e: Expr, t: number, ctx: EvalContext): string {
  const v = evaluate(e, t, ctx);
  if (v.type !== 'string') throw new QueryError('execution', `expected a string, got ${v.type}`);
  return v.value;
}

/** Element-wise functions: the value changes, so `__name__` goes. */
const SIMPLE: Record<string, (v: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  sgn: (v) => (Number.isNaN(v) ? v : Math.sign(v)),
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  cosh: Math.cosh,
  sin: Math.sin,
  sinh: Math.sinh,
  tan: Math.tan,
  tanh: Math.tanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
};

/** Functions over a range vector, one number per series (undefined = no output). */
const OVER_TIME: Record<string, (ts: readonly number[], vs: readonly number[]) => number | undefined> = {
  avg_over_time: (_ts, vs) => mean(vs),
  sum_over_time: (_ts, vs) => {
    const k = new KahanSum();
    for (const v of vs) k.add(v);
    return k.value;
  },
  count_over_time: (_ts, vs) => vs.length,
  min_over_time: (_ts, vs) => vs.reduce((m, v) => (v < m || Number.isNaN(m) ? v : m), vs[0]!),
  max_over_time: (_ts, vs) => vs.reduce((m, v) => (v > m || Number.isNaN(m) ? v : m), vs[0]!),
  stddev_over_time: (_ts, vs) => Math.sqrt(variance(vs)),
  stdvar_over_time: (_ts, vs) => variance(vs),
  present_over_time: () => 1,
  mad_over_time: (_ts, vs) => {
    // A NaN sample makes the deviation NaN rather than being dropped.
    if (vs.some((v) => Number.isNaN(v))) return Number.NaN;
    const med = quantile(0.5, [...vs]);
    return quantile(0.5, vs.map((v) => Math.abs(v - med)));
  },
  ts_of_min_over_time: (ts, vs) => tsOfExtreme(ts, vs, (a, b) => a < b),
  ts_of_max_over_time: (ts, vs) => tsOfExtreme(ts, vs, (a, b) => a > b),
  ts_of_first_over_time: (ts) => ts[0]! / 1000,
  ts_of_last_over_time: (ts) => ts[ts.length - 1]! / 1000,
  changes: (_ts, vs) => {
    let n = 0;
    for (let i = 1; i < vs.length; i++) if (vs[i] !== vs[i - 1] && !(Number.isNaN(vs[i]!) && Number.isNaN(vs[i - 1]!))) n++;
    return n;
  },
  resets: (_ts, vs) => {
    let n = 0;
    for (let i = 1; i < vs.length; i++) if (vs[i]! < vs[i - 1]!) n++;
    return n;
  },
  deriv: (ts, vs) => (vs.length < 2 ? undefined : linearRegression(ts, vs, ts[0]!)[0]),
  idelta: (_ts, vs) => (vs.length < 2 ? undefined : vs[vs.length - 1]! - vs[vs.length - 2]!),
  irate: (ts, vs) => {
    const n = vs.length;
    if (n < 2) return undefined;
    const last = vs[n - 1]!;
    const prev = vs[n - 2]!;
    const dt = (ts[n - 1]! - ts[n - 2]!) / 1000;
    if (dt === 0) return undefined;
    return (last < prev ? last : last - prev) / dt;
  },
};

/** Time (s) of the first sample that beats every other by `better` (NaN samples lose). */
function tsOfExtreme(ts: readonly number[], vs: readonly number[], better: (a: number, b: number) => boolean): number {
  let best = 0;
  for (let i = 1; i < vs.length; i++) if (Number.isNaN(vs[best]!) || better(vs[i]!, vs[best]!)) best = i;
  return ts[best]! / 1000;
}

/** Prometheus' least-squares fit: [slope, intercept at interceptMs]. */
export function linearRegression(ts: readonly number[], vs: readonly number[], interceptMs: number): [number, number] {
  let constY = true;
  const n = vs.length;
  const sx = new KahanSum();
  const sy = new KahanSum();
  const sxy = new KahanSum();
  const sx2 = new KahanSum();
  for (let i = 0; i < n; i++) {
    if (i > 0 && vs[i] !== vs[0]) constY = false;
    const x = (ts[i]! - interceptMs) / 1000;
    sx.add(x);
    sy.add(vs[i]!);
    sxy.add(x * vs[i]!);
    sx2.add(x * x);
  }
  if (constY) {
    if (!Number.isFinite(vs[0]!)) return [Number.NaN, Number.NaN];
    return [0, vs[0]!];
  }
  const covXY = sxy.value - (sx.value * sy.value) / n;
  const varX = sx2.value - (sx.value * sx.value) / n;
  const slope = covXY / varX;
  const intercept = sy.value / n - (slope * sx.value) / n;
  return [slope, intercept];
}

/** The range (ms) of a function's range-vector argument. */
function rangeOf(e: Expr, ctx: EvalContext): number {
  if (e.kind === 'matrix') return e.rangeMs;
  if (e.kind === 'subquery') return e.rangeMs;
  if (e.kind === 'paren') return rangeOf(e.expr, ctx);
  throw new QueryError('execution', 'expected a range vector argument');
}

/** The evaluation time a matrix argument's window ends at (for rate's extrapolation). */
function windowEnd(e: Expr, t: number, ctx: EvalContext): number {
  if (e.kind === 'paren') return windowEnd(e.expr, t, ctx);
  const sel = e.kind === 'matrix' ? e.vector : e.kind === 'subquery' ? e : undefined;
  if (sel === undefined) return t;
  const base = sel.at === undefined ? t : sel.at.kind === 'time' ? sel.at.ms : sel.at.kind === 'start' ? ctx.startMs : ctx.endMs;
  return base - sel.offsetMs;
}

/** Labels `absent()` gives: the selector's equality matchers (a label set twice is left out). */
function absentLabels(e: Expr): Labels {
  const sel = e.kind === 'vector' ? e : e.kind === 'matrix' ? e.vector : undefined;
  if (sel === undefined) return {};
  const out: Record<string, string> = {};
  const twice = new Set<string>();
  for (const m of sel.matchers) {
    if (m.label === '__name__') continue;
    if (m.op === '=' && !(m.label in out) && !twice.has(m.label)) out[m.label] = m.value;
    else if (m.label in out || m.op === '=') {
      delete out[m.label];
      twice.add(m.label);
    }
  }
  return out;
}

const DATE_FNS: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

/** Go's regexp.Expand for `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([a-zA-Z0-9_]*)\}|([a-zA-Z0-9_]+))/g, (all, _x: string, braced: string | undefined, bare: string | undefined) => {
    if (all === '$$') return '$';
    const name = braced ?? bare ?? '';
    if (/^[0-9]+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;


/** A function of one range-vector series (`*_over_time`, the rate family); undefined = no output. */
export function rangeFunction(func: string, ts: readonly number[], vs: readonly number[], endMs: number, rangeMs: number): number | undefined {
  const over = OVER_TIME[func];
  if (over !== undefined) return over(ts, vs);
  if (func === 'rate' || func === 'increase' || func === 'delta') return extrapolatedRate(ts, vs, 0, ts.length - 1, endMs, rangeMs, func !== 'delta', func === 'rate');
  if (func === 'last_over_time') return vs[vs.length - 1];
  return undefined;
}

/** The value of a function call at time `t`. */
export function evalCall(e: Call, t: number, ctx: EvalContext): Value {
  const plan = ctx.tierPlans?.get(e);
  if (plan !== undefined) return evalTiered(e, plan, t, ctx);
  const a = e.args;
  const f = e.func;
  const simple = SIMPLE[f];
  if (simple !== undefined) return checkDistinct(vec(argVector(a[0]!, t, ctx).map((s) => ({ metric: s.metric, drop: true, value: simple(s.value), ts: t }))));
  const over = OVER_TIME[f];
  if (over !== undefined) {
    const out: VSample[] = [];
    for (const s of argMatrix(a[0]!, t, ctx)) {
      const v = over(s.ts, s.vs);
      if (v !== undefined) out.push({ metric: s.metric, drop: true, value: v, ts: t });
    }
    return checkDistinct(vec(out));
  }
  switch (f) {
    case 'histogram_count':
    case 'histogram_sum':
    case 'histogram_avg':
    case 'histogram_stddev':
    case 'histogram_stdvar':
      // They read native histograms only and skip float samples; Larder stores floats.
      argVector(a[0]!, t, ctx);
      return vec([]);
    case 'histogram_fraction':
      // Over classic `le` buckets, as Prometheus 3 also does.
      return vec(histogramFraction(argScalar(a[0]!, t, ctx), argScalar(a[1]!, t, ctx), argVector(a[2]!, t, ctx), t, ctx.warnings));
    case 'time':
      return { type: 'scalar', value: t / 1000 };
    case 'pi':
      return { type: 'scalar', value: Math.PI };
    case 'vector':
      return vec([{ metric: {}, value: argScalar(a[0]!, t, ctx), ts: t }]);
    case 'scalar': {
      const v = argVector(a[0]!, t, ctx);
      return { type: 'scalar', value: v.length === 1 ? v[0]!.value : Number.NaN };
    }
    case 'timestamp':
      return checkDistinct(vec(argVector(a[0]!, t, ctx).map((s) => ({ metric: s.metric, drop: true, value: s.ts / 1000, ts: t }))));
    case 'rate':
    case 'increase':
    case 'delta': {
      const range = rangeOf(a[0]!, ctx);
      const end = windowEnd(a[0]!, t, ctx);
      // A plain selector's windows are read in place (no copy per step): most of a
      // 1,000-series rate() range query's time and garbage went to those copies.
      const plain = a[0]!.kind === 'matrix' ? ctx.source.plainSeries(a[0]!.vector) : undefined;
      // One selector's series are distinct store series (name and labels), so their label sets are too.
      if (plain !== undefined) return vec(rateInPlace(f, plain, end, range, t, ctx.warnings));
      const out: VSample[] = [];
      for (const s of argMatrix(a[0]!, t, ctx)) {
        const v = extrapolatedRate(s.ts, s.vs, 0, s.ts.length - 1, end, range, f !== 'delta', f === 'rate');
        if (v === undefined) continue;
        out.push({ metric: s.metric, drop: true, value: v, ts: t });
        const info = f !== 'delta' ? notCounterInfo(s.metric['__name__'] ?? '') : undefined;
        if (info !== undefined && !ctx.warnings.includes(info)) ctx.warnings.push(info);
      }
      return checkDistinct(vec(out));
    }
    case 'last_over_time':
      return vec(argMatrix(a[0]!, t, ctx).map((s) => ({ metric: s.metric, value: s.vs[s.vs.length - 1]!, ts: t, ...(s.drop === true ? { drop: true } : {}) })));
    case 'first_over_time':
      return vec(argMatrix(a[0]!, t, ctx).map((s) => ({ metric: s.metric, value: s.vs[0]!, ts: t, ...(s.drop === true ? { drop: true } : {}) })));
    case 'quantile_over_time': {
      const q = argScalar(a[0]!, t, ctx);
      if (Number.isNaN(q) || q < 0 || q > 1) ctx.warnings.push(`PromQL warning: quantile value should be between 0 and 1, got ${q}`);
      return checkDistinct(vec(argMatrix(a[1]!, t, ctx).map((s) => ({ metric: s.metric, drop: true, value: quantile(q, [...s.vs]), ts: t }))));
    }
    case 'predict_linear': {
      const m = argMatrix(a[0]!, t, ctx);
      const d = argScalar(a[1]!, t, ctx);
      const out: VSample[] = [];
      for (const s of m) {
        if (s.vs.length < 2) continue;
        const [slope, intercept] = linearRegression(s.ts, s.vs, t);
        out.push({ metric: s.metric, drop: true, value: slope * d + intercept, ts: t });
      }
      return checkDistinct(vec(out));
    }
    case 'double_exponential_smoothing': {
      const m = argMatrix(a[0]!, t, ctx);
      const sf = argScalar(a[1]!, t, ctx);
      const tf = argScalar(a[2]!, t, ctx);
      if (!(sf > 0 && sf < 1)) throw new QueryError('execution', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`);
      if (!(tf > 0 && tf < 1)) throw new QueryError('execution', `invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`);
      const out: VSample[] = [];
      for (const s of m) {
        const v = s.vs;
        if (v.length < 2) continue;
        let s0 = 0;
        let s1 = v[0]!;
        let b = v[1]! - v[0]!;
        for (let i = 1; i < v.length; i++) {
          const x = sf * v[i]!;
          if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
          const y = (1 - sf) * (s1 + b);
          s0 = s1;
          s1 = x + y;
        }
        out.push({ metric: s.metric, drop: true, value: s1, ts: t });
      }
      return checkDistinct(vec(out));
    }
    case 'absent': {
      const v = argVector(a[0]!, t, ctx);
      return vec(v.length > 0 ? [] : [{ metric: absentLabels(a[0]!), value: 1, ts: t }]);
    }
    case 'absent_over_time': {
      const m = argMatrix(a[0]!, t, ctx);
      return vec(m.length > 0 ? [] : [{ metric: absentLabels(a[0]!), value: 1, ts: t }]);
    }
    case 'round': {
      const to = a[1] !== undefined ? argScalar(a[1], t, ctx) : 1;
      const inv = 1 / to;
      return checkDistinct(vec(argVector(a[0]!, t, ctx).map((s) => ({ metric: s.metric, drop: true, value: Math.floor(s.value * inv + 0.5) / inv, ts: t }))));
    }
    case 'clamp':
    case 'clamp_min':
    case 'clamp_max': {
      const v = argVector(a[0]!, t, ctx);
      let lo = -Infinity;
      let hi = Infinity;
      if (f === 'clamp') {
        lo = argScalar(a[1]!, t, ctx);
        hi = argScalar(a[2]!, t, ctx);
        if (hi < lo) return vec([]);
      } else if (f === 'clamp_min') lo = argScalar(a[1]!, t, ctx);
      else hi = argScalar(a[1]!, t, ctx);
      const clampV = (x: number): number => (Number.isNaN(x) || Number.isNaN(lo) || Number.isNaN(hi) ? Number.NaN : Math.max(lo, Math.min(hi, x)));
      return checkDistinct(vec(v.map((s) => ({ metric: s.metric, drop: true, value: clampV(s.value), ts: t }))));
    }
    case 'histogram_quantile': {
      const q = argScalar(a[0]!, t, ctx);
      return checkDistinct(vec(histogramQuantile(q, argVector(a[1]!, t, ctx), t, ctx.warnings)));
    }
    case 'label_replace': {
      const v = argVector(a[0]!, t, ctx);
      const dst = argString(a[1]!, t, ctx);
      const repl = argString(a[2]!, t, ctx);
      const src = argString(a[3]!, t, ctx);
      const reText = argString(a[4]!, t, ctx);
      let re: RegExp;
      try {
        re = compileAnchored(reText);
      } catch {
        throw new QueryError('execution', `invalid regular expression in label_replace(): ${reText}`);
      }
      if (!LABEL_NAME.test(dst) && dst !== '__name__') throw new QueryError('execution', `invalid destination label name in label_replace(): ${dst}`);
      const out = v.map((s) => {
        const m = re.exec(s.metric[src] ?? '');
        if (m === null) return s;
        const res = expand(repl, m);
        const metric: Record<string, string> = { ...s.metric };
        if (res === '') delete metric[dst];
        else metric[dst] = res;
        // Writing __name__ keeps it (delayed name removal).
        return { metric, value: s.value, ts: s.ts, ...(s.drop === true && dst !== '__name__' ? { drop: true } : {}) };
      });
      return checkDistinct(vec(out));
    }
    case 'label_join': {
      const v = argVector(a[0]!, t, ctx);
      const dst = argString(a[1]!, t, ctx);
      const sep = argString(a[2]!, t, ctx);
      const srcs = a.slice(3).map((x) => argString(x, t, ctx));
      if (!LABEL_NAME.test(dst)) throw new QueryError('execution', `invalid destination label name in label_join(): ${dst}`);
      for (const s of srcs) if (!LABEL_NAME.test(s)) throw new QueryError('execution', `invalid source label name in label_join(): ${s}`);
      const out = v.map((s) => {
        const res = srcs.map((l) => s.metric[l] ?? '').join(sep);
        const metric: Record<string, string> = { ...s.metric };
        if (res === '') delete metric[dst];
        else metric[dst] = res;
        // Writing __name__ keeps it (delayed name removal).
        return { metric, value: s.value, ts: s.ts, ...(s.drop === true && dst !== '__name__' ? { drop: true } : {}) };
      });
      return checkDistinct(vec(out));
    }
    case 'sort':
    case 'sort_desc': {
      const v = [...argVector(a[0]!, t, ctx)];
      const dir = f === 'sort' ? 1 : -1;
      v.sort((x, y) => {
        if (Number.isNaN(x.value)) return Number.isNaN(y.value) ? 0 : 1;
        if (Number.isNaN(y.value)) return -1;
        return dir * (x.value - y.value);
      });
      return vec(v);
    }
    case 'sort_by_label':
    case 'sort_by_label_desc': {
      const v = [...argVector(a[0]!, t, ctx)];
      const labels = a.slice(1).map((x) => argString(x, t, ctx));
      const dir = f === 'sort_by_label' ? 1 : -1;
      const coll = new Intl.Collator('en', { numeric: true });
      v.sort((x, y) => {
        for (const l of labels) {
          const c = coll.compare(x.metric[l] ?? '', y.metric[l] ?? '');
          if (c !== 0) return dir * c;
        }
        // Ties: by the whole label set, as Prometheus does.
        const kx = labelsKey(x.metric);
        const ky = labelsKey(y.metric);
        return dir * (kx < ky ? -1 : kx > ky ? 1 : 0);
      });
      return vec(v);
    }
    default:
      break;
  }
  const date = DATE_FNS[f];
  if (date !== undefined) {
    const v = a.length > 0 ? argVector(a[0]!, t, ctx) : [{ metric: {}, value: t / 1000, ts: t }];
    return checkDistinct(vec(v.map((s) => ({ metric: s.metric, drop: true, value: Number.isFinite(s.value) ? date(new Date(Math.floor(s.value) * 1000)) : Number.NaN, ts: t }))));
  }
  throw new QueryError('bad_data', `unknown function with name "${f}"`);
}


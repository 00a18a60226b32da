/** Aggregation operators (`sum`, `topk`, `quantile`, `count_values`, …) with `by`/`without`. */
import type { Aggregate } from './ast.js';
import { aggregateRateInPlace } from './aggregate-rate.js';
import { evaluate } from './eval.js';
import type { EvalContext } from './eval.js';
import { QueryError } from './types.js';
import { keyOn, keyWithout } from './values.js';
import type { VSample, Value } from './values.js';
import type { Labels } from '../storage/store.js';

/** Kahan-compensated sum, as Prometheus sums. */
export class KahanSum {
  sum = 0;
  c = 0;
  add(v: number): void {
    const t = this.sum + v;
    if (Math.abs(this.sum) >= Math.abs(v)) this.c += this.sum - t + v;
    else this.c += v - t + this.sum;
    this.sum = t;
  }
  get value(): number {
    // Infinite sums have no meaningful compensation.
    return Number.isFinite(this.sum) ? this.sum + this.c : this.sum;
  }
}

/** The φ-quantile of `values` (Prometheus' interpolation between closest ranks). */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const v = [...values].sort((a, b) => (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : a - b));
  const n = v.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const w = rank - Math.floor(rank);
  return v[lower]! * (1 - w) + v[upper]! * w;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  const [mant, expS] = s.split('e') as [string, string];
  const exp = Number(expS);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const point = (mant.replace('-', '').indexOf('.') === -1 ? mant.replace('-', '').length : mant.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Group {
  readonly metric: Labels;
  readonly samples: VSample[];
  /** `by (__name__)` and some input's name was to be dropped. */
  drop: boolean;
}

/** The labels of the group `l` falls in under `e`'s `by`/`without`. */
export function groupLabels(l: Labels, e: Aggregate): Labels {
  const out: Record<string, string> = {};
  if (e.without) {
    for (const k of Object.keys(l)) if (k !== '__name__' && !e.grouping.includes(k)) out[k] = l[k]!;
  } else {
    for (const k of e.grouping) {
      const v = l[k];
      if (v !== undefined && v !== '') out[k] = v;
    }
  }
  return out;
}

/** The value of an aggregation at time `t`. */
export function evalAggregate(e: Aggregate, t: number, ctx: EvalContext): Value {
  const fused = aggregateRateInPlace(e, t, ctx);
  if (fused !== undefined) return fused;
  const inner = evaluate(e.expr, t, ctx);
  if (inner.type !== 'vector') throw new QueryError('execution', `aggregation over ${inner.type}`);
  let param: Value | undefined;
  if (e.param !== undefined) param = evaluate(e.param, t, ctx);
  let samples = inner.samples;
  let extraLabel: string | undefined;
  if (e.op === 'count_values') {
    if (param?.type !== 'string') throw new QueryError('execution', 'count_values needs a string parameter');
    extraLabel = param.value;
    if (!LABEL_NAME.test(extraLabel)) throw new QueryError('execution', `invalid label name "${extraLabel}"`);
    samples = samples.map((s) => ({ metric: { ...s.metric, [extraLabel!]: formatFloatF(s.value) }, value: s.value, ts: s.ts }));
  }
  const key = e.without ? (l: Labels) => keyWithout(l, e.grouping) : (l: Labels) => keyOn(l, e.grouping);
  const groups = new Map<string, Group>();
  for (const s of samples) {
    const k = extraLabel !== undefined ? `${key(s.metric)}\x00${s.metric[extraLabel]}` : key(s.metric);
    let g = groups.get(k);
    if (g === undefined) {
      const metric = groupLabels(s.metric, e);
      groups.set(k, (g = { metric: extraLabel !== undefined ? { ...metric, [extraLabel]: s.metric[extraLabel]! } : metric, samples: [], drop: false }));
    }
    g.samples.push(s);
    if (s.drop === true && '__name__' in g.metric) g.drop = true;
  }
  const scalarParam = (): number => {
    if (param?.type !== 'scalar') throw new QueryError('execution', `${e.op} needs a scalar parameter`);
    return param.value;
  };
  const out: VSample[] = [];
  switch (e.op) {
    case 'topk':
    case 'bottomk': {
      const kf = scalarParam();
      if (Number.isNaN(kf)) throw new QueryError('execution', 'Parameter value is NaN');
      if (kf >= 2 ** 63) throw new QueryError('execution', `Scalar value ${kf} overflows int64`);
      const k = Math.trunc(kf);
      if (k < 1) return { type: 'vector', samples: [] };
      const top = e.op === 'topk';
      for (const g of groups.values()) {
        const sorted = [...g.samples].sort((a, b) => {
          // NaN sorts last for both.
          if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
          if (Number.isNaN(b.value)) return -1;
          return top ? b.value - a.value : a.value - b.value;
        });
        for (const s of sorted.slice(0, k)) out.push({ metric: s.metric, value: s.value, ts: t, ...(s.drop === true ? { drop: true } : {}) });
      }
      return { type: 'vector', samples: out };
    }
    case 'limitk': {
      const kf = scalarParam();
      if (Number.isNaN(kf)) throw new QueryError('execution', 'Parameter value is NaN');
      const k = Math.trunc(kf);
      for (const g of groups.values()) for (const s of g.samples.slice(0, Math.max(0, k))) out.push({ metric: s.metric, value: s.value, ts: t, ...(s.drop === true ? { drop: true } : {}) });
      return { type: 'vector', samples: out };
    }
    default:
      break;
  }
  let q = 0;
  if (e.op === 'quantile') {
    q = scalarParam();
    if (Number.isNaN(q) || q < 0 || q > 1) ctx.warnings.push(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloatF(q)}`);
  }
  for (const g of groups.values()) {
    const vs = g.samples.map((s) => s.value);
    let value: number;
    switch (e.op) {
      case 'sum': {
        const k = new KahanSum();
        for (const v of vs) k.add(v);
        value = k.value;
        break;
      }
      case 'avg':
        value = mean(vs);
        break;
      case 'count':
      case 'count_values':
        value = vs.length;
        break;
      case 'group':
        value = 1;
        break;
      case 'min':
        value = vs.reduce((m, v) => (v < m || Number.isNaN(m) ? v : m), vs[0]!);
        break;
      case 'max':
        value = vs.reduce((m, v) => (v > m || Number.isNaN(m) ? v : m), vs[0]!);
        break;
      case 'stddev':
      case 'stdvar': {
        const v = variance(vs);
        value = e.op === 'stddev' ? Math.sqrt(v) : v;
        break;
      }
      case 'quantile':
        value = quantile(q, vs);
        break;
      default:
        throw new QueryError('execution', `aggregation "${e.op}" is not supported`);
    }
    out.push({ metric: g.metric, value, ts: t, ...(g.drop ? { drop: true } : {}) });
  }
  return { type: 'vector', samples: out };
}

/** Mean as Prometheus computes it: a compensated sum, or an incremental mean once that overflows. */
export function mean(vs: readonly number[]): number {
  const k = new KahanSum();
  for (const v of vs) k.add(v);
  if (Number.isFinite(k.sum) || vs.some((v) => !Number.isFinite(v))) return k.value / vs.length;
  let m = 0;
  for (let i = 0; i < vs.length; i++) m += vs[i]! / vs.length;
  return m;
}

/** Population variance (Welford's method, as Prometheus). */
export function variance(vs: readonly number[]): number {
  let n = 0;
  let m = 0;
  let m2 = 0;
  for (const v of vs) {
    n++;
    const d = v - m;
    m += d / n;
    m2 += d * (v - m);
  }
  return n === 0 ? Number.NaN : m2 / n;
}

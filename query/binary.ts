/** Binary operators: scalar/vector arithmetic, comparisons, set operators, vector matching. */
import { COMPARISON_OPS } from './ast.js';
import type { Binary, BinaryOp, VectorMatching } from './ast.js';
import { QueryError } from './types.js';
import { formatLabels, keyOn, keyWithout, labelsKey } from './values.js';
import type { VSample, Value } from './values.js';
import type { Labels } from '../storage/store.js';

/** Go's math.Pow special cases where they differ from JavaScript's. */
function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return a ** b;
}

/** `a op b` for two numbers: [value, keep] (keep false when a comparison is false). */
export function scalarOp(op: BinaryOp, a: number, b: number): [number, boolean] {
  switch (op) {
    case '+':
      return [a + b, true];
    case '-':
      return [a - b, true];
    case '*':
      return [a * b, true];
    case '/':
      return [a / b, true];
    case '%':
      return [a % b, true];
    case '^':
      return [pow(a, b), true];
    case 'atan2':
      return [Math.atan2(a, b), true];
    case '==':
      return [a, a === b];
    case '!=':
      return [a, a !== b];
    case '<':
      return [a, a < b];
    case '>':
      return [a, a > b];
    case '<=':
      return [a, a <= b];
    case '>=':
      return [a, a >= b];
    default:
      throw new QueryError('execution', `operator "${op}" not allowed for scalars`);
  }
}

/** The result of a binary expression, given its evaluated operands at time `t`. */
export function evalBinary(e: Binary, l: Value, r: Value, t: number): Value {
  const cmp = COMPARISON_OPS.has(e.op);
  if (l.type === 'scalar' && r.type === 'scalar') {
    const [v, keep] = scalarOp(e.op, l.value, r.value);
    return { type: 'scalar', value: cmp ? (keep ? 1 : 0) : v };
  }
  if (l.type === 'vector' && r.type === 'scalar') return vectorScalar(e, l.samples, r.value, false, t);
  if (l.type === 'scalar' && r.type === 'vector') return vectorScalar(e, r.samples, l.value, true, t);
  if (l.type === 'vector' && r.type === 'vector') {
    const matching = e.matching ?? NO_MATCHING;
    switch (e.op) {
      case 'and':
        return { type: 'vector', samples: and(l.samples, r.samples, matching) };
      case 'or':
        return { type: 'vector', samples: or(l.samples, r.samples, matching) };
      case 'unless':
        return { type: 'vector', samples: unless(l.samples, r.samples, matching) };
      default:
        return { type: 'vector', samples: vectorVector(e, l.samples, r.samples, matching, t) };
    }
  }
  throw new QueryError('execution', `binary operator "${e.op}" between ${l.type} and ${r.type}`);
}

function vectorScalar(e: Binary, vec: readonly VSample[], s: number, swap: boolean, t: number): Value {
  const cmp = COMPARISON_OPS.has(e.op);
  const out: VSample[] = [];
  for (const x of vec) {
    const [v, keep] = swap ? scalarOp(e.op, s, x.value) : scalarOp(e.op, x.value, s);
    if (cmp && !e.returnBool) {
      // A filter keeps the vector's own sample, name included.
      if (keep) out.push({ metric: x.metric, value: x.value, ts: t, ...(x.drop === true ? { drop: true } : {}) });
      continue;
    }
    out.push({ metric: x.metric, drop: true, value: cmp ? (keep ? 1 : 0) : v, ts: t });
  }
  return { type: 'vector', samples: out };
}

/** Matching of an operator written without `on`/`ignoring`: one object, since keyOn/keyWithout memoize by the labels list's identity. */
const NO_MATCHING: VectorMatching = Object.freeze({ on: false, labels: Object.freeze([]) as readonly string[], card: 'one-to-one', include: Object.freeze([]) as readonly string[] });

function sig(m: VectorMatching): (l: Labels) => string {
  return m.on ? (l) => keyOn(l, m.labels) : (l) => keyWithout(l, m.labels);
}

function and(l: readonly VSample[], r: readonly VSample[], m: VectorMatching): VSample[] {
  const key = sig(m);
  const right = new Set(r.map((s) => key(s.metric)));
  return l.filter((s) => right.has(key(s.metric)));
}

function or(l: readonly VSample[], r: readonly VSample[], m: VectorMatching): VSample[] {
  const key = sig(m);
  const left = new Set(l.map((s) => key(s.metric)));
  return [...l, ...r.filter((s) => !left.has(key(s.metric)))];
}

function unless(l: readonly VSample[], r: readonly VSample[], m: VectorMatching): VSample[] {
  const key = sig(m);
  const right = new Set(r.map((s) => key(s.metric)));
  return l.filter((s) => !right.has(key(s.metric)));
}

function vectorVector(e: Binary, lhs: readonly VSample[], rhs: readonly VSample[], m: VectorMatching, t: number): VSample[] {
  const cmp = COMPARISON_OPS.has(e.op);
  const key = sig(m);
  const oneToMany = m.card === 'one-to-many';
  // "many" iterates, "one" is looked up by signature.
  const many = oneToMany ? rhs : lhs;
  const one = oneToMany ? lhs : rhs;
  const oneBySig = new Map<string, VSample>();
  for (const s of one) {
    const k = key(s.metric);
    const prev = oneBySig.get(k);
    if (prev !== undefined) {
      const side = oneToMany ? 'left' : 'right';
      throw new QueryError(
        'execution',
        `found duplicate series for the match group ${matchGroup(s.metric, m)} on the ${side} hand-side of the operation: [${formatLabels(prev.metric)}, ${formatLabels(s.metric)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    oneBySig.set(k, s);
  }
  const out: VSample[] = [];
  const seenOneToOne = new Set<string>();
  const seenResult = new Set<string>();
  for (const s of many) {
    const k = key(s.metric);
    const o = oneBySig.get(k);
    if (o === undefined) continue;
    if (m.card === 'one-to-one') {
      if (seenOneToOne.has(k)) {
        throw new QueryError('execution', `multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)`);
      }
      seenOneToOne.add(k);
    }
    const [a, b] = oneToMany ? [o.value, s.value] : [s.value, o.value];
    const [v, keep] = scalarOp(e.op, a, b);
    let value = v;
    if (cmp) {
      if (e.returnBool) value = keep ? 1 : 0;
      else if (!keep) continue;
    }
    const metric = resultMetric(s.metric, o.metric, m);
    const drop = !cmp || e.returnBool ? true : s.drop === true;
    if (m.card !== 'one-to-one') {
      const rk = labelsKey(metric);
      if (seenResult.has(rk)) throw new QueryError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
      seenResult.add(rk);
    }
    out.push({ metric, value, ts: t, drop });
  }
  return out;
}

function matchGroup(l: Labels, m: VectorMatching): string {
  const pick: Record<string, string> = {};
  for (const k of Object.keys(l)) {
    const inOn = m.labels.includes(k);
    if ((m.on && inOn) || (!m.on && !inOn && k !== '__name__')) pick[k] = l[k]!;
  }
  return formatLabels(pick);
}

/** Labels of a vector/vector result (Prometheus' resultMetric). */
function resultMetric(many: Labels, one: Labels, m: VectorMatching): Labels {
  const out: Record<string, string> = { ...many };
  if (m.card === 'one-to-one') {
    if (m.on) {
      for (const k of Object.keys(out)) if (!m.labels.includes(k)) delete out[k];
    } else for (const k of m.labels) delete out[k];
  }
  for (const k of m.include) {
    const v = one[k];
    if (v !== undefined && v !== '') out[k] = v;
    else delete out[k];
  }
  return out;
}

/**
 * What OpenMetrics 1.0 asks of a family's samples beyond their syntax: the sample
 * names each type has, the values counters and histograms may take, the labels
 * `le`, `quantile` and a stateset's own, where exemplars may go, that the samples of
 * one label set are contiguous with timestamps that never go back, and the shape of a
 * histogram (buckets in order, a `+Inf` bucket, `_count` equal to it, `_sum` with
 * `_count`). The rules are the specification's, as its reference parser applies them.
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import type { Sample } from '../metric-family.js';
import { ExpositionParseError } from './errors.js';
import { parseLabelFloat } from './numbers.js';
import type { DeclaredType } from './types.js';

/** The types OpenMetrics 1.0 declares. */
export const OM_TYPES: readonly DeclaredType[] = ['counter', 'gauge', 'histogram', 'summary', 'unknown', 'info', 'stateset', 'gaugehistogram'];

/** Sample-name suffixes of each type ('' = the family name itself). */
const SUFFIXES: Partial<Record<DeclaredType, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  info: ['_info'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
};

/** A family as far as the rules need it. */
export interface FamilyShape {
  readonly name: string;
  readonly type?: DeclaredType | undefined;
}

/** The sample names of a family of this type. */
export function sampleNames(f: FamilyShape): string[] {
  return (SUFFIXES[f.type ?? 'unknown'] ?? ['']).map((s) => f.name + s);
}

/**
 * The part a sample name plays in its family (`_total`, `_bucket`, '' …), or
 * undefined when the family has no such sample. A counter declared with its `_total`
 * (`# TYPE x_total counter`, sample `x_total`) is taken as Prometheus takes it.
 */
export function roleOf(f: FamilyShape, sampleName: string): string | undefined {
  if (!sampleName.startsWith(f.name)) return undefined;
  const suffix = sampleName.slice(f.name.length);
  const type = f.type ?? 'unknown';
  if (type === 'counter' && suffix === '' && f.name.endsWith('_total')) return '_total';
  return (SUFFIXES[type] ?? ['']).includes(suffix) ? suffix : undefined;
}

/** Throws (through `fail`) when a sample breaks its type's rules on labels, value or exemplar. */
export function checkSampleRules(f: FamilyShape, s: Sample, role: string, hasExemplar: boolean, fail: (why: string) => never): void {
  const type = f.type ?? 'unknown';
  const v = s.value;
  const what = `${type} ${f.name}: sample ${s.name}`;
  if (hasExemplar && !((type === 'counter' && role === '_total') || ((type === 'histogram' || type === 'gaugehistogram') && role === '_bucket'))) {
    fail(`${what} may not carry an exemplar (only counter _total and histogram _bucket samples do)`);
  }
  const counterLike = (type === 'counter' && role === '_total') || ((type === 'histogram' || type === 'gaugehistogram') && ['_bucket', '_count', '_sum', '_gcount', '_gsum'].includes(role)) || (type === 'summary' && (role === '_count' || role === '_sum'));
  if (counterLike && Number.isNaN(v)) fail(`${what} may not be NaN`);
  if (counterLike && role !== '_gsum' && v < 0) fail(`${what} may not be negative`);
  if ((type === 'histogram' || type === 'gaugehistogram') && role === '_bucket') {
    const le = s.labels['le'];
    if (le === undefined || parseLabelFloat(le, true) === undefined) fail(`${what} needs an le label with a number (+Inf spelled so)`);
  }
  if (type === 'summary' && role === '') {
    const q = s.labels['quantile'];
    const qv = q === undefined ? undefined : parseLabelFloat(q, true);
    if (qv === undefined || qv < 0 || qv > 1) fail(`${what} needs a quantile label with a number from 0 to 1`);
    if (v < 0) fail(`${what}: a quantile may not be negative`);
  }
  if (type === 'stateset') {
    if (s.labels[f.name] === undefined) fail(`${what} needs the label ${f.name} naming its state`);
    if (v !== 0 && v !== 1) fail(`${what}: a state is 0 or 1`);
  }
  if (type === 'info' && v !== 1) fail(`${what}: an info sample is 1`);
}

interface HistogramGroup {
  /** The line of the group's last sample, where a fault of the whole group is reported. */
  line: number;
  /** The last bucket's bound and count. */
  le?: number;
  bucketValue: number;
  count?: number;
  hasSum: boolean;
  hasGsum: boolean;
  negativeBuckets: boolean;
  negativeGsum: boolean;
}

/**
 * A family's samples in order: the label sets (less `le`, `quantile` or the state
 * label) contiguous, timestamps present for all or none of a set and never going
 * back (info excepted), and each histogram group whole, checked when it ends (a fault
 * of a whole group is reported on its last line). `finish()` checks the last group.
 */
export class SampleOrder {
  private started = false;
  private group = '';
  private groupTs: number | undefined;
  private readonly seen = new Set<string>();
  private hist: HistogramGroup | undefined;
  private histGroup = '';
  private histTs: number | undefined;

  constructor(private readonly f: FamilyShape) {}

  /** Adds the sample of line `lineNo` (`tsSeconds` as written) after checkSampleRules. */
  add(s: Sample, role: string, tsSeconds: number | undefined, lineNo: number): void {
    const fail = (why: string): never => {
      throw new ExpositionParseError(lineNo, why);
    };
    const type = this.f.type ?? 'unknown';
    const g = groupKey(this.f, s, role);
    if (this.started && g !== this.group && this.seen.has(g)) fail(`${this.f.name}: the samples of one label set must be together, not split by another set`);
    if (this.started && g === this.group) {
      if ((tsSeconds === undefined) !== (this.groupTs === undefined)) fail(`${this.f.name}: samples of one label set must all have a timestamp or none`);
      if (tsSeconds !== undefined && tsSeconds < this.groupTs! && type !== 'info') fail(`${this.f.name}: timestamps of one label set must not go back`);
    }
    if ((type === 'histogram' || type === 'gaugehistogram') && role !== '') this.addHistogram(s, role, g, tsSeconds, lineNo);
    this.started = true;
    this.group = g;
    this.groupTs = tsSeconds;
    this.seen.add(g);
  }

  private addHistogram(s: Sample, role: string, g: string, ts: number | undefined, lineNo: number): void {
    const fail = (why: string): never => {
      throw new ExpositionParseError(lineNo, why);
    };
    if (!this.hist || g !== this.histGroup || ts !== this.histTs) {
      this.finish();
      this.hist = { line: lineNo, bucketValue: 0, hasSum: false, hasGsum: false, negativeBuckets: false, negativeGsum: false };
    }
    this.histGroup = g;
    this.histTs = ts;
    const h = this.hist!;
    h.line = lineNo;
    if (role === '_bucket') {
      const le = parseLabelFloat(s.labels['le']!, true)!;
      if (le < 0) h.negativeBuckets = true;
      if (h.le !== undefined && le <= h.le) fail(`${this.f.name}: buckets must be in increasing order of le`);
      if (s.value < h.bucketValue) fail(`${this.f.name}: bucket counts must not decrease as le grows`);
      h.le = le;
      h.bucketValue = s.value;
    } else if (role === '_count' || role === '_gcount') {
      h.count = s.value;
    } else if (role === '_sum') {
      h.hasSum = true;
    } else if (role === '_gsum') {
      h.hasGsum = true;
      if (s.value < 0) h.negativeGsum = true;
    }
  }

  /** Checks the family's last histogram group (throws an ExpositionParseError naming its last line). */
  finish(): void {
    const h = this.hist;
    this.hist = undefined;
    if (!h) return;
    checkHistogram(`${this.f.type ?? 'histogram'} ${this.f.name}`, h, (why) => {
      throw new ExpositionParseError(h.line, why);
    });
  }
}

/** `what` is the type and name, e.g. `gaugehistogram a`. */
function checkHistogram(what: string, h: HistogramGroup, fail: (why: string) => never): void {
  if (h.le !== Infinity) fail(`${what}: the +Inf bucket is missing`);
  if (h.count !== undefined && h.count !== h.bucketValue) fail(`${what}: the count ${h.count} differs from the +Inf bucket ${h.bucketValue}`);
  if (h.hasSum && h.count === undefined) fail(`${what}: _sum needs _count`);
  if (h.hasGsum && h.count === undefined) fail(`${what}: _gsum needs _gcount`);
  if (!h.hasSum && !h.hasGsum && h.count !== undefined) fail(`${what}: _count needs _sum (or _gcount _gsum)`);
  if (h.negativeBuckets && h.hasSum) fail(`${what}: a histogram with negative buckets may not have _sum`);
  if (!h.negativeBuckets && h.negativeGsum) fail(`${what}: a negative _gsum needs negative buckets`);
}

/** The label set a sample's group is known by: its labels less le, quantile or the state label. */
function groupKey(f: FamilyShape, s: Sample, role: string): string {
  const type = f.type ?? 'unknown';
  if (type === 'info') return ''; // info samples are not told apart by groups
  let leave: string | undefined;
  if (type === 'summary' && role === '') leave = 'quantile';
  else if ((type === 'histogram' || type === 'gaugehistogram') && role === '_bucket') leave = 'le';
  else if (type === 'stateset') leave = f.name;
  const keys = Object.keys(s.labels).filter((k) => k !== leave);
  keys.sort();
  let key = '';
  for (const k of keys) key += `${k}\u0000${s.labels[k]}\u0000`;
  return key;
}

/**
 * A parser of the two exposition formats into MetricFamily[]: the Prometheus text
 * format 0.0.4 and OpenMetrics 1.0. Used by the textfile collector and by anything
 * that scrapes another process's /metrics. Pure: text in, families out, and an
 * ExpositionParseError naming the line for anything malformed.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import type { MetricKind } from './const-metric.js';
import type { MetricFamily, Sample } from './metric-family.js';

/** Which of the two formats the text is in. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** Every metric type either format can declare. */
export type DeclaredType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unknown' | 'info' | 'stateset' | 'gaugehistogram';

/**
 * A parsed family. `type` is the nearest of Larder's kinds (OpenMetrics `unknown` →
 * `untyped`, `info` and `stateset` → `gauge`, `gaugehistogram` → `untyped` since the
 * text format has no way to say it); `declaredType` keeps what the exposition said.
 * `name` follows the text-format convention: an OpenMetrics counter `x` becomes
 * family `x_total`, an info `x` becomes `x_info`, so the name is also its main
 * sample's name.
 */
export interface ParsedFamily extends MetricFamily {
  readonly declaredType: DeclaredType;
  /** OpenMetrics `# UNIT`, when given. */
  readonly unit?: string;
}

/** Malformed input, with the 1-based line it was found on. */
export class ExpositionParseError extends Error {
  override readonly name = 'ExpositionParseError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** A label name at `lastIndex` (sticky, so no substring per label). */
const LABEL_AT = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const TEXT_TYPES: readonly DeclaredType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const OM_TYPES: readonly DeclaredType[] = ['counter', 'gauge', 'histogram', 'summary', 'unknown', 'info', 'stateset', 'gaugehistogram'];

/** Sample-name suffixes each declared type allows ('' = the family name itself). */
const SUFFIXES: Record<'text' | 'openmetrics', Record<DeclaredType, readonly string[]>> = {
  text: {
    counter: [''],
    gauge: [''],
    untyped: [''],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    summary: ['', '_count', '_sum', '_created'],
    unknown: [''],
    info: [''],
    stateset: [''],
    gaugehistogram: [''],
  },
  openmetrics: {
    counter: ['_total', '_created'],
    gauge: [''],
    untyped: [''],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    summary: ['', '_count', '_sum', '_created'],
    unknown: [''],
    info: ['_info'],
    stateset: [''],
    gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  },
};

function kindOf(t: DeclaredType): MetricKind {
  switch (t) {
    case 'counter':
    case 'gauge':
    case 'histogram':
    case 'summary':
    case 'untyped':
      return t;
    case 'info':
    case 'stateset':
      return 'gauge';
    case 'unknown':
    case 'gaugehistogram':
      return 'untyped';
  }
}

interface Builder {
  /** The family name as declared (OpenMetrics counters without `_total`). */
  readonly name: string;
  help?: string;
  type?: DeclaredType;
  unit?: string;
  readonly samples: Sample[];
  readonly seen: Set<string>;
  /** OpenMetrics: the family's samples are over (another family began). */
  closed: boolean;
}

/**
 * Parses an exposition. Throws ExpositionParseError (with the line number) on:
 * bad metric or label names, bad escapes, unparsable values or timestamps, a second
 * HELP/TYPE for a family, TYPE after the family's samples, a sample name its family's
 * type does not allow, a histogram bucket without `le` or a summary quantile without
 * `quantile`, a duplicate series; and in OpenMetrics also: a missing or non-final
 * `# EOF`, blank lines, unknown `#` lines and interleaved families.
 */
export function parseExposition(text: string, format: ExpositionFormat): ParsedFamily[] {
  const om = format === 'openmetrics';
  const families = new Map<string, Builder>();
  const order: Builder[] = [];
  let current: Builder | undefined;
  let sawEof = false;

  const lines = text.split('\n');
  // A final newline ends the last line rather than starting an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const create = (name: string): Builder => {
    const b: Builder = { name, samples: [], seen: new Set(), closed: false };
    families.set(name, b);
    order.push(b);
    return b;
  };
  const enter = (b: Builder, lineNo: number): void => {
    if (om && current !== b) {
      if (b.closed) throw new ExpositionParseError(lineNo, `family ${b.name} is interleaved with another family`);
      if (current) current.closed = true;
    }
    current = b;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\r$/, '');
    if (sawEof) throw new ExpositionParseError(lineNo, 'content after # EOF');
    if (line.trim() === '') {
      if (om) throw new ExpositionParseError(lineNo, 'blank line (not allowed in OpenMetrics)');
      continue;
    }
    if (line.startsWith('#')) {
      if (om && line === '# EOF') {
        sawEof = true;
        continue;
      }
      // OpenMetrics is exact about spacing; the text format takes any blanks, like Prometheus' own parser.
      const m = om ? /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line) : /^#[ \t]*(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) {
        if (om) throw new ExpositionParseError(lineNo, `unexpected comment ${JSON.stringify(line)} (OpenMetrics allows only HELP, TYPE, UNIT and EOF)`);
        const keyword = /^#[ \t]*(HELP|TYPE)[ \t]*$/.exec(line);
        if (keyword) throw new ExpositionParseError(lineNo, `${keyword[1]} line without a metric name`);
        continue; // a plain comment
      }
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new ExpositionParseError(lineNo, `invalid metric name ${JSON.stringify(name)}`);
      const b = families.get(name!) ?? create(name!);
      enter(b, lineNo);
      if (om && b.samples.length > 0) throw new ExpositionParseError(lineNo, `${keyword} for ${name} after its samples`);
      if (keyword === 'HELP') {
        if (b.help !== undefined) throw new ExpositionParseError(lineNo, `second HELP line for ${name}`);
        b.help = unescapeHelp(rest, om);
      } else if (keyword === 'TYPE') {
        const t = (om ? rest.trim() : rest.trim().toLowerCase()) as DeclaredType;
        if (b.type !== undefined) throw new ExpositionParseError(lineNo, `second TYPE line for ${name}`);
        if (b.samples.length > 0) throw new ExpositionParseError(lineNo, `TYPE line for ${name} after its samples`);
        if (!(om ? OM_TYPES : TEXT_TYPES).includes(t)) {
          throw new ExpositionParseError(lineNo, `unknown metric type ${JSON.stringify(rest.trim())} for ${name}; expected one of ${(om ? OM_TYPES : TEXT_TYPES).join(', ')}`);
        }
        b.type = t;
      } else {
        if (b.unit !== undefined) throw new ExpositionParseError(lineNo, `second UNIT line for ${name}`);
        const unit = rest.trim();
        if (unit !== '' && !name!.endsWith(`_${unit}`)) throw new ExpositionParseError(lineNo, `metric ${name} with unit ${unit} must end in _${unit}`);
        b.unit = unit;
      }
      continue;
    }

    const s = parseSampleLine(line, lineNo, om);
    const b = familyOf(s.name, families, om) ?? create(s.name);
    enter(b, lineNo);
    checkSample(b, s, lineNo, om);
    b.samples.push(s);
  }
  if (om && !sawEof) throw new ExpositionParseError(lines.length + 1, 'missing # EOF at the end');

  return order.map((b) => finish(b, om));
}

function finish(b: Builder, om: boolean): ParsedFamily {
  const declared: DeclaredType = b.type ?? (om ? 'unknown' : 'untyped');
  let name = b.name;
  if (om && declared === 'counter' && !name.endsWith('_total')) name += '_total';
  if (om && declared === 'info') name += '_info';
  return {
    name,
    help: b.help ?? '',
    type: kindOf(declared),
    declaredType: declared,
    samples: b.samples,
    ...(b.unit !== undefined ? { unit: b.unit } : {}),
  };
}

/** The family a sample name belongs to, if one was declared (or seen) for it. */
function familyOf(sampleName: string, families: Map<string, Builder>, om: boolean): Builder | undefined {
  const format = om ? 'openmetrics' : 'text';
  const exact = families.get(sampleName);
  if (exact && SUFFIXES[format][exact.type ?? 'untyped'].includes('')) return exact;
  // an OpenMetrics counter declared with its _total (tolerated, as Prometheus does)
  if (exact && om && exact.type === 'counter' && sampleName.endsWith('_total')) return exact;
  for (const suffix of ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (base?.type && SUFFIXES[format][base.type].includes(suffix)) return base;
  }
  return exact;
}

function checkSample(b: Builder, s: Sample, lineNo: number, om: boolean): void {
  const type = b.type ?? (om ? 'unknown' : 'untyped');
  const suffix = s.name === b.name ? '' : s.name.slice(b.name.length);
  const allowed = SUFFIXES[om ? 'openmetrics' : 'text'][type];
  const counterAsTotal = om && type === 'counter' && b.name.endsWith('_total') && (suffix === '' || suffix === '_created');
  if (!s.name.startsWith(b.name) || (!allowed.includes(suffix) && !counterAsTotal)) {
    throw new ExpositionParseError(lineNo, `sample ${s.name} does not belong to ${type} family ${b.name} (expected ${allowed.map((x) => b.name + x).join(', ')})`);
  }
  if ((type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket') {
    const le = s.labels['le'];
    if (le === undefined || parseFloatToken(le) === undefined) throw new ExpositionParseError(lineNo, `histogram bucket ${s.name} needs a numeric le label`);
  }
  if (type === 'summary' && suffix === '') {
    const q = s.labels['quantile'];
    if (q === undefined || parseFloatToken(q) === undefined) throw new ExpositionParseError(lineNo, `summary sample ${s.name} needs a numeric quantile label`);
  }
  const key = seriesKey(s);
  if (b.seen.has(key)) throw new ExpositionParseError(lineNo, `duplicate sample ${s.name} with the same labels`);
  b.seen.add(key);
}

/** A string identifying name and label set (label order does not matter). \u0000 cannot occur in names. */
function seriesKey(s: Sample): string {
  const keys = Object.keys(s.labels);
  if (keys.length > 1) keys.sort();
  let key = s.name;
  for (const k of keys) key += `\u0000${k}\u0000${s.labels[k]}`;
  return key;
}

function unescapeHelp(s: string, om: boolean): string {
  return s.replace(/\\(.)/g, (whole, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && om) return '"';
    return whole; // the text format keeps other backslashes as they are
  });
}

/** Parses a float as both formats write them: decimals, exponents, NaN, ±Inf. */
export function parseFloatToken(token: string): number | undefined {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(token)) return Number(token);
  if (/^[+]?inf(?:inity)?$/i.test(token)) return Infinity;
  if (/^-inf(?:inity)?$/i.test(token)) return -Infinity;
  if (/^nan$/i.test(token)) return NaN;
  return undefined;
}

/** One sample line: `name{a="b",…} value [timestamp] [# exemplar]`. */
function parseSampleLine(line: string, lineNo: number, om: boolean): Sample {
  let pos = 0;
  const fail = (why: string): never => {
    throw new ExpositionParseError(lineNo, `${why}: ${JSON.stringify(line.length > 200 ? line.slice(0, 200) + '…' : line)}`);
  };
  const skipSpace = (): void => {
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };

  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail('expected a metric name');
  const name = nameMatch![0];
  pos = name.length;
  let brace = pos;
  if (!om) while (line[brace] === ' ' || line[brace] === '\t') brace++;
  const labels: Record<string, string> = {};
  if (line[brace] === '{') pos = parseLabels(line, brace + 1, labels, fail, om);

  if (line[pos] !== ' ' && (om || line[pos] !== '\t')) fail('expected a space before the value');
  if (om) pos++;
  else skipSpace();
  const rest = line.slice(pos);
  const hash = om ? rest.indexOf(' # ') : -1;
  const main = hash >= 0 ? rest.slice(0, hash) : rest;
  if (hash >= 0) parseExemplar(rest.slice(hash + 3), fail);
  // OpenMetrics separates by exactly one space; the text format by any blanks
  const tokens = om ? main.split(' ') : main.trim().split(/[ \t]+/);
  if (tokens.includes('')) fail('expected a value and an optional timestamp, separated by single spaces');
  if (tokens.length > 2 || tokens[0] === '') fail('expected a value and an optional timestamp');
  const value = parseFloatToken(tokens[0]!);
  if (value === undefined) fail(`invalid value ${JSON.stringify(tokens[0])}`);
  let timestampMs: number | undefined;
  if (tokens[1] !== undefined) {
    const ts = tokens[1];
    if (om) {
      const sec = parseFloatToken(ts);
      if (sec === undefined || !Number.isFinite(sec)) fail(`invalid timestamp ${JSON.stringify(ts)} (seconds expected)`);
      timestampMs = sec! * 1000;
    } else {
      if (!/^-?\d+$/.test(ts)) fail(`invalid timestamp ${JSON.stringify(ts)} (integer milliseconds expected)`);
      timestampMs = Number(ts);
    }
  }
  return timestampMs === undefined ? { name, labels, value: value! } : { name, labels, value: value!, timestampMs };
}

/** Parses `a="b",c="d"}` from `pos` (just after `{`); returns the position after `}`. */
function parseLabels(line: string, pos: number, into: Record<string, string>, fail: (why: string) => never, om: boolean): number {
  const skipSpace = (): void => {
    if (om) return;
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };
  skipSpace();
  while (line[pos] !== '}') {
    LABEL_AT.lastIndex = pos;
    const m = LABEL_AT.exec(line);
    if (!m) fail('expected a label name');
    const label = m![0];
    pos += label.length;
    skipSpace();
    if (line[pos] !== '=') fail(`expected = after label ${label}`);
    pos++;
    skipSpace();
    if (line[pos] !== '"') fail(`expected " to open the value of label ${label}`);
    pos++;
    // copy runs of plain characters at once; only escapes are handled one by one
    let value = '';
    for (;;) {
      let end = pos;
      while (end < line.length && line[end] !== '"' && line[end] !== '\\') end++;
      value += line.slice(pos, end);
      pos = end;
      const c = line[pos];
      if (c === undefined) fail(`unterminated value of label ${label}`);
      if (c === '"') break;
      const e = line[pos + 1];
      if (e === '\\') value += '\\';
      else if (e === '"') value += '"';
      else if (e === 'n') value += '\n';
      else fail(`invalid escape \\${e ?? ''} in the value of label ${label}`);
      pos += 2;
    }
    pos++; // closing quote
    if (Object.prototype.hasOwnProperty.call(into, label)) fail(`duplicate label ${label}`);
    into[label] = value;
    skipSpace();
    if (line[pos] === ',') {
      pos++;
      skipSpace();
    } else if (line[pos] !== '}') {
      fail('expected , or } after a label value');
    }
  }
  return pos + 1;
}

/** Validates an OpenMetrics exemplar (`{trace_id="x"} 1 [ts]`); exemplars are not kept. */
function parseExemplar(text: string, fail: (why: string) => never): void {
  if (!text.startsWith('{')) fail('expected { to open an exemplar');
  const labels: Record<string, string> = {};
  const end = parseLabels(text, 1, labels, fail, true);
  const tokens = text.slice(end).trim().split(' ');
  if (tokens.length < 1 || tokens.length > 2 || parseFloatToken(tokens[0]!) === undefined) fail('invalid exemplar value');
  if (tokens[1] !== undefined && parseFloatToken(tokens[1]) === undefined) fail('invalid exemplar timestamp');
}

/**
 * The Prometheus text format 0.0.4, read as Prometheus' own parser reads it: blanks
 * (spaces, tabs) before `#`, a metric name or a label, none needed between `}` and
 * the value, a trailing comma in a label set, CRLF line ends. A repeated series is
 * kept (the scrape drops and counts it, as Prometheus does); everything else
 * malformed throws an ExpositionParseError naming the line.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import type { Sample } from '../metric-family.js';
import { ExpositionParseError, quoteLine } from './errors.js';
import { parseLabelSet } from './labels.js';
import { parseFloatToken, parseLabelFloat } from './numbers.js';
import { kindOf, METRIC_NAME, type DeclaredType, type ParsedFamily } from './types.js';

const TYPES: readonly DeclaredType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** Sample-name suffixes each type allows ('' = the family name itself). */
const SUFFIXES: Partial<Record<DeclaredType, readonly string[]>> = {
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['', '_count', '_sum', '_created'],
};
const suffixesOf = (t: DeclaredType | undefined): readonly string[] => (t && SUFFIXES[t]) || [''];

interface Builder {
  readonly name: string;
  help?: string;
  type?: DeclaredType;
  readonly samples: Sample[];
}

/** A text-format line the parser skips (a comment that is not HELP or TYPE, or blank). */
export function isIgnorableTextLine(line: string): boolean {
  const s = line.replace(/^[ \t]+/, '');
  return s === '' || s === '\r' || (s.startsWith('#') && !/^#[ \t]*(HELP|TYPE)(?:[ \t]|$)/.test(s));
}

/** Parses the text format (a decoded string). */
export function parseTextFormat(text: string): ParsedFamily[] {
  const families = new Map<string, Builder>();
  const order: Builder[] = [];
  const create = (name: string): Builder => {
    const b: Builder = { name, samples: [] };
    families.set(name, b);
    order.push(b);
    return b;
  };

  const lines = text.split('\n');
  // A final newline ends the last line rather than starting an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#[ \t]*(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) {
        const keyword = /^#[ \t]*(HELP|TYPE)[ \t]*$/.exec(line);
        if (keyword) throw new ExpositionParseError(lineNo, `${keyword[1]} line without a metric name`);
        continue; // a plain comment
      }
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new ExpositionParseError(lineNo, `invalid metric name ${JSON.stringify(name)}`);
      const b = families.get(name!) ?? create(name!);
      if (keyword === 'HELP') {
        if (b.help !== undefined) throw new ExpositionParseError(lineNo, `second HELP line for ${name}`);
        b.help = unescapeHelp(rest);
      } else {
        const t = rest.trim().toLowerCase() as DeclaredType;
        if (b.type !== undefined) throw new ExpositionParseError(lineNo, `second TYPE line for ${name}`);
        if (b.samples.length > 0) throw new ExpositionParseError(lineNo, `TYPE line for ${name} after its samples`);
        if (!TYPES.includes(t)) throw new ExpositionParseError(lineNo, `unknown metric type ${JSON.stringify(rest.trim())} for ${name}; expected one of ${TYPES.join(', ')}`);
        b.type = t;
      }
      continue;
    }
    const s = parseSampleLine(line, lineNo);
    const b = familyOf(s.name, families) ?? create(s.name);
    checkSample(b, s, lineNo);
    b.samples.push(s);
  }
  return order.map((b) => {
    const declaredType = b.type ?? 'untyped';
    return { name: b.name, help: b.help ?? '', type: kindOf(declaredType), declaredType, samples: b.samples };
  });
}

/** The family a sample name belongs to, if one was declared (or seen) for it. */
function familyOf(sampleName: string, families: Map<string, Builder>): Builder | undefined {
  const exact = families.get(sampleName);
  if (exact && suffixesOf(exact.type).includes('')) return exact;
  for (const suffix of ['_bucket', '_count', '_sum', '_created']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (base?.type && suffixesOf(base.type).includes(suffix)) return base;
  }
  return exact;
}

function checkSample(b: Builder, s: Sample, lineNo: number): void {
  const type = b.type ?? 'untyped';
  const suffix = s.name.slice(b.name.length);
  const allowed = suffixesOf(type);
  if (!s.name.startsWith(b.name) || !allowed.includes(suffix)) {
    throw new ExpositionParseError(lineNo, `sample ${s.name} does not belong to ${type} family ${b.name} (expected ${allowed.map((x) => b.name + x).join(', ')})`);
  }
  if (type === 'histogram' && suffix === '_bucket' && (s.labels['le'] === undefined || parseLabelFloat(s.labels['le'], false) === undefined)) {
    throw new ExpositionParseError(lineNo, `histogram bucket ${s.name} needs a numeric le label`);
  }
  if (type === 'summary' && suffix === '' && (s.labels['quantile'] === undefined || parseLabelFloat(s.labels['quantile'], false) === undefined)) {
    throw new ExpositionParseError(lineNo, `summary sample ${s.name} needs a numeric quantile label`);
  }
}

/** `\\` and `\n` are escapes in HELP; other backslashes stay as they are. */
function unescapeHelp(s: string): string {
  return s.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** One sample line (leading blanks removed): `name{a="b",…} value [timestamp]`. */
function parseSampleLine(line: string, lineNo: number): Sample {
  const fail = (why: string): never => {
    throw new ExpositionParseError(lineNo, `${why}: ${quoteLine(line)}`);
  };
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail('expected a metric name');
  const name = nameMatch![0];
  let pos = name.length;
  let brace = pos;
  while (line[brace] === ' ' || line[brace] === '\t') brace++;
  const labels: Record<string, string> = {};
  if (line[brace] === '{') pos = parseLabelSet(line, brace + 1, labels, fail, false);
  else if (line[pos] !== ' ' && line[pos] !== '\t') fail('expected a space before the value');
  const tokens = line.slice(pos).trim().split(/[ \t]+/);
  if (tokens.length > 2 || tokens[0] === '') fail('expected a value and an optional timestamp');
  const value = parseFloatToken(tokens[0]!);
  if (value === undefined) fail(`invalid value ${JSON.stringify(tokens[0])}`);
  const ts = tokens[1];
  if (ts === undefined) return { name, labels, value: value! };
  if (!/^-?\d+$/.test(ts)) fail(`invalid timestamp ${JSON.stringify(ts)} (integer milliseconds expected)`);
  const timestampMs = Number(ts);
  if (!Number.isSafeInteger(timestampMs)) fail(`timestamp ${ts} out of range`);
  return { name, labels, value: value!, timestampMs };
}

/**
 * OpenMetrics 1.0 text, as strictly as the specification (and its own parser test
 * suite) asks: exact single spaces, `# EOF` last, no blank lines, only HELP, TYPE and
 * UNIT comments before a family's samples, one family at a time, no clashing names,
 * and the per-type rules of openmetrics-rules.ts. Timestamps are seconds (kept as ms).
 * A repeated series is kept; the scrape drops and counts it.
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import type { Sample } from '../metric-family.js';
import { ExpositionParseError, quoteLine } from './errors.js';
import { parseLabelSet } from './labels.js';
import { parseFloatToken } from './numbers.js';
import { checkSampleRules, OM_TYPES, roleOf, sampleNames, SampleOrder } from './openmetrics-rules.js';
import { kindOf, type DeclaredType, type ParsedFamily } from './types.js';

/** Most code points in an exemplar's label names and values together. */
const EXEMPLAR_MAX_CODEPOINTS = 128;

interface Family {
  readonly name: string;
  help?: string;
  type?: DeclaredType;
  unit?: string;
  readonly samples: Sample[];
  order: SampleOrder;
}

interface ParsedLine {
  readonly sample: Sample;
  readonly tsSeconds?: number;
  readonly hasExemplar: boolean;
}

/** Parses OpenMetrics text (a decoded string). */
export function parseOpenMetrics(text: string): ParsedFamily[] {
  const lines = text.split('\n');
  // A final newline ends the `# EOF` line rather than starting an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const families: Family[] = [];
  /** Every name a family uses (its own and its samples'), so two families cannot clash. */
  const reserved = new Map<string, Family>();
  let current: Family | undefined;
  let sawEof = false;

  const reserve = (f: Family, names: readonly string[], lineNo: number): void => {
    for (const n of names) {
      const owner = reserved.get(n);
      if (owner && owner !== f) throw new ExpositionParseError(lineNo, `${f.name}${f.type ? ` (${f.type})` : ''} clashes with family ${owner.name}: both use the name ${n}`);
      reserved.set(n, f);
    }
  };
  const close = (): void => {
    current?.order.finish();
    current = undefined;
  };
  const open = (name: string, lineNo: number): Family => {
    close();
    const owner = reserved.get(name);
    if (owner) {
      throw new ExpositionParseError(lineNo, owner.name === name ? `family ${name} is interleaved with another family (its lines must be together)` : `${name} clashes with family ${owner.name}, which uses that name`);
    }
    const f: Family = { name, samples: [], order: new SampleOrder({ name }) };
    reserve(f, [name], lineNo);
    families.push(f);
    current = f;
    return f;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    if (sawEof) throw new ExpositionParseError(lineNo, 'content after # EOF');
    if (line === '# EOF') {
      close();
      sawEof = true;
      continue;
    }
    if (line === '') throw new ExpositionParseError(lineNo, 'blank line (not allowed in OpenMetrics)');
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/s.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE|UNIT)(?: |$)/.test(line)) throw new ExpositionParseError(lineNo, `malformed metadata ${quoteLine(line)}: expected "# ${line.slice(2, 6)} <metric name> <value>", single spaces`);
        throw new ExpositionParseError(lineNo, `unexpected comment ${quoteLine(line)} (OpenMetrics allows only HELP, TYPE, UNIT and EOF)`);
      }
      const keyword = m[1]!;
      const name = m[2]!;
      const rest = m[3]!;
      const f = current?.name === name ? current : open(name, lineNo);
      if (f.samples.length > 0) throw new ExpositionParseError(lineNo, `${keyword} for ${name} after its samples`);
      if (keyword === 'HELP') {
        if (f.help !== undefined) throw new ExpositionParseError(lineNo, `second HELP line for ${name}`);
        f.help = rest.replace(/\\([\\n"])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      } else if (keyword === 'TYPE') {
        if (f.type !== undefined) throw new ExpositionParseError(lineNo, `second TYPE line for ${name}`);
        const t = rest as DeclaredType;
        if (!OM_TYPES.includes(t)) throw new ExpositionParseError(lineNo, `unknown metric type ${JSON.stringify(rest)} for ${name}; expected one of ${OM_TYPES.join(', ')}`);
        f.type = t;
        f.order = new SampleOrder({ name, type: t });
        reserve(f, sampleNames(f), lineNo);
      } else {
        if (f.unit !== undefined) throw new ExpositionParseError(lineNo, `second UNIT line for ${name}`);
        if (!/^[a-zA-Z0-9_:]*$/.test(rest)) throw new ExpositionParseError(lineNo, `invalid unit ${JSON.stringify(rest)} for ${name}`);
        if (rest !== '' && !name.endsWith(`_${rest}`)) throw new ExpositionParseError(lineNo, `metric ${name} with unit ${rest} must end in _${rest}`);
        f.unit = rest;
      }
      if (f.unit && (f.type === 'info' || f.type === 'stateset')) throw new ExpositionParseError(lineNo, `${f.type} ${name} cannot have a unit`);
      continue;
    }

    const p = parseSampleLine(line, lineNo);
    const s = p.sample;
    let f = current && roleOf(current, s.name) !== undefined ? current : undefined;
    if (!f) {
      if (current && reserved.get(s.name) === current) {
        throw new ExpositionParseError(lineNo, `sample ${s.name} does not belong to ${current.type ?? 'unknown'} family ${current.name} (expected ${sampleNames(current).join(', ')})`);
      }
      f = open(s.name, lineNo);
    }
    const fail = (why: string): never => {
      throw new ExpositionParseError(lineNo, why);
    };
    const role = roleOf(f, s.name)!;
    checkSampleRules(f, s, role, p.hasExemplar, fail);
    f.order.add(s, role, p.tsSeconds, lineNo);
    f.samples.push(s);
  }
  if (!sawEof) throw new ExpositionParseError(lines.length + 1, 'missing # EOF at the end');

  return families.map((f) => {
    const declaredType = f.type ?? 'unknown';
    let name = f.name;
    if (declaredType === 'counter' && !name.endsWith('_total')) name += '_total';
    if (declaredType === 'info') name += '_info';
    return { name, help: f.help ?? '', type: kindOf(declaredType), declaredType, samples: f.samples, ...(f.unit !== undefined ? { unit: f.unit } : {}) };
  });
}

/** One sample line: `name{a="b",…} value [timestamp] [# {labels} value [timestamp]]`, single spaces. */
function parseSampleLine(line: string, lineNo: number): ParsedLine {
  const fail = (why: string): never => {
    throw new ExpositionParseError(lineNo, `${why}: ${quoteLine(line)}`);
  };
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail('expected a metric name');
  const name = nameMatch![0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') pos = parseLabelSet(line, pos + 1, labels, fail, true);
  if (line[pos] !== ' ') fail('expected a space before the value');
  const valueToken = tokenAt(line, pos + 1);
  if (valueToken === '') fail('expected a value after a single space');
  const value = parseFloatToken(valueToken);
  if (value === undefined) fail(`invalid value ${JSON.stringify(valueToken)}`);
  pos += 1 + valueToken.length;

  let tsSeconds: number | undefined;
  let hasExemplar = false;
  if (pos < line.length) {
    pos++; // the space after the value
    if (!line.startsWith('# ', pos)) {
      const tsToken = tokenAt(line, pos);
      tsSeconds = parseFloatToken(tsToken);
      if (tsSeconds === undefined || !Number.isFinite(tsSeconds)) fail(`invalid timestamp ${JSON.stringify(tsToken)} (seconds expected)`);
      pos += tsToken.length;
      if (pos < line.length && !line.startsWith(' # ', pos)) fail('unexpected text after the timestamp');
      pos++;
    }
    if (pos < line.length) {
      parseExemplar(line, pos + 2, fail);
      hasExemplar = true;
    }
  }
  const sample: Sample = tsSeconds === undefined ? { name, labels, value: value! } : { name, labels, value: value!, timestampMs: Math.round(tsSeconds * 1000) };
  return { sample, hasExemplar, ...(tsSeconds !== undefined ? { tsSeconds } : {}) };
}

/** The text from `pos` to the next space or the end. */
function tokenAt(line: string, pos: number): string {
  const end = line.indexOf(' ', pos);
  return line.slice(pos, end < 0 ? line.length : end);
}

/** Checks an exemplar (`{trace_id="x"} 1 [ts]`) from `pos`; exemplars are not kept. */
function parseExemplar(line: string, pos: number, fail: (why: string) => never): void {
  if (line[pos] !== '{') fail('expected { to open an exemplar');
  const labels: Record<string, string> = {};
  pos = parseLabelSet(line, pos + 1, labels, fail, true);
  let codepoints = 0;
  for (const [k, v] of Object.entries(labels)) codepoints += [...k].length + [...v].length;
  if (codepoints > EXEMPLAR_MAX_CODEPOINTS) fail(`exemplar labels of ${codepoints} characters (at most ${EXEMPLAR_MAX_CODEPOINTS})`);
  if (line[pos] !== ' ') fail('expected a space before the exemplar value');
  const tokens = line.slice(pos + 1).split(' ');
  if (tokens.length > 2 || parseFloatToken(tokens[0]!) === undefined) fail('invalid exemplar value');
  if (tokens[1] !== undefined) {
    const ts = parseFloatToken(tokens[1]);
    if (ts === undefined || !Number.isFinite(ts)) fail('invalid exemplar timestamp');
  }
}

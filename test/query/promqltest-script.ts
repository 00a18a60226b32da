/**
 * Reads PromQL's test scripts (../shared/reference/promqltest/SCRIPTING.md): `load`,
 * `clear`, `eval instant|range` and `expect …` lines; series and their expanding point
 * notation with src/alerting/series-notation.ts, which promtool's rule tests share.
 */
import { parseDuration } from '../../query/parse.js';
import { parseSeriesDesc, parseSeriesNumber, parseSeriesValues } from '../../src/alerting/series-notation.js';
import type { SeriesPoint } from '../../src/alerting/series-notation.js';
import type { Labels } from '../../storage/store.js';

/** One value of a series in a script: a number, missing (`_`), or a stale marker (the notation of src/alerting/series-notation.ts). */
export type ScriptPoint = SeriesPoint;

/** A series line: labels and expanded points. */
export interface ScriptSeries {
  readonly metric: Labels;
  readonly points: readonly ScriptPoint[];
  /** The line holds a native histogram (`{{…}}`). */
  readonly histogram: boolean;
}

/** `load <interval>` (or `load_with_nhcb`) and its series. */
export interface LoadCommand {
  readonly kind: 'load';
  readonly line: number;
  readonly intervalMs: number;
  readonly series: readonly ScriptSeries[];
  readonly withNhcb: boolean;
  /** Lines that could not be read, with why. */
  readonly errors: readonly string[];
}

/** One `expect` line (or a deprecated `eval_fail`-style variant). */
export interface Expectation {
  readonly type: 'fail' | 'warn' | 'info' | 'no_warn' | 'no_info' | 'ordered' | 'string' | 'range';
  readonly match?: 'msg' | 'regex';
  readonly text?: string;
}

/** `eval instant at …` or `eval range from … to … step …`, with its expectations. */
export interface EvalCommand {
  readonly kind: 'eval';
  readonly line: number;
  readonly query: string;
  readonly instant: boolean;
  readonly atMs: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
  readonly expects: readonly Expectation[];
  /** Expected series; a scalar result is one series with empty labels and `scalar` true. */
  readonly expected: readonly ScriptSeries[];
  readonly scalarExpected: boolean;
  /** `expect range vector from … to … step …` of an instant query. */
  readonly rangeVector?: { readonly startMs: number; readonly endMs: number; readonly stepMs: number };
  readonly errors: readonly string[];
  readonly hasHistogram: boolean;
}

/** A script command. */
export type Command = LoadCommand | { readonly kind: 'clear'; readonly line: number } | EvalCommand;

function duration(s: string): number {
  const neg = s.startsWith('-');
  const d = parseDuration(neg ? s.slice(1) : s);
  if (d === undefined) throw new Error(`invalid duration ${JSON.stringify(s)}`);
  return neg ? -d : d;
}

/** Splits `metric{a="b"} 1 2 3` into the series text and the rest. */
export function splitSeries(line: string): [string, string] {
  const s = line.trim();
  let i = 0;
  while (i < s.length && /[a-zA-Z0-9_:.]/.test(s[i]!)) i++;
  if (s[i] === '{') {
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (quote !== '') {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'" || c === '`') quote = c;
      else if (c === '}') {
        i++;
        break;
      }
    }
  }
  return [s.slice(0, i), s.slice(i)];
}

/** Labels of a series descriptor (`{}` = none). */
export function parseSeriesLabels(text: string): Labels {
  return /^\{\s*\}$/.test(text) ? {} : parseSeriesDesc(text);
}

function seriesLine(line: string): ScriptSeries {
  const [desc, rest] = splitSeries(line);
  const histogram = rest.includes('{{');
  return { metric: parseSeriesLabels(desc), points: histogram ? [] : parseSeriesValues(rest), histogram };
}

function unquoteExpect(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith('`') && t.endsWith('`'))) {
    const body = t.slice(1, -1);
    return t[0] === '`' ? body : (JSON.parse(t) as string);
  }
  return t;
}

function parseExpect(rest: string): Expectation {
  const m = /^(fail|warn|info|no_warn|no_info|ordered|string|range)\b\s*(.*)$/.exec(rest.trim());
  if (m === null) throw new Error(`invalid expect line: ${rest}`);
  const type = m[1] as Expectation['type'];
  const tail = m[2]!.trim();
  if (type === 'string') return { type, text: unquoteExpect(tail) };
  if (type === 'range') return { type, text: tail };
  const mm = /^(msg|regex)\s*:\s?(.*)$/.exec(tail);
  if (mm !== null) return { type, match: mm[1] as 'msg' | 'regex', text: mm[2]!.trim() };
  return { type };
}

/** Parses a whole script. */
export function parseScript(text: string): Command[] {
  const lines = text.split('\n');
  const out: Command[] = [];
  let i = 0;
  const body = (): { line: string; no: number }[] => {
    const b: { line: string; no: number }[] = [];
    while (i < lines.length && lines[i]!.trim() !== '' && /^\s/.test(lines[i]!)) {
      if (!lines[i]!.trim().startsWith('#')) b.push({ line: lines[i]!, no: i + 1 });
      i++;
    }
    // Expected lines may also start at column 0 when not a command.
    while (i < lines.length && lines[i]!.trim() !== '' && !/^(load|clear|eval)/.test(lines[i]!) && !lines[i]!.startsWith('#')) {
      b.push({ line: lines[i]!, no: i + 1 });
      i++;
    }
    return b;
  };
  while (i < lines.length) {
    const raw = lines[i]!;
    const no = i + 1;
    const line = raw.trim();
    i++;
    if (line === '' || line.startsWith('#')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^load(_with_nhcb)?\s+(\S+)$/.exec(line)) !== null) {
      const errors: string[] = [];
      const series: ScriptSeries[] = [];
      for (const b of body()) {
        try {
          series.push(seriesLine(b.line));
        } catch (e) {
          errors.push(`line ${b.no}: ${(e as Error).message}`);
        }
      }
      out.push({ kind: 'load', line: no, intervalMs: duration(m[2]!), series, withNhcb: m[1] !== undefined, errors });
    } else if (line === 'clear') out.push({ kind: 'clear', line: no });
    else if ((m = /^eval(_fail|_warn|_info|_ordered)?\s+(instant|range)\s+(.*)$/.exec(line)) !== null) {
      const errors: string[] = [];
      const expects: Expectation[] = [];
      if (m[1] !== undefined) expects.push({ type: m[1].slice(1) === 'fail' ? 'fail' : (m[1].slice(1) as Expectation['type']) });
      let query: string;
      let atMs = 0;
      let startMs = 0;
      let endMs = 0;
      let stepMs = 0;
      const instant = m[2] === 'instant';
      if (instant) {
        const im = /^at\s+(\S+)\s+(.*)$/.exec(m[3]!);
        if (im === null) throw new Error(`line ${no}: invalid eval instant`);
        atMs = duration(im[1]!);
        query = im[2]!;
      } else {
        const rm = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/.exec(m[3]!);
        if (rm === null) throw new Error(`line ${no}: invalid eval range`);
        startMs = duration(rm[1]!);
        endMs = duration(rm[2]!);
        stepMs = duration(rm[3]!);
        query = rm[4]!;
      }
      const expected: ScriptSeries[] = [];
      let scalarExpected = false;
      let rangeVector: EvalCommand['rangeVector'];
      let hasHistogram = false;
      for (const b of body()) {
        const t = b.line.trim();
        try {
          if (t.startsWith('expect ')) {
            const ex = parseExpect(t.slice(7));
            if (ex.type === 'range') {
              const rm = /^vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/.exec(ex.text ?? '');
              if (rm === null) throw new Error(`invalid expect range vector: ${t}`);
              rangeVector = { startMs: duration(rm[1]!), endMs: duration(rm[2]!), stepMs: duration(rm[3]!) };
            } else expects.push(ex);
          } else {
            const scalar = parseSeriesNumber(t);
            if (scalar !== undefined) {
              scalarExpected = true;
              expected.push({ metric: {}, points: [scalar], histogram: false });
            } else {
              const s = seriesLine(t);
              if (s.histogram) hasHistogram = true;
              expected.push(s);
            }
          }
        } catch (e) {
          errors.push(`line ${b.no}: ${(e as Error).message}`);
        }
      }
      out.push({ kind: 'eval', line: no, query, instant, atMs, startMs, endMs, stepMs, expects, expected, scalarExpected, ...(rangeVector !== undefined ? { rangeVector } : {}), errors, hasHistogram });
    } else throw new Error(`line ${no}: unknown command ${JSON.stringify(line)}`);
  }
  return out;
}

/**
 * The series notation of Prometheus' test files (promtool's `input_series`, promqltest's
 * `load`): `metric{a="b"}` and values such as `1 2+3x2 _ _x3 stale` (`a+bxn` expands to
 * n+1 points a, a+b, …). It lives in src/ because `larder test rules` ships; the PromQL
 * corpus runner (test/query/promqltest-script.ts) reads its `load` blocks with it too.
 */
import { parseQuery } from '../../query/parse.js';
import type { Labels } from '../../storage/store.js';

/** One point: a number, missing (`_`), or a stale marker. */
export type SeriesPoint = number | 'missing' | 'stale';

/** Most points one values string may expand to. */
const MAX_POINTS = 1_000_000;

const NUM = String.raw`[-+]?(?:[0-9]+\.?[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[Ii]nf|NaN|nan)`;
const UNUM = String.raw`(?:[0-9]+\.?[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[Ii]nf|NaN|nan)`;
const EXPANDING = new RegExp(`^(${NUM})(?:([-+])(${UNUM}))?x([0-9]+)$`);
const SINGLE = new RegExp(`^${NUM}$`);

function num(s: string): number {
  const t = s.replace(/^\+/, '');
  if (/^-?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return Number.NaN;
  return Number(t);
}

/** One number as the notation writes it (`1.5`, `-Inf`, `NaN`, `+2e3`); undefined when `text` is not one. */
export function parseSeriesNumber(text: string): number | undefined {
  return SINGLE.test(text) ? num(text) : undefined;
}

/** Expands a values string; throws naming the bad token. */
export function parseSeriesValues(text: string): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  const push = (p: SeriesPoint): void => {
    if (out.length >= MAX_POINTS) throw new Error(`more than ${MAX_POINTS} points`);
    out.push(p);
  };
  for (const tok of text.trim().split(/\s+/).filter((x) => x !== '')) {
    if (tok === '_') push('missing');
    else if (tok === 'stale') push('stale');
    else if (/^_x[0-9]+$/.test(tok)) for (let i = 0; i < Number(tok.slice(2)); i++) push('missing');
    else {
      const m = EXPANDING.exec(tok);
      if (m === null) {
        if (!SINGLE.test(tok)) throw new Error(`invalid value ${JSON.stringify(tok)}`);
        push(num(tok));
        continue;
      }
      const a = num(m[1]!);
      const b = m[3] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * num(m[3]);
      const n = Number(m[4]);
      for (let i = 0; i <= n; i++) push(a + b * i);
    }
  }
  return out;
}

/** Labels of a series descriptor such as `up{job="api"}` (`__name__` included). */
export function parseSeriesDesc(text: string): Labels {
  const e = parseQuery(text.trim());
  if (e.kind !== 'vector') throw new Error(`not a series: ${text}`);
  const out: Record<string, string> = {};
  for (const m of e.matchers) {
    if (m.op !== '=') throw new Error(`series ${text}: only = matchers describe a series`);
    if (m.value !== '') out[m.label] = m.value;
  }
  return out;
}

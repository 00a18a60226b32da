/**
 * Values and functions of rule templates: Go's printing of floats (`%v`, `%.4g`),
 * `printf`, and Prometheus' template functions (prometheus/template/template.go), so
 * an annotation reads the same in Larder as in Prometheus.
 */
import { TemplateError } from './template-error.js';

/** An integer literal: Go keeps `5` (int) apart from `5.0` (float64), and printf shows it. */
export class GoInt {
  constructor(readonly value: number) {}
}

/** A template value: string, float64 (number), int, bool, a label map, a list, or nil. */
export type TValue = string | number | boolean | GoInt | null | { readonly [k: string]: TValue } | readonly TValue[];

// ---- Go's float formatting ----------------------------------------------------

/** Decimal digits (no trailing zeros) and the decimal point's position of |v|, at `prec` significant digits or the shortest. */
function digitsOf(v: number, prec: number): { d: string; dp: number } {
  const e = prec < 0 ? Math.abs(v).toExponential() : Math.abs(v).toExponential(Math.max(prec - 1, 0));
  const [mant, exp] = e.split('e') as [string, string];
  let d = mant.replace('.', '').replace(/0+$/, '');
  if (d === '') d = '0';
  return { d, dp: d === '0' ? 1 : Number(exp) + 1 };
}

function fmtE(neg: boolean, d: string, dp: number, prec: number, e: string): string {
  let s = d[0]!;
  if (prec > 0) s += `.${d.slice(1, prec + 1).padEnd(prec, '0')}`;
  const x = d === '0' ? 0 : dp - 1;
  const ax = Math.abs(x);
  return `${neg ? '-' : ''}${s}${e}${x < 0 ? '-' : '+'}${ax < 10 ? `0${ax}` : ax}`;
}

function fmtF(neg: boolean, d: string, dp: number, prec: number): string {
  let s = dp > 0 ? d.slice(0, dp).padEnd(dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      s += j >= 0 && j < d.length ? d[j] : '0';
    }
  }
  return `${neg ? '-' : ''}${s}`;
}

/** Go's strconv.FormatFloat(v, fmt, prec, 64) for fmt e, f, g (prec -1: shortest). */
export function goFloat(v: number, fmt: 'e' | 'f' | 'g', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  if (fmt === 'f') {
    if (prec >= 0 && Math.abs(v) < 1e21) {
      const s = Math.abs(v).toFixed(Math.min(prec, 100));
      return `${neg ? '-' : ''}${s}`;
    }
    const { d, dp } = digitsOf(v, -1);
    return fmtF(neg, d, dp, prec < 0 ? Math.max(d.length - dp, 0) : prec);
  }
  if (fmt === 'e') {
    const { d, dp } = digitsOf(v, prec < 0 ? -1 : prec + 1);
    return fmtE(neg, d, dp, prec < 0 ? d.length - 1 : prec, 'e');
  }
  const shortest = prec < 0;
  let p = prec === 0 ? 1 : prec;
  const { d, dp } = digitsOf(v, shortest ? -1 : p);
  if (shortest) p = 6;
  let eprec = p;
  if (!shortest && eprec > d.length && d.length >= dp) eprec = d.length;
  const exp = dp - 1;
  const digits = shortest ? d.length : p;
  if (exp < -4 || exp >= eprec) return fmtE(neg, d, dp, Math.min(digits, d.length) - 1, 'e');
  const fp = digits > dp ? d.length : digits;
  return fmtF(neg, d, dp, Math.max(fp - dp, 0));
}

/** How `{{ x }}` prints a value (Go's `%v`). */
export function formatValue(v: TValue): string {
  if (v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v, 'g', -1);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof GoInt) return String(v.value);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  const m = v as Record<string, TValue>;
  return `map[${Object.keys(m).sort().map((k) => `${k}:${formatValue(m[k]!)}`).join(' ')}]`;
}

/** Go template truth: false, 0, nil, "" and empty maps are false. */
export function isTrue(v: TValue): boolean {
  if (v === null) return false;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoInt) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

function goType(v: TValue): string {
  if (v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return 'int';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]string';
}

// ---- printf ------------------------------------------------------------------

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const sign = /^[-+ ]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width, ' ');
}

/** Go's fmt.Sprintf for the verbs templates use: %s %q %v %d %f %F %e %g %x %X %t %%. */
export function sprintf(format: string, args: readonly TValue[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/.exec(format.slice(i + 1));
    if (!m) {
      out += '%!(NOVERB)';
      break;
    }
    i += m[0].length;
    const [, flags = '', w, precText, verb] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (verb === '%') {
      out += '%';
      continue;
    }
    const width = w === undefined ? 0 : Number(w);
    const prec = precText === undefined ? -1 : precText === '' ? 0 : Number(precText);
    const left = flags.includes('-');
    const zero = flags.includes('0') && !left;
    const plus = flags.includes('+');
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++]!;
    const bad = (): string => `%!${verb}(${goType(a)}=${formatValue(a)})`;
    let s: string;
    const num = typeof a === 'number' ? a : a instanceof GoInt ? a.value : undefined;
    const sign = (x: string): string => (plus && !x.startsWith('-') && !x.startsWith('+') ? `+${x}` : x);
    switch (verb) {
      case 'v':
        s = typeof a === 'number' && prec >= 0 ? goFloat(a, 'g', prec) : num !== undefined ? sign(formatValue(a)) : formatValue(a);
        break;
      case 's':
        s = typeof a === 'string' ? (prec >= 0 ? a.slice(0, prec) : a) : typeof a === 'object' && a !== null && !(a instanceof GoInt) ? formatValue(a) : bad();
        break;
      case 'q':
        s = typeof a === 'string' ? JSON.stringify(a) : a instanceof GoInt ? `'${String.fromCodePoint(a.value)}'` : bad();
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : bad();
        break;
      case 'd':
        s = a instanceof GoInt ? sign(String(a.value)) : bad();
        break;
      case 'x':
      case 'X': {
        let x: string;
        if (a instanceof GoInt) x = (a.value < 0 ? '-' : '') + Math.abs(a.value).toString(16);
        else if (typeof a === 'string') x = Buffer.from(a, 'utf8').toString('hex');
        else {
          s = bad();
          break;
        }
        s = verb === 'X' ? x.toUpperCase() : x;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (typeof a !== 'number') {
          s = bad();
          break;
        }
        s = goFloat(a, verb.toLowerCase() as 'f' | 'e' | 'g', verb.toLowerCase() === 'g' ? prec : prec < 0 ? 6 : prec);
        if (verb === 'E' || verb === 'G') s = s.toUpperCase();
        s = sign(s);
        break;
      default:
        s = bad();
    }
    out += pad(s, width, left, zero && num !== undefined);
  }
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => `${goType(a)}=${formatValue(a)}`).join(', ')})`;
  return out;
}

// ---- Prometheus' functions ---------------------------------------------------

function toFloat(v: TValue, fn: string): number {
  if (typeof v === 'number') return v;
  if (v instanceof GoInt) return v.value;
  if (typeof v === 'string') {
    const t = v.trim();
    const n = /^[-+]?inf(inity)?$/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(t) ? NaN : t === '' ? NaN : Number(t);
    if (Number.isNaN(n) && !/^nan$/i.test(t)) throw new TemplateError(`error calling ${fn}: strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
    return n;
  }
  throw new TemplateError(`error calling ${fn}: can't convert ${goType(v)} to float`);
}

const g4 = (v: number): string => goFloat(v, 'g', 4);

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return `${g4(v)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    v = Math.abs(v);
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.trunc(d / 60) % 60;
    const hours = Math.trunc(d / 3600) % 24;
    const days = Math.trunc(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** Go's time.Time.String() of a UTC time at millisecond precision: `2006-01-02 15:04:05.123 +0000 UTC`. */
function goTimeString(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.123Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  const ms = Math.trunc(v * 1000);
  if (Math.abs(ms) > 8.64e15) throw new TemplateError('error calling humanizeTimestamp: timestamp out of range');
  return goTimeString(ms);
}

function str(v: TValue, fn: string): string {
  if (typeof v !== 'string') throw new TemplateError(`error calling ${fn}: wrong type for value; expected string; got ${goType(v)}`);
  return v;
}

function compare(a: TValue, b: TValue, fn: string): number {
  const na = typeof a === 'number' ? a : a instanceof GoInt ? a.value : undefined;
  const nb = typeof b === 'number' ? b : b instanceof GoInt ? b.value : undefined;
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (fn === 'eq' || fn === 'ne')) return a === b ? 0 : 1;
  throw new TemplateError(`error calling ${fn}: incompatible types for comparison`);
}

function arity(name: string, args: readonly TValue[], n: number): void {
  if (args.length !== n) throw new TemplateError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

/** A regular expression from a template, refused when it is too long to be sane. */
function regex(pattern: string, fn: string): RegExp {
  if (pattern.length > 1000) throw new TemplateError(`error calling ${fn}: pattern longer than 1000 characters`);
  try {
    return new RegExp(pattern, 'gu');
  } catch (e) {
    throw new TemplateError(`error calling ${fn}: ${(e as Error).message}`);
  }
}

const FUNCS: Record<string, (args: readonly TValue[]) => TValue> = {
  humanize: (a) => (arity('humanize', a, 1), humanize(toFloat(a[0]!, 'humanize'))),
  humanize1024: (a) => (arity('humanize1024', a, 1), humanize1024(toFloat(a[0]!, 'humanize1024'))),
  humanizeDuration: (a) => (arity('humanizeDuration', a, 1), humanizeDuration(toFloat(a[0]!, 'humanizeDuration'))),
  humanizePercentage: (a) => (arity('humanizePercentage', a, 1), `${g4(toFloat(a[0]!, 'humanizePercentage') * 100)}%`),
  humanizeTimestamp: (a) => (arity('humanizeTimestamp', a, 1), humanizeTimestamp(toFloat(a[0]!, 'humanizeTimestamp'))),
  printf: (a) => {
    if (a.length === 0) throw new TemplateError('wrong number of args for printf: want at least 1 got 0');
    return sprintf(str(a[0]!, 'printf'), a.slice(1));
  },
  print: (a) => a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + formatValue(x)).join(''),
  toUpper: (a) => (arity('toUpper', a, 1), str(a[0]!, 'toUpper').toUpperCase()),
  toLower: (a) => (arity('toLower', a, 1), str(a[0]!, 'toLower').toLowerCase()),
  title: (a) => (arity('title', a, 1), str(a[0]!, 'title').replace(/(^|[^\p{L}\p{N}_'])(\p{Ll})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase())),
  match: (a) => {
    arity('match', a, 2);
    const re = regex(str(a[0]!, 'match'), 'match');
    return re.test(str(a[1]!, 'match'));
  },
  reReplaceAll: (a) => {
    arity('reReplaceAll', a, 3);
    const re = regex(str(a[0]!, 'reReplaceAll'), 'reReplaceAll');
    // Go's $1 / ${1} expansion is JavaScript's $1; a `$name` group reads as `$<name>`
    const repl = str(a[1]!, 'reReplaceAll').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, '$<$1>');
    return str(a[2]!, 'reReplaceAll').replace(re, repl);
  },
  stripPort: (a) => {
    arity('stripPort', a, 1);
    const s = str(a[0]!, 'stripPort');
    const m = /^\[([^\]]+)\]:\d*$/.exec(s) ?? /^([^:]*):\d*$/.exec(s);
    return m ? m[1]! : s;
  },
  stripDomain: (a) => {
    arity('stripDomain', a, 1);
    const s = str(a[0]!, 'stripDomain');
    const m = /^(.*?)(:\d+)?$/.exec(s)!;
    const host = m[1]!;
    if (/^[0-9.]+$/.test(host) || host.includes(':')) return s;
    return host.split('.')[0]! + (m[2] ?? '');
  },
  safeHtml: (a) => (arity('safeHtml', a, 1), str(a[0]!, 'safeHtml')),
  eq: (a) => {
    if (a.length < 2) throw new TemplateError('error calling eq: missing argument for comparison');
    return a.slice(1).some((b) => compare(a[0]!, b, 'eq') === 0);
  },
  ne: (a) => (arity('ne', a, 2), compare(a[0]!, a[1]!, 'ne') !== 0),
  lt: (a) => (arity('lt', a, 2), compare(a[0]!, a[1]!, 'lt') < 0),
  le: (a) => (arity('le', a, 2), compare(a[0]!, a[1]!, 'le') <= 0),
  gt: (a) => (arity('gt', a, 2), compare(a[0]!, a[1]!, 'gt') > 0),
  ge: (a) => (arity('ge', a, 2), compare(a[0]!, a[1]!, 'ge') >= 0),
  and: (a) => {
    if (a.length === 0) throw new TemplateError('wrong number of args for and: want at least 1 got 0');
    return a.find((x) => !isTrue(x)) ?? a[a.length - 1]!;
  },
  or: (a) => {
    if (a.length === 0) throw new TemplateError('wrong number of args for or: want at least 1 got 0');
    return a.find((x) => isTrue(x)) ?? a[a.length - 1]!;
  },
  not: (a) => (arity('not', a, 1), !isTrue(a[0]!)),
  len: (a) => {
    arity('len', a, 1);
    const v = a[0]!;
    if (typeof v === 'string') return new GoInt(Buffer.byteLength(v));
    if (Array.isArray(v)) return new GoInt(v.length);
    if (v !== null && typeof v === 'object' && !(v instanceof GoInt)) return new GoInt(Object.keys(v).length);
    throw new TemplateError(`error calling len: len of type ${goType(v)}`);
  },
  index: (a) => {
    if (a.length < 1) throw new TemplateError('wrong number of args for index: want at least 1 got 0');
    let v = a[0]!;
    for (const k of a.slice(1)) {
      if (typeof k === 'string' && v !== null && typeof v === 'object' && !(v instanceof GoInt) && !Array.isArray(v)) v = (v as Record<string, TValue>)[k] ?? '';
      else if (k instanceof GoInt && Array.isArray(v)) {
        if (k.value < 0 || k.value >= v.length) throw new TemplateError(`error calling index: index out of range: ${k.value}`);
        v = (v as readonly TValue[])[k.value]!;
      } else throw new TemplateError(`error calling index: cannot index ${goType(v)} with ${goType(k)}`);
    }
    return v;
  },
};

/** Names of the functions templates may call. */
export const TEMPLATE_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(FUNCS));

/** Calls function `name`; throws TemplateError as Go's text/template would. */
export function callFunction(name: string, args: readonly TValue[]): TValue {
  const f = FUNCS[name];
  if (f === undefined) throw new TemplateError(`function "${name}" not defined`);
  return f(args);
}

/**
 * Time zone abbreviations (`UTC`, `CET`, `EDT`, `+04`) from a TZif file (RFC 8536),
 * the way Go's time.Zone() gives them to node_exporter. Read from the zone file rather
 * than through Intl: Intl's zone names pull ~5 MB of ICU data into every page of RSS,
 * and its `en-US` short names are `GMT+1` where Go says `CET`.
 */

/** A local time type: its offset from UTC and abbreviation. */
export interface ZoneType {
  readonly utcOffset: number;
  readonly abbreviation: string;
}

/** The parts of a TZif file that name the zone in effect. */
export interface Tzif {
  /** Transition times, seconds since the epoch, ascending. */
  readonly transitions: readonly number[];
  /** For each transition, the index into `types` of the type it starts. */
  readonly transitionTypes: readonly number[];
  readonly types: readonly ZoneType[];
  /** Standard and daylight types of the footer's POSIX TZ string (versions 2+), which govern after the last transition. */
  readonly footer?: { readonly std: ZoneType; readonly dst?: ZoneType } | undefined;
}

/** A TZif file that cannot be read as RFC 8536 says. */
export class TzifError extends Error {
  override name = 'TzifError';
}

const HEADER = 44;

interface Counts {
  isut: number;
  isstd: number;
  leap: number;
  time: number;
  type: number;
  char: number;
}

function header(buf: Uint8Array, at: number): { version: number; counts: Counts } {
  if (buf.length < at + HEADER) throw new TzifError(`truncated header at byte ${at}`);
  if (buf[at] !== 0x54 || buf[at + 1] !== 0x5a || buf[at + 2] !== 0x69 || buf[at + 3] !== 0x66) throw new TzifError(`no "TZif" magic at byte ${at}`);
  const view = new DataView(buf.buffer, buf.byteOffset + at + 20, 24);
  const c = (i: number): number => view.getUint32(i * 4);
  const version = buf[at + 4] === 0 ? 1 : buf[at + 4]! - 0x30;
  return { version, counts: { isut: c(0), isstd: c(1), leap: c(2), time: c(3), type: c(4), char: c(5) } };
}

function blockSize(c: Counts, timeSize: number): number {
  return c.time * timeSize + c.time + c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
}

/**
 * Parses a TZif file: the 64-bit data block and footer of versions 2 and later,
 * the 32-bit block of version 1. Throws TzifError on anything malformed.
 */
export function parseTzif(buf: Uint8Array): Tzif {
  const first = header(buf, 0);
  let at = HEADER;
  let counts = first.counts;
  let timeSize = 4;
  if (first.version >= 2) {
    at += blockSize(first.counts, 4);
    counts = header(buf, at).counts;
    at += HEADER;
    timeSize = 8;
  }
  const end = at + blockSize(counts, timeSize);
  if (buf.length < end) throw new TzifError(`data block ends at byte ${end}, past the file's ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const transitions: number[] = [];
  for (let i = 0; i < counts.time; i++) {
    transitions.push(timeSize === 8 ? Number(view.getBigInt64(at + i * 8)) : view.getInt32(at + i * 4));
  }
  at += counts.time * timeSize;
  const transitionTypes = Array.from(buf.subarray(at, at + counts.time));
  at += counts.time;
  const charsAt = at + counts.type * 6;
  const types: ZoneType[] = [];
  for (let i = 0; i < counts.type; i++) {
    const index = buf[at + i * 6 + 5]!;
    if (index >= counts.char) throw new TzifError(`type ${i} names abbreviation byte ${index} of ${counts.char}`);
    let stop = charsAt + index;
    while (stop < charsAt + counts.char && buf[stop] !== 0) stop++;
    types.push({ utcOffset: view.getInt32(at + i * 6), abbreviation: String.fromCharCode(...buf.subarray(charsAt + index, stop)) });
  }
  if (counts.type === 0) throw new TzifError('no local time types');
  for (const t of transitionTypes) if (t >= types.length) throw new TzifError(`a transition names type ${t} of ${types.length}`);
  const footer = first.version >= 2 ? parseFooter(buf, end) : undefined;
  return { transitions, transitionTypes, types, footer };
}

function parseFooter(buf: Uint8Array, at: number): Tzif['footer'] {
  if (buf[at] !== 0x0a) throw new TzifError(`no footer newline at byte ${at}`);
  let stop = at + 1;
  while (stop < buf.length && buf[stop] !== 0x0a) stop++;
  if (stop >= buf.length) throw new TzifError('footer not ended by a newline');
  const tz = String.fromCharCode(...buf.subarray(at + 1, stop));
  return tz === '' ? undefined : parsePosixTz(tz);
}

// std offset [dst [offset] [,rule]]: a name is <quoted> or 3+ letters; POSIX offsets are
// west of Greenwich (`CET-1` is UTC+1).
const POSIX_TZ = /^(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}){0,2})(?:(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}){0,2})?)?(?:,.*)?$/;

function posixOffset(s: string): number {
  const sign = s.startsWith('-') ? 1 : -1;
  const [h = 0, m = 0, sec = 0] = s.replace(/^[+-]/, '').split(':').map(Number);
  return sign * (h * 3600 + m * 60 + sec);
}

/** The names and offsets of a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`); the rule part is not needed to name a known offset. */
export function parsePosixTz(tz: string): { std: ZoneType; dst?: ZoneType } {
  const m = POSIX_TZ.exec(tz);
  if (!m) throw new TzifError(`footer ${JSON.stringify(tz)} is not a POSIX TZ string`);
  const name = (s: string): string => s.replace(/^<|>$/g, '');
  const std: ZoneType = { abbreviation: name(m[1]!), utcOffset: posixOffset(m[2]!) };
  if (m[3] === undefined) return { std };
  return { std, dst: { abbreviation: name(m[3]), utcOffset: m[4] === undefined ? std.utcOffset + 3600 : posixOffset(m[4]) } };
}

/**
 * The abbreviation in effect at `ms` whose offset is `utcOffset` seconds (the offset
 * the runtime's clock reports). Before the first transition type 0 applies; after the
 * last, the footer's rule, whose standard or daylight name is the one with that offset.
 */
export function abbreviationAt(tz: Tzif, ms: number, utcOffset: number): string {
  const t = Math.floor(ms / 1000);
  const n = tz.transitions.length;
  if (tz.footer && (n === 0 || t >= tz.transitions[n - 1]!)) {
    const { std, dst } = tz.footer;
    if (std.utcOffset === utcOffset) return std.abbreviation;
    if (dst?.utcOffset === utcOffset) return dst.abbreviation;
  }
  if (n === 0 || t < tz.transitions[0]!) return tz.types[0]!.abbreviation;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tz.transitions[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return tz.types[tz.transitionTypes[lo]!]!.abbreviation;
}

/** tzdata's name for an offset without an abbreviation: `+04`, `-0330`; `UTC` for 0. */
export function numericAbbreviation(utcOffset: number): string {
  if (utcOffset === 0) return 'UTC';
  const a = Math.abs(utcOffset);
  const hh = String(Math.floor(a / 3600)).padStart(2, '0');
  const mm = Math.floor((a % 3600) / 60);
  return `${utcOffset < 0 ? '-' : '+'}${hh}${mm ? String(mm).padStart(2, '0') : ''}`;
}

/**
 * The zone file of this process, found as Go finds it: `TZ` unset means
 * /etc/localtime, `TZ` empty means UTC (no file), a leading `:` is dropped, an
 * absolute path is used as is, and a name is looked up under `zoneinfo`.
 */
export function zoneFilePath(tz: string | undefined, zoneinfo = '/usr/share/zoneinfo'): string | undefined {
  if (tz === undefined) return '/etc/localtime';
  const name = tz.startsWith(':') ? tz.slice(1) : tz;
  if (name === '' || name === 'UTC') return undefined;
  if (name.startsWith('/')) return name;
  if (name.split('/').includes('..')) return undefined;
  return `${zoneinfo}/${name}`;
}

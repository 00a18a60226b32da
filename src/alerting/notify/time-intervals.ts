/**
 * Quiet hours: Alertmanager's time intervals (weekdays, times of day, a time zone),
 * referenced by a route's `mute_time_intervals` (hold notifications while inside) or
 * `active_time_intervals` (hold them while outside).
 */

/** One range of weekdays and times in a zone; empty lists mean "any". */
export interface TimeInterval {
  /** Minutes since midnight, [start, end). */
  readonly times: readonly { start: number; end: number }[];
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekdays: readonly number[];
  /** IANA zone, e.g. `Europe/Berlin`; `UTC` by default. */
  readonly location: string;
}

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** Parses `HH:MM` (00:00 to 24:00) into minutes. */
export function parseClock(s: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a time of day HH:MM`);
  const min = Number(m[1]) * 60 + Number(m[2]);
  if (min > 1440) throw new Error(`"${s}" is past 24:00`);
  return min;
}

/** Parses `monday` or a range `monday:friday` into day numbers. */
export function parseWeekdays(s: string): number[] {
  const [a, b] = s.toLowerCase().split(':');
  const from = WEEKDAYS.indexOf(a as (typeof WEEKDAYS)[number]);
  const to = b === undefined ? from : WEEKDAYS.indexOf(b as (typeof WEEKDAYS)[number]);
  if (from < 0 || to < 0) throw new Error(`"${s}" is not a weekday or range such as monday:friday`);
  if (to < from) throw new Error(`"${s}": the range ends before it starts`);
  const out: number[] = [];
  for (let d = from; d <= to; d++) out.push(d);
  return out;
}

/** Throws when `zone` is not a time zone this Node.js knows. */
export function checkZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new Error(`"${zone}" is not a known time zone (an IANA name such as Europe/Berlin)`);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day of `ms` in `zone`. */
export function localTime(ms: number, zone: string): { weekday: number; minute: number } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return { weekday: WEEKDAYS.indexOf(get('weekday').toLowerCase() as (typeof WEEKDAYS)[number]), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** True when `ms` falls inside the interval. */
export function inInterval(iv: TimeInterval, ms: number): boolean {
  const { weekday, minute } = localTime(ms, iv.location);
  if (iv.weekdays.length > 0 && !iv.weekdays.includes(weekday)) return false;
  if (iv.times.length > 0 && !iv.times.some((t) => minute >= t.start && minute < t.end)) return false;
  return true;
}

/** True when `ms` falls inside any of the intervals. */
export function inAny(ivs: readonly TimeInterval[], ms: number): boolean {
  return ivs.some((iv) => inInterval(iv, ms));
}

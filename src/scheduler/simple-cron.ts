/**
 * Cron expressions simple enough to need no cron parser: second (6 fields), minute and
 * hour each `*`, one number, a step `*\/N` or a list `a,b`; day of month, month and day
 * of week `*`, as Larder's defaults are (`20 2 *\/6 * * *`, `0 * * * *`, `0 3 * * *`).
 * node-schedule's parser finds the next time of `20 * * * * *` by stepping second by
 * second through luxon dates: about 25 ms of CPU a minute and the garbage of it, for a
 * job that runs once a minute. Here the next time is a few steps of `Date` arithmetic
 * in local time, as node-schedule's (cron-parser's) is.
 */

/** The values each field matches (undefined: every value). */
export interface SimpleCron {
  readonly second: readonly number[] | undefined;
  readonly minute: readonly number[] | undefined;
  readonly hour: readonly number[] | undefined;
}

/** The values of one field, undefined for `*`, null when not simple. */
function field(s: string, max: number): readonly number[] | undefined | null {
  if (s === '*') return undefined;
  const step = /^\*\/(\d{1,2})$/.exec(s);
  if (step) {
    const n = Number(step[1]);
    if (n < 1 || n > max) return null;
    const out: number[] = [];
    for (let v = 0; v <= max; v += n) out.push(v);
    return out;
  }
  const values: number[] = [];
  for (const part of s.split(',')) {
    if (!/^\d{1,2}$/.test(part) || Number(part) > max) return null;
    values.push(Number(part));
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

/** The expression as a SimpleCron, or undefined when it needs a real cron parser. */
export function parseSimpleCron(expr: string): SimpleCron | undefined {
  const parts = expr.trim().split(/\s+/);
  if (parts.length === 5) parts.unshift('0');
  if (parts.length !== 6) return undefined;
  const [s, m, h, dom, mon, dow] = parts as [string, string, string, string, string, string];
  if (dom !== '*' || mon !== '*' || dow !== '*') return undefined;
  const second = field(s, 59);
  const minute = field(m, 59);
  const hour = field(h, 23);
  if (second === null || minute === null || hour === null) return undefined;
  return { second, minute, hour };
}

/**
 * The first whole second strictly after `after` that matches (local time). It steps
 * forward in absolute time to the next local hour, minute or second boundary, never
 * through the local-time setters, which map a time in a repeated hour (DST ending) to
 * its first occurrence and so step back.
 */
export function nextSimpleCron(c: SimpleCron, after: Date): Date {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  // At most 24 hour steps, 60 minute steps and 60 second steps, a few more across a DST change.
  for (let i = 0; i < 1000; i++) {
    if (c.hour !== undefined && !c.hour.includes(t.getHours())) t.setTime(t.getTime() + ((60 - t.getMinutes()) * 60 - t.getSeconds()) * 1000);
    else if (c.minute !== undefined && !c.minute.includes(t.getMinutes())) t.setTime(t.getTime() + (60 - t.getSeconds()) * 1000);
    else if (c.second !== undefined && !c.second.includes(t.getSeconds())) t.setTime(t.getTime() + 1000);
    else return t;
  }
  throw new Error('simple cron: no next time found');
}

/** A running schedule: node-schedule's Job has the same two methods. */
export interface Trigger {
  nextInvocation(): Date | null | undefined;
  cancel(): void;
}

/** Calls `fire` at every time of `c`, one timer at a time (re-armed after each). */
export function scheduleSimpleCron(c: SimpleCron, fire: () => void, now: () => number = Date.now): Trigger {
  let next = nextSimpleCron(c, new Date(now()));
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    // setTimeout takes at most 2^31 − 1 ms; a daily job is well within it
    timer = setTimeout(() => {
      // a timer may run a millisecond early (libuv's clock); not before the second it is for
      if (now() < next.getTime() - 1) return arm();
      next = nextSimpleCron(c, new Date(Math.max(now(), next.getTime())));
      arm();
      fire();
    }, Math.max(0, next.getTime() - now()));
  };
  arm();
  return {
    nextInvocation: () => (timer === undefined ? undefined : new Date(next.getTime())),
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

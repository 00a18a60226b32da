/**
 * Figures the reliability suite reports: each is a tap comment, and, when
 * RELIABILITY_FIGURES names a file (`make reliability` sets it), a line appended
 * there so the run can print them together at the end.
 */
import { appendFileSync } from 'node:fs';
import type { Test } from 'tap';

/** True for the long form (`make reliability`); the quick form runs in `make test`. */
export const LONG = process.env.RELIABILITY === 'long';

/** Reports one figure, e.g. `figure(t, 'crash: kills', 100)` or `figure(t, 'soak: rss slope', 0.1, 'MiB/h')`. */
export function figure(t: Test, name: string, value: number | string, unit = ''): void {
  const line = `${name}: ${value}${unit ? ` ${unit}` : ''}`;
  t.comment(`figure ${line}`);
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${line}\n`);
}

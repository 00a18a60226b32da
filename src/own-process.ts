/**
 * Settings for a process Larder owns (`larder serve`), made before the application is
 * loaded. Never made by the library embedded in an application: they are process-wide.
 *
 * V8's defaults suit a busy process; Larder's own is idle nearly all the time. Idle with
 * the defaults (SQLite recording), RSS climbed from 80 MB at 2 minutes to 89 MB at 8 and
 * 95 MB at 17: the old generation kept the garbage of every collection (one major GC in
 * the first 17 minutes after start-up; old space grew to 16.7 MB), and the optimizing
 * compiler, recompiling code that runs once per 15 s collection, left its zones in the
 * malloc arenas of its background threads. Measured here with both settings below: 78 to
 * 83 MB over the first 8 minutes, major GCs every few minutes, old space near 11 MB, no
 * slower scrapes and rollups within this machine's noise. V8 reads both while running,
 * so setting them here takes effect.
 */
import { setFlagsFromString } from 'node:v8';
import { pinCronLocale } from './scheduler/cron-locale.js';

/**
 * 15 times V8's default (66 KiB of bytecode run before a function is considered for
 * optimization). 60 times measured no smaller, and left the first few hundred scrapes
 * unoptimized: 2.4 to 2.6 ms against 2.1 ms.
 */
const INTERRUPT_BUDGET = 1_000_000;

/** Tunes this process for a long, mostly idle life. */
export function tuneOwnProcess(): void {
  // heap growing and the memory reducer favour size: garbage is collected in small steps
  setFlagsFromString('--optimize-for-size');
  // only code that runs a lot (a rollup's fold, a busy scrape path) is optimized
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  pinCronLocale();
}

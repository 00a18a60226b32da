/**
 * The locale of the luxon copy behind node-schedule's cron parser. Left unset, luxon
 * asks `new Intl.DateTimeFormat()` for the system locale when it computes the first
 * cron date, which maps ~5 MB of ICU data into the process for good. Cron dates are
 * compared, never formatted, so the locale changes nothing else there; but luxon's
 * settings are global to its copy, which an application embedding Larder may share,
 * so only a process Larder owns (`larder serve`) pins it.
 */
import { createRequire } from 'node:module';

interface LuxonSettings {
  defaultLocale?: string;
}

/**
 * Sets luxon's default locale to `en-US` unless something set one already. Returns
 * false when node-schedule no longer reaches luxon through cron-parser (then there is
 * nothing to pin).
 */
export function pinCronLocale(): boolean {
  let settings: LuxonSettings | undefined;
  try {
    // the copy cron-parser itself loads, wherever npm placed it
    const fromSchedule = createRequire(createRequire(import.meta.url).resolve('node-schedule'));
    const luxon = createRequire(fromSchedule.resolve('cron-parser'))('luxon') as { Settings?: LuxonSettings };
    settings = luxon.Settings;
  } catch {
    return false;
  }
  if (settings === undefined) return false;
  settings.defaultLocale ??= 'en-US';
  return true;
}

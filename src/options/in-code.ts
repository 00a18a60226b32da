/**
 * Option values handed to `createLarder` in code: unset keys take their defaults, and
 * each value set is checked by the same parser as its flag and config-file key, so a bad
 * one is refused naming it (`store.retentionDays`) and what is allowed.
 */
import { formatDuration } from '../duration.js';
import { ConfigError } from '../config.js';
import { closestName, describeRaw, showDuration, type OptionGroup, type OptionValues } from './option.js';

/** A group's default values. */
export function defaultsOf<G extends OptionGroup>(group: G): OptionValues<G> {
  return Object.fromEntries(Object.entries(group).map(([k, spec]) => [k, spec.default])) as OptionValues<G>;
}

/**
 * The group's values: its defaults overridden by `given`. Strings, numbers and booleans
 * go through the option's parser (a duration may be given in ms or as `15s`, a size in
 * bytes or as `512MB`); lists and mappings of the options that hold them are taken as
 * given (their types say their shape). Throws ConfigError for an unknown key or a bad value, named `where.key`
 * (or as `names` says).
 */
export function valuesInCode<G extends OptionGroup>(group: G, given: object | undefined, where: string, names: Readonly<Record<string, string>> = {}): OptionValues<G> {
  const out: Record<string, unknown> = { ...defaultsOf(group) };
  for (const [key, raw] of Object.entries(given ?? {})) {
    const spec = group[key];
    if (!spec) {
      const near = closestName(key, Object.keys(group));
      throw new ConfigError(`unknown setting ${where}.${key}${near ? ` (did you mean ${where}.${near}?)` : ''}`);
    }
    const name = names[key] ?? `${where}.${key}`;
    if (raw === undefined) continue;
    // lists and mappings (targets, tiers, …) in their parsed form, as the types say
    const structured = spec.default === undefined || typeof spec.default === 'object';
    if (structured && typeof raw === 'object') {
      out[key] = raw;
      continue;
    }
    const isDuration = spec.show === showDuration;
    try {
      if (isDuration && typeof raw === 'number' && !Number.isSafeInteger(raw)) throw new Error('expected a whole number of milliseconds');
      out[key] = spec.parse(isDuration && typeof raw === 'number' ? formatDuration(raw) : raw);
    } catch (err) {
      throw new ConfigError(`invalid value ${spec.secret ? '' : `${JSON.stringify(describeRaw(raw))} `}for ${name} (--${spec.flag}): ${(err as Error).message}`);
    }
  }
  return out as OptionValues<G>;
}

/**
 * A user's changes to the bundled rules, and their checking against the catalogue. The
 * options (src/options/rules-bundled.ts) parse flags and the config file into this shape;
 * bundledRuleFiles applies it.
 */
import type { BundledAlert, RulePack } from './model.js';
import { PACKS } from './packs/index.js';

/** Changes to the bundled rules; DEFAULT_OVERRIDES leaves them as shipped. */
export interface BundledOverrides {
  /** False: no bundled rule at all. */
  readonly enabled: boolean;
  /** Alert names or pack names to leave out. */
  readonly disable: readonly string[];
  /** Alert name → parameter (`for` or one of the alert's thresholds) → value: a number, or a duration for `for`. */
  readonly set: Readonly<Record<string, Readonly<Record<string, number | string>>>>;
}

export const DEFAULT_OVERRIDES: BundledOverrides = Object.freeze({ enabled: true, disable: Object.freeze([]), set: Object.freeze({}) });

/** Every bundled alert by name. */
export function bundledAlerts(): ReadonlyMap<string, { pack: RulePack; alert: BundledAlert }> {
  const out = new Map<string, { pack: RulePack; alert: BundledAlert }>();
  for (const pack of PACKS) for (const a of pack.alerts) out.set(a.name, { pack, alert: a });
  return out;
}

/** Every name `disable` takes: the packs' and the alerts'. */
export function disableNames(): string[] {
  return [...PACKS.map((p) => p.name), ...PACKS.flatMap((p) => p.alerts.map((a) => a.name))];
}

/** The parameters an alert's override takes: `for` and its thresholds. */
export function paramNames(a: BundledAlert): string[] {
  return ['for', ...Object.keys(a.params)];
}

/**
 * A duration as Prometheus' rule files write it (`30s`, `5m`, `1h30m`, `0s`); units in
 * descending order, each at most once, no fractions.
 */
const PROM_DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;

/** True for a duration Prometheus accepts as `for` (also "0s" and "0"). */
export function isPromDuration(s: string): boolean {
  return s === '0' || (s !== '' && s.length <= 32 && PROM_DURATION.test(s));
}

/**
 * Checks one override value and returns it in the type it is used in; throws an Error
 * saying what is allowed. `param` must be one of paramNames(alert).
 */
export function checkValue(a: BundledAlert, param: string, raw: unknown): number | string {
  if (param === 'for') {
    const s = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && raw === 0 ? '0s' : undefined;
    if (s === undefined || !isPromDuration(s)) throw new Error(`${a.name}.for: expected a duration such as 0s, 5m or 1h30m`);
    return s;
  }
  const spec = a.params[param];
  if (!spec) throw new Error(`${a.name} has no parameter "${param}"; it takes ${paramNames(a).join(', ')}`);
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${a.name}.${param}: expected a number (${spec.unit}) from ${spec.min} to ${spec.max}`);
  if (n < spec.min || n > spec.max) throw new Error(`${a.name}.${param}: ${n} is out of range, expected ${spec.unit} from ${spec.min} to ${spec.max}`);
  return n;
}

/**
 * Checks a whole set of overrides against the catalogue; throws an Error naming the first
 * unknown alert, pack, parameter or bad value.
 */
export function checkOverrides(o: BundledOverrides): void {
  const alerts = bundledAlerts();
  const names = new Set(disableNames());
  for (const n of o.disable) if (!names.has(n)) throw new Error(`unknown bundled alert or pack "${n}"`);
  for (const [name, params] of Object.entries(o.set)) {
    const found = alerts.get(name);
    if (!found) throw new Error(`unknown bundled alert "${name}"`);
    for (const [param, v] of Object.entries(params)) {
      if (!paramNames(found.alert).includes(param)) throw new Error(`${name} has no parameter "${param}"; it takes ${paramNames(found.alert).join(', ')}`);
      checkValue(found.alert, param, v);
    }
  }
}

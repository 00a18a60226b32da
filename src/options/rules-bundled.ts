/**
 * Options of the bundled alert rules (rules/, docs/alert-rules.md): on or off, alerts or
 * whole packs left out, and thresholds and `for` changed. The values have the shape of
 * `BundledOverrides`, so `bundledRuleFiles(config.bundledRules)` applies them.
 */
import { bundledAlerts, checkValue, disableNames, paramNames } from '../../rules/overrides.js';
import { bool, closestName, defineOptions } from './option.js';

/** Bounds on what a flag or the config file may hold: the catalogue has a few dozen alerts. */
const MAX_ITEMS = 500;
const MAX_NAME = 100;

function hint(name: string, candidates: readonly string[]): string {
  const near = closestName(name, candidates);
  return near === undefined ? '' : ` (did you mean ${near}?)`;
}

/**
 * Items of a comma-separated string, or of a list (the flag repeated, or a YAML list)
 * whose strings may each hold comma-separated items; trimmed, empty ones dropped.
 */
function items(raw: unknown, what: string): unknown[] {
  const list = Array.isArray(raw) ? raw.flatMap((v: unknown) => (typeof v === 'string' ? v.split(',') : [v])) : typeof raw === 'string' ? raw.split(',') : undefined;
  if (list === undefined) throw new Error(`expected ${what}`);
  const out = list.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== '');
  if (out.length > MAX_ITEMS) throw new Error(`${out.length} items, more than the ${MAX_ITEMS} allowed`);
  return out;
}

function shortName(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > MAX_NAME) throw new Error(`expected ${what} (a name of at most ${MAX_NAME} characters), got ${JSON.stringify(v)?.slice(0, MAX_NAME)}`);
  return v;
}

/** `--rules.bundled.disable`: names of bundled alerts or packs (the flag repeated, each comma-separated). */
export function parseDisable(raw: unknown): readonly string[] {
  const known = disableNames();
  const out = items(raw, 'alert or pack names separated by commas (a list in the config file)').map((v) => {
    const name = shortName(v, 'an alert or pack name');
    if (!known.includes(name)) throw new Error(`unknown bundled alert or pack "${name}"${hint(name, known)}; docs/alert-rules.md lists them`);
    return name;
  });
  return Object.freeze([...new Set(out)]);
}

type Settings = Readonly<Record<string, Readonly<Record<string, number | string>>>>;

/** Adds one `alert.param = value` to `out`, checked against the catalogue. */
function addSetting(out: Record<string, Record<string, number | string>>, alertName: string, param: string, value: unknown): void {
  const alerts = bundledAlerts();
  const found = alerts.get(alertName);
  if (!found) throw new Error(`unknown bundled alert "${alertName}"${hint(alertName, [...alerts.keys()])}; docs/alert-rules.md lists them`);
  const params = paramNames(found.alert);
  if (!params.includes(param)) throw new Error(`${alertName} has no parameter "${param}"${hint(param, params)}; it takes ${params.join(', ')}`);
  (out[alertName] ??= {})[param] = checkValue(found.alert, param, value);
}

/** Splits `ALERT.PARAM` at its last dot. */
function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  if (dot <= 0 || dot === key.length - 1) throw new Error(`expected ALERT.PARAM, such as HostOutOfMemory.threshold, got "${key}"`);
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/**
 * `--rules.bundled.set`: `ALERT.PARAM=VALUE` items separated by commas, the flag repeated
 * (a list of them in the config file), or in the config file a mapping `{ALERT: {PARAM: VALUE}}`.
 */
export function parseSettings(raw: unknown): Settings {
  const out: Record<string, Record<string, number | string>> = {};
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > MAX_ITEMS) throw new Error(`${entries.length} alerts, more than the ${MAX_ITEMS} allowed`);
    for (const [alertName, params] of entries) {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error(`${shortName(alertName, 'an alert name')}: expected a mapping of parameter to value, such as {threshold: 0.1, for: 10m}`);
      for (const [param, value] of Object.entries(params as Record<string, unknown>)) addSetting(out, shortName(alertName, 'an alert name'), shortName(param, 'a parameter'), value);
    }
  } else {
    for (const item of items(raw, 'ALERT.PARAM=VALUE items separated by commas, or a mapping {ALERT: {PARAM: VALUE}} in the config file')) {
      const s = shortName(item, 'ALERT.PARAM=VALUE');
      const eq = s.indexOf('=');
      if (eq < 0) throw new Error(`expected ALERT.PARAM=VALUE, such as HostOutOfMemory.threshold=0.05, got "${s}"`);
      const [alertName, param] = splitKey(s.slice(0, eq).trim());
      addSetting(out, alertName, param, s.slice(eq + 1).trim());
    }
  }
  return Object.freeze(out);
}

const showSettings = (s: Settings): string =>
  Object.entries(s).flatMap(([a, ps]) => Object.entries(ps).map(([p, v]) => `${a}.${p}=${v}`)).join(',') || 'none';

export const bundledRulesOptions = defineOptions({
  enabled: {
    flag: 'rules.bundled',
    env: ['LARDER_RULES_BUNDLED'],
    default: true,
    help: 'evaluate the bundled alert rules: host, Node.js, HTTP, database and Redis clients, Larder itself (docs/alert-rules.md; --rules.bundled=false turns them all off)',
    parse: bool(),
  },
  disable: {
    flag: 'rules.bundled.disable',
    env: ['LARDER_RULES_BUNDLED_DISABLE'],
    default: Object.freeze([]) as readonly string[],
    help: 'a bundled alert or whole pack (host, nodejs, http, clients, larder) to leave out; repeat the flag for more, or separate them by commas (a list in the config file)',
    parse: parseDisable,
    show: (v: readonly string[]) => (v.length === 0 ? 'none' : v.join(',')),
    repeatable: true,
  },
  set: {
    flag: 'rules.bundled.set',
    env: ['LARDER_RULES_BUNDLED_SET'],
    default: Object.freeze({}) as Settings,
    help: 'a threshold or for of a bundled alert: ALERT.PARAM=VALUE, e.g. HostFilesystemAlmostOutOfSpace.threshold=0.1; repeat the flag for more, or separate them by commas (config file: a mapping {ALERT: {PARAM: VALUE}})',
    parse: parseSettings,
    show: showSettings,
    repeatable: true,
  },
});

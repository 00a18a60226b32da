/**
 * One typed, validated configuration from defaults, an optional config file,
 * environment variables and flags (later ones win). A bad value is a ConfigError
 * naming the option, the value and what is allowed; the CLI turns it into exit code 2.
 */
import { readFileSync, statSync } from 'node:fs';
import { yamlLib } from './yaml-lib.js';
import { COLLECTOR_DEFAULTS } from '../exporters/index.js';
import { closestName, describeRaw, type OptionGroup, type OptionSpec, type OptionValues } from './options/option.js';
import { generalOptions } from './options/general.js';
import { renderOptionsHelp } from './options/help.js';
import { webOptions } from './options/web.js';
import { collectorOptions } from './options/collectors.js';
import { storageOptions } from './options/storage.js';
import { serviceOptions } from './options/services.js';
import { appOptions } from './options/app.js';
import { redactSecrets } from './redact.js';
import { recorderOptions } from './options/recorder.js';
import { queryOptions } from './options/query.js';
import { identityOptions } from './options/identity.js';
import { rulesOptions } from './options/rules.js';
import { bundledRulesOptions } from './options/rules-bundled.js';
import { notifyOptions } from './options/notify.js';

/** Every option group, in the order `--help` lists them. */
export const OPTION_GROUPS = {
  general: generalOptions,
  web: webOptions,
  collectors: collectorOptions,
  storage: storageOptions,
  services: serviceOptions,
  recorder: recorderOptions,
  query: queryOptions,
  identity: identityOptions,
  rules: rulesOptions,
  bundledRules: bundledRulesOptions,
  notify: notifyOptions,
  app: appOptions,
} as const;

type Groups = typeof OPTION_GROUPS;

/** The whole configuration, frozen once loaded. */
export type Config = { readonly [G in keyof Groups]: OptionValues<Groups[G]> } & {
  /** Collector name → enabled. */
  readonly collectorsEnabled: Readonly<Record<string, boolean>>;
};

/**
 * A configuration problem; `message` names the option, the value and what is allowed,
 * but never the value of a secret (it is also passed through redactSecrets).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super(redactSecrets(message));
  }
}

/** Where configuration comes from; injectable for tests. */
export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; defaults to the file system. */
  readonly readFile?: (path: string) => string;
}

interface Located {
  spec: OptionSpec<unknown>;
  group: keyof Groups;
  key: string;
}

function allOptions(): Located[] {
  const out: Located[] = [];
  for (const [group, options] of Object.entries(OPTION_GROUPS) as [keyof Groups, OptionGroup][]) {
    for (const [key, spec] of Object.entries(options)) out.push({ spec, group, key });
  }
  return out;
}

function where(spec: OptionSpec<unknown>, source: 'flag' | 'env' | 'file', name?: string): string {
  if (source === 'flag') return `--${spec.flag}`;
  if (source === 'env') return `${name} (--${spec.flag})`;
  return `config file key "${spec.flag}"`;
}

/** A value as shown in a message: at most 100 characters, so a runaway value cannot flood the log. */
function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}… (${s.length} characters)` : s;
}

function parseOne(spec: OptionSpec<unknown>, raw: unknown, at: string): unknown {
  try {
    return spec.parse(raw);
  } catch (err) {
    // a secret's value is never shown, nor a whole block (the web: block holds the token and hashes)
    const shown = !spec.secret && (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean');
    throw new ConfigError(`invalid value ${shown ? `${JSON.stringify(clip(describeRaw(raw)))} ` : ''}for ${at}: ${(err as Error).message}`);
  }
}

/**
 * Splits argv into `--name=value` / `--name value` pairs and bare words. `check` throws
 * for a name that is no option, before the next word is taken as its value.
 */
function splitFlags(argv: readonly string[], isBoolean: (name: string) => boolean, check: (name: string) => void): { flags: [string, string][]; words: string[] } {
  const flags: [string, string][] = [];
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    check(eq > 0 ? arg.slice(2, eq) : arg.slice(2));
    if (eq > 0) {
      flags.push([arg.slice(2, eq), arg.slice(eq + 1)]);
    } else if (isBoolean(arg.slice(2))) {
      flags.push([arg.slice(2), 'true']);
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new ConfigError(`flag ${arg} needs a value (${arg}=VALUE)`);
      flags.push([arg.slice(2), value]);
      i++;
    }
  }
  return { flags, words };
}

function collectorFlag(name: string): { collector: string; on: boolean } | undefined {
  const m = /^(no-)?collector\.([a-z_]+)$/.exec(name);
  if (!m) return undefined;
  return { collector: m[2]!, on: m[1] === undefined };
}

/**
 * A YAML error without the excerpt of the file the parser appends (the offending line
 * may hold a token or a hash), with its position.
 */
function yamlProblem(err: unknown): string {
  const e = err as Error & { linePos?: readonly { line: number; col: number }[] };
  const first = e.message.split('\n')[0]!.replace(/:\s*$/, '');
  const pos = e.linePos?.[0];
  return pos && !/ at line \d+/.test(first) ? `${first} at line ${pos.line}, column ${pos.col}` : first;
}

/** Config files above this are refused unread: a config is a few KB. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads a config file of at most MAX_CONFIG_BYTES. */
function readBoundedFile(path: string): string {
  const size = statSync(path).size;
  if (size > MAX_CONFIG_BYTES) throw new Error(`${size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit of a config file`);
  return readFileSync(path, 'utf8');
}

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
    if (text.length > MAX_CONFIG_BYTES) throw new Error(`over the ${MAX_CONFIG_BYTES}-byte limit of a config file`);
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    data = yamlLib().parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML or JSON: ${yamlProblem(err)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path}: expected a mapping of option names to values`);
  return data as Record<string, unknown>;
}

/**
 * Loads the configuration. `argv` is the command's own arguments (after `serve`).
 * Returns the config and the bare words left over; throws ConfigError on any bad input.
 */
export function loadConfig(sources: ConfigSources): { config: Config; words: string[] } {
  const options = allOptions();
  const byFlag = new Map(options.map((o) => [o.spec.flag, o]));
  const isBoolean = (name: string): boolean => {
    if (collectorFlag(name)) return true;
    const o = byFlag.get(name);
    return o !== undefined && typeof o.spec.default === 'boolean';
  };
  const commandLine = options.filter((o) => !o.spec.fileOnly).map((o) => o.spec.flag);
  const hint = (name: string, candidates: readonly string[], prefix = '--'): string => {
    const near = closestName(name, candidates);
    return near === undefined ? '' : ` (did you mean ${prefix}${near}?)`;
  };
  const checkFlag = (name: string): void => {
    if (collectorFlag(name)) return;
    const o = byFlag.get(name);
    if (o?.spec.fileOnly) throw new ConfigError(`option ${name} can only be set in the config file (--config.file), under the key "${name}"`);
    if (o) return;
    const collectorNames = Object.keys(COLLECTOR_DEFAULTS).flatMap((c) => [`collector.${c}`, `no-collector.${c}`]);
    throw new ConfigError(`unknown option --${name}${hint(name, [...commandLine, ...collectorNames])}; larder serve --help lists every option`);
  };
  const { flags, words } = splitFlags(sources.argv, isBoolean, checkFlag);

  const values = new Map<string, unknown>(options.map((o) => [`${o.group}.${o.key}`, o.spec.default]));
  const collectorsEnabled: Record<string, boolean> = { ...COLLECTOR_DEFAULTS };
  const setCollector = (name: string, on: unknown, at: string): void => {
    if (!(name in COLLECTOR_DEFAULTS)) {
      throw new ConfigError(`unknown collector "${name}" in ${at}; known collectors: ${Object.keys(COLLECTOR_DEFAULTS).join(', ')}`);
    }
    if (typeof on !== 'boolean') throw new ConfigError(`invalid value ${JSON.stringify(on)} for ${at}: expected true or false`);
    collectorsEnabled[name] = on;
  };

  // The config file's path can come from a flag or the environment, so find it first.
  const configFlag = flags.find(([n]) => n === 'config.file')?.[1];
  const configPath = configFlag ?? sources.env['LARDER_CONFIG'] ?? '';
  if (configPath !== '') {
    const file = readConfigFile(configPath, sources.readFile ?? readBoundedFile);
    for (const [name, raw] of Object.entries(file)) {
      if (name === 'collectors') {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file key "collectors": expected a mapping of collector name to true/false`);
        for (const [c, on] of Object.entries(raw as Record<string, unknown>)) setCollector(c, on, `config file key "collectors.${c}"`);
        continue;
      }
      const o = byFlag.get(name);
      if (!o) throw new ConfigError(`unknown key "${name}" in config file ${configPath}${hint(name, [...byFlag.keys(), 'collectors'], '')}; see larder serve --help for the options`);
      values.set(`${o.group}.${o.key}`, parseOne(o.spec, raw, where(o.spec, 'file')));
    }
  }

  for (const o of options) {
    for (const envName of o.spec.env ?? []) {
      const raw = sources.env[envName];
      if (raw !== undefined && (raw !== '' || o.spec.emptyEnvIsValue === true)) {
        values.set(`${o.group}.${o.key}`, parseOne(o.spec, raw, where(o.spec, 'env', envName)));
        break;
      }
    }
  }

  const repeated = new Set<string>();
  for (const [name, raw] of flags) {
    const c = collectorFlag(name);
    if (c) {
      if (raw !== 'true') throw new ConfigError(`flag --${name} takes no value`);
      setCollector(c.collector, c.on, `--${name}`);
      continue;
    }
    const o = byFlag.get(name);
    if (!o || o.spec.fileOnly) throw new ConfigError(`unknown flag --${name}; see larder serve --help`);
    if (o.spec.repeatable) {
      // every occurrence counts (--alertmanager.url A --alertmanager.url B), parsed once as a list
      if (repeated.has(name)) continue;
      repeated.add(name);
      values.set(`${o.group}.${o.key}`, parseOne(o.spec, flags.filter(([n]) => n === name).map(([, v]) => v), where(o.spec, 'flag')));
      continue;
    }
    values.set(`${o.group}.${o.key}`, parseOne(o.spec, raw, where(o.spec, 'flag')));
  }

  const config: Record<string, unknown> = { collectorsEnabled: Object.freeze(collectorsEnabled) };
  for (const group of Object.keys(OPTION_GROUPS)) {
    const g: Record<string, unknown> = {};
    for (const o of options.filter((x) => x.group === group)) g[o.key] = values.get(`${group}.${o.key}`);
    config[group] = Object.freeze(g);
  }
  return { config: Object.freeze(config) as Config, words };
}

/** The help text listing every option with its environment variable and default. */
export function optionsHelp(): string {
  return renderOptionsHelp(OPTION_GROUPS, COLLECTOR_DEFAULTS);
}

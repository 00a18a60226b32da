/**
 * Rule files → checked rule groups. A user's file is YAML (parsed with positions, so
 * every problem names `file:line`); bundled rules arrive as `RuleFile` objects. Both go
 * through one validator that checks what Prometheus' rulefmt checks: unique group names,
 * exactly one of alert/record, metric and label names, durations, PromQL (parsed and
 * type-checked by query/) and templates.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { yamlLib } from '../yaml-lib.js';
import type { RuleFile } from '../../rules/rule-format.js';
import type { LabelMatcher, Labels } from '../../storage/store.js';
import { parseQueryCached, typeOf } from '../../query/parse.js';
import { parseDuration } from '../duration.js';
import { Template } from './template.js';
import { TEMPLATE_FUNCTIONS } from './template-funcs.js';
import { TemplateError } from './template-error.js';
import { expandGlobs } from './glob.js';
import { keepScalarText } from './yaml-strings.js';
import { scopeRuleFile } from './scope.js';

/** Mappings Go reads as map[string]string. */
const MAP_KEYS: ReadonlySet<string> = new Set(['labels', 'annotations']);

/** Variables every rule template can read, as Prometheus defines them. */
export const TEMPLATE_VARIABLES = ['$labels', '$value', '$externalLabels', '$externalURL'] as const;

/** A checked alerting rule. */
export interface AlertRuleDef {
  readonly kind: 'alert';
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  /** The rule's own labels merged over the group's, as written (templates unexpanded). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labelTemplates: ReadonlyMap<string, Template>;
  readonly annotationTemplates: ReadonlyMap<string, Template>;
}

/** A checked recording rule. */
export interface RecordRuleDef {
  readonly kind: 'record';
  readonly name: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type RuleDef = AlertRuleDef | RecordRuleDef;

/** A checked group; `intervalMs` undefined means the global evaluation interval. */
export interface GroupDef {
  readonly name: string;
  readonly file: string;
  readonly intervalMs: number | undefined;
  readonly limit: number;
  readonly rules: readonly RuleDef[];
  /** The matchers every selector of its rules was scoped to (RuleFileSource.scope), if any. */
  readonly scope?: readonly LabelMatcher[];
}

/** One problem in a rule file. */
export interface RuleProblem {
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;
}

/** A rule file that cannot be loaded; `message` lists every problem as `file:line: reason`. */
export class RuleLoadError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}`).join('\n'));
    this.name = 'RuleLoadError';
  }
}

/** Largest rule file read (a rule file is a few KB; this bounds a mistaken path). */
export const MAX_RULE_FILE_BYTES = 8 * 1024 * 1024;
/** Most groups and rules in all files together. */
const MAX_RULES = 10_000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Path = readonly (string | number)[];
type LineOf = (path: Path, key?: boolean) => number | undefined;

const GROUP_KEYS = new Set(['name', 'interval', 'limit', 'labels', 'rules', 'query_offset']);
const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks a parsed rule file (plain data) and compiles it; problems go to `problems`. */
function validate(data: unknown, file: string, lineOf: LineOf, problems: RuleProblem[]): GroupDef[] {
  const add = (path: Path, reason: string, key = false): void => void problems.push({ file, line: lineOf(path, key), reason });
  if (data === null || data === undefined) return [];
  if (!isObject(data)) {
    add([], 'a rule file must be a mapping with a "groups" list');
    return [];
  }
  for (const k of Object.keys(data)) if (k !== 'groups') add([k], `field ${k} not found in type rulefmt.RuleGroups`, true);
  const groupsRaw = data['groups'];
  if (groupsRaw === undefined || groupsRaw === null) return [];
  if (!Array.isArray(groupsRaw)) {
    add(['groups'], '"groups" must be a list');
    return [];
  }
  const seen = new Set<string>();
  const out: GroupDef[] = [];
  groupsRaw.forEach((g: unknown, gi) => {
    const gp: Path = ['groups', gi];
    if (!isObject(g)) return add(gp, 'a group must be a mapping with "name" and "rules"');
    for (const k of Object.keys(g)) if (!GROUP_KEYS.has(k)) add([...gp, k], `field ${k} not found in type rulefmt.RuleGroup`, true);
    const name = g['name'];
    if (typeof name !== 'string' || name === '') return add([...gp, 'name'], 'Groupname must not be empty');
    if (seen.has(name)) add([...gp, 'name'], `groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    let intervalMs: number | undefined;
    if (g['interval'] !== undefined) {
      const d = durationOf(g['interval']);
      if (d === undefined || d <= 0) add([...gp, 'interval'], `group "${name}": interval ${JSON.stringify(g['interval'])} is not a positive duration such as 30s, 1m or 1h30m`);
      else intervalMs = d;
    }
    let limit = 0;
    if (g['limit'] !== undefined) {
      if (typeof g['limit'] !== 'number' || !Number.isSafeInteger(g['limit']) || g['limit'] < 0) add([...gp, 'limit'], `group "${name}": limit must be a non-negative integer`);
      else limit = g['limit'];
    }
    const groupLabels = stringMap(g['labels'], [...gp, 'labels'], `group "${name}": labels`, add, true);
    const rulesRaw = g['rules'];
    const rules: RuleDef[] = [];
    if (rulesRaw !== undefined && rulesRaw !== null && !Array.isArray(rulesRaw)) add([...gp, 'rules'], `group "${name}": "rules" must be a list`);
    (Array.isArray(rulesRaw) ? rulesRaw : []).forEach((r: unknown, ri) => {
      const rule = validateRule(r, [...gp, 'rules', ri], name, ri + 1, groupLabels, add);
      if (rule) rules.push(rule);
    });
    out.push({ name, file, intervalMs, limit, rules });
  });
  return out;
}

function durationOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  return parseDuration(v.trim());
}

/** A map of label (or annotation) names to strings; problems reported. */
function stringMap(v: unknown, path: Path, what: string, add: (path: Path, reason: string, key?: boolean) => void, labelNames: boolean): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) {
    add(path, `${what} must be a mapping of names to strings`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (labelNames && (!LABEL_NAME.test(k) || k === '__name__')) add([...path, k], `${what}: invalid label name: ${k}`, true);
    else if (!labelNames && !LABEL_NAME.test(k)) add([...path, k], `${what}: invalid annotation name: ${k}`, true);
    if (typeof x === 'string') out[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else add([...path, k], `${what}: value of ${JSON.stringify(k)} must be a string`);
  }
  return out;
}

function validateRule(
  r: unknown,
  rp: Path,
  group: string,
  index: number,
  groupLabels: Record<string, string>,
  add: (path: Path, reason: string, key?: boolean) => void,
): RuleDef | undefined {
  if (!isObject(r)) {
    add(rp, `group "${group}", rule ${index}: a rule must be a mapping`);
    return undefined;
  }
  const alert = r['alert'];
  const record = r['record'];
  const name = typeof alert === 'string' ? alert : typeof record === 'string' ? record : '';
  const where = `group "${group}", rule ${index}, ${JSON.stringify(name)}`;
  const before = { n: 0 };
  const fail = (path: Path, reason: string, key = false): void => {
    before.n++;
    add(path, `${where}: ${reason}`, key);
  };
  for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) fail([...rp, k], `field ${k} not found in type rulefmt.Rule`, true);
  if (alert !== undefined && record !== undefined) fail(rp, "only one of 'record' and 'alert' must be set");
  if (alert === undefined && record === undefined) fail(rp, "one of 'record' or 'alert' must be set");
  if (alert !== undefined && (typeof alert !== 'string' || alert === '')) fail([...rp, 'alert'], 'alert name must be a non-empty string');
  if (record !== undefined && (typeof record !== 'string' || !METRIC_NAME.test(record))) fail([...rp, 'record'], `invalid recording rule name: ${String(record)}`);
  const expr = r['expr'];
  if (expr === undefined || expr === null || expr === '') fail(rp, "field 'expr' must be set in rule");
  else if (typeof expr !== 'string' && typeof expr !== 'number') fail([...rp, 'expr'], "field 'expr' must be a string");
  else {
    try {
      // kept parsed: the evaluator's reads and the engine take the same tree (parseQueryCached)
      const t = typeOf(parseQueryCached(String(expr)));
      if (t !== 'vector' && t !== 'scalar') fail([...rp, 'expr'], `could not parse expression: expression must be of type instant vector or scalar, got ${t === 'matrix' ? 'range vector' : t}`);
    } catch (e) {
      fail([...rp, 'expr'], `could not parse expression: ${(e as Error).message}`);
    }
  }
  const labels = { ...groupLabels, ...stringMap(r['labels'], [...rp, 'labels'], 'labels', fail, true) };
  if (record !== undefined) {
    for (const k of ['annotations', 'for', 'keep_firing_for']) if (r[k] !== undefined) fail([...rp, k], `invalid field '${k}' in recording rule`, true);
    if (before.n > 0) return undefined;
    return { kind: 'record', name, expr: String(expr), labels };
  }
  const dur = (k: string): number => {
    if (r[k] === undefined || r[k] === null) return 0;
    const d = durationOf(r[k]);
    if (d === undefined) {
      fail([...rp, k], `${k}: not a valid duration string: ${JSON.stringify(String(r[k]))}`);
      return 0;
    }
    return d;
  };
  const forMs = dur('for');
  const keepFiringForMs = dur('keep_firing_for');
  const annotations = stringMap(r['annotations'], [...rp, 'annotations'], 'annotations', fail, false);
  const compile = (kind: 'label' | 'annotation', map: Record<string, string>): Map<string, Template> => {
    const out = new Map<string, Template>();
    for (const [k, text] of Object.entries(map)) {
      try {
        out.set(k, Template.parse(text, TEMPLATE_FUNCTIONS, TEMPLATE_VARIABLES));
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        fail([...rp, kind === 'label' ? 'labels' : 'annotations', k], `${kind} ${JSON.stringify(k)}: template: __alert_${name}: ${e.message}`);
      }
    }
    return out;
  };
  const labelTemplates = compile('label', labels);
  const annotationTemplates = compile('annotation', annotations);
  if (before.n > 0) return undefined;
  return { kind: 'alert', name, expr: String(expr), forMs, keepFiringForMs, labels, annotations, labelTemplates, annotationTemplates };
}

/** Line of a YAML path (of its key when `key`), 1-based. */
function yamlLines(doc: Document, counter: LineCounter): LineOf {
  const { isMap, isScalar, isSeq } = yamlLib();
  return (path, key = false) => {
    let p = [...path];
    for (;;) {
      let node: YamlNode | undefined;
      if (key && p.length > 0) {
        const parent = p.length === 1 ? doc.contents : doc.getIn(p.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === p[p.length - 1]);
          if (pair && isScalar(pair.key)) node = pair.key;
        }
      } else {
        const n = p.length === 0 ? doc.contents : doc.getIn(p, true);
        if (isMap(n) || isSeq(n) || isScalar(n)) node = n as YamlNode;
      }
      const off = node?.range?.[0];
      if (off !== undefined) return counter.linePos(off).line;
      if (p.length === 0) return undefined;
      p = p.slice(0, -1);
      key = false;
    }
  };
}

/** Parses and checks one rule file's text; throws RuleLoadError naming `file:line`. */
export function parseRuleFileText(text: string, file: string): GroupDef[] {
  const { LineCounter, parseDocument } = yamlLib();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new RuleLoadError(doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line, reason: `yaml: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` })));
  }
  keepScalarText(doc, MAP_KEYS);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new RuleLoadError([{ file, line: undefined, reason: `yaml: ${(e as Error).message}` }]);
  }
  const problems: RuleProblem[] = [];
  const groups = validate(data, file, yamlLines(doc, counter), problems);
  if (problems.length > 0) throw new RuleLoadError(problems);
  return groups;
}

/** Checks a `RuleFile` object (bundled rules) named `file`; throws RuleLoadError. */
export function checkRuleFile(rules: RuleFile, file: string): GroupDef[] {
  const problems: RuleProblem[] = [];
  const groups = validate(JSON.parse(JSON.stringify(rules)) as unknown, file, () => undefined, problems);
  if (problems.length > 0) throw new RuleLoadError(problems);
  return groups;
}

/** Reads and checks one file from disk. */
export function loadRuleFile(path: string): GroupDef[] {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_RULE_FILE_BYTES) throw new Error(`${size} bytes, over the ${MAX_RULE_FILE_BYTES}-byte limit of a rule file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RuleLoadError([{ file: path, line: undefined, reason: `cannot read rule file: ${(e as Error).message}` }]);
  }
  return parseRuleFileText(text, path);
}

/** A rule file given as an object (e.g. Larder's bundled rules), with the name the API shows as its file. */
export interface RuleFileSource {
  readonly file: string;
  readonly rules: RuleFile;
  /**
   * Matchers added to every selector of every rule (scope.ts): the bundled rules watch
   * the series this Larder writes only. Its alert_history rows are the ones whose labels
   * satisfy them.
   */
  readonly scope?: readonly LabelMatcher[];
}

/**
 * Every group of the files `patterns` name (paths or globs, in order; a glob matching
 * nothing is no error, as in Prometheus) and of `extra`. Throws RuleLoadError listing
 * every problem of every file.
 */
export function loadRules(patterns: readonly string[], extra: readonly RuleFileSource[] = []): GroupDef[] {
  const problems: RuleProblem[] = [];
  const groups: GroupDef[] = [];
  const files: string[] = [];
  for (const p of patterns) {
    try {
      files.push(...expandGlobs(p));
    } catch (e) {
      problems.push({ file: p, line: undefined, reason: (e as Error).message });
    }
  }
  const sources: (() => GroupDef[])[] = [...new Set(files)].map((f) => () => loadRuleFile(f));
  for (const x of extra) {
    const scope = x.scope;
    if (scope === undefined || scope.length === 0) sources.push(() => checkRuleFile(x.rules, x.file));
    else sources.push(() => checkRuleFile(scopeRuleFile(x.rules, scope), x.file).map((g) => ({ ...g, scope })));
  }
  for (const load of sources) {
    try {
      groups.push(...load());
    } catch (e) {
      if (!(e instanceof RuleLoadError)) throw e;
      problems.push(...e.problems);
    }
  }
  const total = groups.reduce((n, g) => n + g.rules.length, 0);
  if (total > MAX_RULES) problems.push({ file: patterns.join(','), line: undefined, reason: `${total} rules, more than the ${MAX_RULES} Larder evaluates` });
  if (problems.length > 0) throw new RuleLoadError(problems);
  return groups;
}

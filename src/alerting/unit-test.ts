/**
 * `larder test rules FILE...`: runs `promtool test rules` unit-test files with Larder's
 * own evaluator over a temporary SQLite store, printing and exiting as promtool does
 * (cmd/promtool/unittest.go): `Unit Testing:  FILE`, then `  SUCCESS` or `  FAILED:` and
 * each difference; exit 0 when all pass, 1 otherwise.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { keepScalarText } from './yaml-strings.js';
import { staleNaN } from '../../storage/stale.js';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Labels, Sample, Store } from '../../storage/store.js';
import { createQueryEngine } from '../../query/engine.js';
import { parseDuration } from '../duration.js';
import { Group } from './group.js';
import { loadRules, RuleLoadError, type GroupDef } from './load.js';
import { SampleWriter } from './sample-writer.js';
import { parseSeriesDesc, parseSeriesValues } from './series-notation.js';
import { goFloat } from './template-funcs.js';
import { expandGlobs } from './glob.js';

/** Where the runner writes (promtool: results to stdout, failures to stderr). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface ExprTest {
  expr: string;
  eval_time: string;
  exp_samples?: { labels: string; value: number | string }[];
}
interface TestGroup {
  interval?: string;
  input_series?: { series: string; values: string }[];
  alert_rule_test?: AlertTest[];
  promql_expr_test?: ExprTest[];
  external_labels?: Record<string, string>;
  external_url?: string;
  name?: string;
}
interface UnitTestFile {
  rule_files?: string[];
  evaluation_interval?: string;
  group_eval_order?: string[];
  tests?: TestGroup[];
}

/** Go's time.Duration String(): `10m0s`, `1h0m0s`, `1.5s`, `0s`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  if (rest < 1000) return `${neg ? '-' : ''}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = (rest / 1000).toString();
  return `${neg ? '-' : ''}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** Prometheus' model.Duration String(): `10m`, `1h`, `1m30s`, `0s`. */
export function promDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [['y', 31_536_000_000], ['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = ms;
  let out = '';
  for (const [u, size] of units) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${u}`;
      rest %= size;
    }
  }
  return out;
}

/** Go's labels.Labels String(): `{a="b", c="d"}`, sorted by name. */
function labelsString(l: Labels): string {
  return `{${Object.keys(l).sort().map((k) => `${k}=${JSON.stringify(l[k])}`).join(', ')}}`;
}

function compareLabels(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    const va = a[ka[i]!]!;
    const vb = b[kb[i]!]!;
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return ka.length - kb.length;
}

interface LabelsAndAnnotations {
  labels: Labels;
  annotations: Labels;
}

function indentLines(lines: string, indent: string): string {
  return lines.split('\n').map((l, i) => (i > 0 ? indent + l : l)).join('\n');
}

function laString(la: readonly LabelsAndAnnotations[]): string {
  if (la.length === 0) return '[]';
  const one = (x: LabelsAndAnnotations): string => `Labels:${labelsString(x.labels)}\nAnnotations:${labelsString(x.annotations)}`;
  let s = `[\n0:${indentLines(`\n${one(la[0]!)}`, '  ')}`;
  la.slice(1).forEach((x, i) => (s += `,\n${i + 1}:${indentLines(`\n${one(x)}`, '  ')}`));
  return `${s}\n]`;
}

function sameLA(a: readonly LabelsAndAnnotations[], b: readonly LabelsAndAnnotations[]): boolean {
  return a.length === b.length && a.every((x, i) => compareLabels(x.labels, b[i]!.labels) === 0 && compareLabels(x.annotations, b[i]!.annotations) === 0);
}

function duration(text: unknown, what: string): number {
  const d = typeof text === 'string' ? parseDuration(text.trim()) : undefined;
  if (d === undefined) throw new Error(`${what}: not a valid duration string: ${JSON.stringify(text)}`);
  return d;
}

function sampleValue(v: number | string): number {
  if (typeof v === 'number') return v;
  const t = v.trim();
  if (/^[-+]?inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  const n = Number(t);
  if (t === '' || Number.isNaN(n)) throw new Error(`invalid sample value ${JSON.stringify(v)}`);
  return n;
}

/** Loads a test group's input series into `store`, at 0, interval, 2 × interval, … since the Unix epoch. */
async function loadSeries(store: Store, series: TestGroup['input_series'], intervalMs: number): Promise<void> {
  const samples: Sample[] = [];
  for (const s of series ?? []) {
    const labels = parseSeriesDesc(s.series);
    const name = labels['__name__'];
    if (name === undefined) throw new Error(`series ${s.series}: no metric name`);
    const rest: Record<string, string> = { ...labels };
    delete rest['__name__'];
    const [id] = await store.resolveSeries([{ name, labels: rest, type: 'untyped' }]);
    parseSeriesValues(s.values).forEach((p, i) => {
      if (p !== 'missing') samples.push({ seriesId: id!, timeMs: i * intervalMs, value: p === 'stale' ? staleNaN() : p });
    });
  }
  for (let i = 0; i < samples.length; i += 50_000) await store.writeSamples(samples.slice(i, i + 50_000));
}

/** Runs one test group; resolves with its errors (promtool's wording). */
async function runGroup(tg: TestGroup, defs: readonly GroupDef[], evalIntervalMs: number, store: Store): Promise<string[]> {
  // each test group starts from an empty store (the series dictionary may stay: series without samples are invisible)
  await store.dropChunksBefore('samples', 253_402_300_799_999);
  {
    const intervalMs = tg.interval === undefined ? evalIntervalMs : duration(tg.interval, 'interval');
    await loadSeries(store, tg.input_series, intervalMs);
    const engine = createQueryEngine(store);
    const writer = new SampleWriter(store);
    const externalLabels = tg.external_labels ?? {};
    const externalURL = tg.external_url ?? '';
    const groups = defs.map((d) => new Group(d, d.intervalMs ?? evalIntervalMs, { externalLabels, externalURL }, false));
    const env = { engine, writer, externalLabels, externalURL, resendDelayMs: 60_000, queryTimeoutMs: 120_000 };
    const errs: string[] = [];
    const alertTests = new Map<number, AlertTest[]>();
    for (const at of tg.alert_rule_test ?? []) {
      const t = duration(at.eval_time, 'eval_time');
      alertTests.set(t, [...(alertTests.get(t) ?? []), at]);
    }
    const alertTimes = [...alertTests.keys()].sort((a, b) => a - b);
    const exprTimes = (tg.promql_expr_test ?? []).map((e) => duration(e.eval_time, 'eval_time'));
    const maxt = Math.max(0, ...alertTimes, ...exprTimes);
    let curr = 0;
    const testName = tg.name ? `    name: ${tg.name},\n` : '';
    for (let ts = 0; ts <= maxt; ts += evalIntervalMs) {
      const evalErrs: string[] = [];
      for (const g of groups) {
        await g.evaluate(ts, env);
        for (const r of g.rules) if (r.health === 'err') evalErrs.push(`    rule: ${r.def.name}, time: ${goDuration(ts)}, err: ${r.lastError}`);
      }
      if (evalErrs.length > 0) return [...errs, ...evalErrs];
      while (curr < alertTimes.length && ts <= alertTimes[curr]! && alertTimes[curr]! < ts + evalIntervalMs) {
        const t = alertTimes[curr]!;
        const present = new Set(alertTests.get(t)!.map((x) => x.alertname));
        const got = new Map<string, LabelsAndAnnotations[]>();
        for (const g of groups) {
          for (const r of g.rules) {
            if (!r.alerts || !present.has(r.def.name)) continue;
            const firing = r.alerts.activeAlerts().filter((a) => a.state === 'firing').map((a) => ({ labels: { ...a.labels }, annotations: { ...a.annotations } }));
            got.set(r.def.name, [...(got.get(r.def.name) ?? []), ...firing]);
          }
        }
        for (const tc of alertTests.get(t)!) {
          const gotAlerts = [...(got.get(tc.alertname) ?? [])].sort((a, b) => compareLabels(a.labels, b.labels));
          const exp = (tc.exp_alerts ?? [])
            .map((a) => ({ labels: { ...(a.exp_labels ?? {}), alertname: tc.alertname }, annotations: { ...(a.exp_annotations ?? {}) } }))
            .sort((a, b) => compareLabels(a.labels, b.labels));
          if (!sameLA(exp, gotAlerts)) {
            errs.push(`${testName}    alertname: ${tc.alertname}, time: ${promDuration(t)}, \n        exp:${indentLines(laString(exp), '            ')}, \n        got:${indentLines(laString(gotAlerts), '            ')}`);
          }
        }
        curr++;
      }
    }
    for (const tc of tg.promql_expr_test ?? []) {
      const at = duration(tc.eval_time, 'eval_time');
      let got: { labels: Labels; value: number }[];
      try {
        const r = await engine.instant(tc.expr, at);
        if (r.value.type === 'vector') got = r.value.samples.map((s) => ({ labels: s.metric, value: s.value }));
        else if (r.value.type === 'scalar') got = [{ labels: {}, value: r.value.value }];
        else throw new Error('rule result is not a vector or scalar');
      } catch (e) {
        errs.push(`    expr: ${JSON.stringify(tc.expr)}, time: ${promDuration(at)}, err: ${(e as Error).message}`);
        continue;
      }
      let exp: { labels: Labels; value: number }[];
      try {
        exp = (tc.exp_samples ?? []).map((s) => {
          try {
            return { labels: parseSeriesDesc(s.labels), value: sampleValue(s.value) };
          } catch (e) {
            throw new Error(`labels ${JSON.stringify(s.labels)}: ${(e as Error).message}`);
          }
        });
      } catch (e) {
        errs.push(`    expr: ${JSON.stringify(tc.expr)}, time: ${promDuration(at)}, err: ${(e as Error).message}`);
        continue;
      }
      const order = (a: { labels: Labels }, b: { labels: Labels }): number => compareLabels(a.labels, b.labels);
      exp.sort(order);
      got.sort(order);
      const same = exp.length === got.length && exp.every((x, i) => compareLabels(x.labels, got[i]!.labels) === 0 && x.value === got[i]!.value);
      if (!same) {
        const str = (xs: { labels: Labels; value: number }[]): string => (xs.length === 0 ? 'nil' : xs.map((x) => `${labelsString(x.labels)} ${goFloat(x.value, 'e', -1).toUpperCase()}`).join(', '));
        errs.push(`    expr: ${JSON.stringify(tc.expr)}, time: ${promDuration(at)},\n        exp: ${str(exp)}\n        got: ${str(got)}`);
      }
    }
    return errs;
  }
}

const FILE_KEYS = new Set(['rule_files', 'evaluation_interval', 'group_eval_order', 'tests']);
const GROUP_KEYS = new Set(['interval', 'input_series', 'alert_rule_test', 'promql_expr_test', 'external_labels', 'external_url', 'name']);

/** Runs one unit-test file; resolves with its errors (empty: passed). */
async function runFile(file: string, store: () => Promise<Store>): Promise<string[]> {
  if (statSync(file).size > 16 * 1024 * 1024) return [`${file}: larger than 16 MiB`];
  let doc: UnitTestFile;
  try {
    const parsed = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
    if (parsed.errors.length > 0) throw new Error(`yaml: ${parsed.errors[0]!.message.split('\n')[0]!}`);
    keepScalarText(parsed, new Set(['exp_labels', 'exp_annotations', 'external_labels']));
    doc = (parsed.toJS({ maxAliasCount: 100 }) ?? {}) as UnitTestFile;
    for (const k of Object.keys(doc)) if (!FILE_KEYS.has(k)) throw new Error(`field ${k} not found in type main.unitTestFile`);
    for (const tg of doc.tests ?? []) for (const k of Object.keys(tg)) if (!GROUP_KEYS.has(k)) throw new Error(`field ${k} not found in type main.testGroup`);
  } catch (e) {
    return [(e as Error).message];
  }
  const evalIntervalMs = doc.evaluation_interval === undefined ? 60_000 : duration(doc.evaluation_interval, 'evaluation_interval');
  const base = dirname(file);
  let defs: GroupDef[];
  try {
    const patterns = (doc.rule_files ?? []).map((f) => (isAbsolute(f) ? f : join(base, f)));
    const files = patterns.flatMap((p) => expandGlobs(p));
    defs = loadRules(files);
  } catch (e) {
    if (e instanceof RuleLoadError) return e.problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}`);
    return [(e as Error).message];
  }
  const order = doc.group_eval_order ?? [];
  if (order.length > 0) {
    const pos = new Map(order.map((n, i) => [n, i]));
    for (const d of defs) if (!pos.has(d.name)) return [`group name ${JSON.stringify(d.name)} missing from group_eval_order`];
    defs = [...defs].sort((a, b) => pos.get(a.name)! - pos.get(b.name)!);
  }
  const errs: string[] = [];
  for (const tg of doc.tests ?? []) {
    try {
      errs.push(...(await runGroup(tg, defs, evalIntervalMs, await store())));
    } catch (e) {
      errs.push((e as Error).message);
    }
  }
  return errs;
}

/** Runs the files as `promtool test rules` does; resolves with the exit code (0 all passed, 1 a failure). */
export async function testRules(files: readonly string[], out: Output): Promise<number> {
  // one temporary store for the whole run (opening one is the slow part), emptied per test group
  const dir = mkdtempSync(join(tmpdir(), 'larder-test-rules-'));
  let opened: Promise<Store> | undefined;
  const store = (): Promise<Store> => (opened ??= openSqliteStore({ path: join(dir, 'test.db'), now: () => 0 }));
  try {
    return await runAll(files, out, store);
  } finally {
    if (opened) await (await opened).close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAll(files: readonly string[], out: Output, store: () => Promise<Store>): Promise<number> {
  let failed = false;
  for (const f of files) {
    out.out(`Unit Testing:  ${f}\n`);
    let errs: string[];
    try {
      errs = await runFile(f, store);
    } catch (e) {
      errs = [(e as Error).message];
    }
    if (errs.length > 0) {
      out.err('  FAILED:\n');
      for (const e of errs) {
        out.err(`${e}\n`);
        out.out('\n');
      }
      failed = true;
    } else {
      out.out('  SUCCESS\n');
    }
    out.out('\n');
  }
  return failed ? 1 : 0;
}

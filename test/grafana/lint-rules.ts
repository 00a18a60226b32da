/**
 * grafana/dashboard-linter's rules (as listed in ../shared/GRAFANA.md) written as checks,
 * since the linter cannot be installed here, plus the structural checks Grafana's
 * dashboard model needs. Each returns the problems it finds, as text.
 */

/** The parts of a dashboard the checks read. */
export interface Dash {
  uid?: unknown;
  id?: unknown;
  title?: unknown;
  editable?: unknown;
  schemaVersion?: unknown;
  panels: Pan[];
  templating: { list: Variable[] };
}
export interface Variable {
  name: string;
  label?: string;
  type: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  refresh?: number;
  regex?: string;
}
export interface Pan {
  id: number;
  type: string;
  title?: string;
  description?: string;
  collapsed?: boolean;
  panels?: Pan[];
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }[];
}

/** Exceptions from a `.lint` file: rule → panel titles. */
export type Exclusions = Readonly<Record<string, readonly string[]>>;

const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table']);
/** Grafana unit ids the dashboards may use (a subset of Grafana's list). */
const UNITS = new Set(['percentunit', 'percent', 'bytes', 'decbytes', 'Bps', 'binBps', 's', 'ms', 'short', 'none', 'reqps', 'ops', 'pps', 'dateTimeFromNow', 'dateTimeAsIso', 'bool']);
const DS_UIDS = new Set(['${datasource}', '$datasource']);

/** Every panel, rows' children included. */
export function allPanels(d: Dash): Pan[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Structure: uid, ids, grid, targets, data-source references, variables used and defined. */
export function structureProblems(d: Dash): string[] {
  const out: string[] = [];
  if (typeof d.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(d.uid)) out.push(`uid ${JSON.stringify(d.uid)} is not 1-40 of [A-Za-z0-9_-]`);
  if (d.id !== null) out.push('id must be null');
  if (typeof d.title !== 'string' || d.title.trim() === '') out.push('empty title');
  if (d.schemaVersion !== 39 && d.schemaVersion !== 41) out.push(`schemaVersion ${String(d.schemaVersion)} is neither 39 nor 41`);
  const panels = allPanels(d);
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length || ids.some((i) => !Number.isInteger(i))) out.push(`panel ids not unique integers: ${ids.join(',')}`);
  for (const p of panels) {
    if (!PANEL_TYPES.has(p.type)) out.push(`panel ${p.id}: type ${p.type} is not a current panel type`);
    const g = p.gridPos;
    if (!(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.y >= 0 && g.h > 0)) out.push(`panel ${p.id}: gridPos ${JSON.stringify(g)} outside the 24-column grid`);
    if (p.type === 'row' && p.collapsed === false && (p.panels ?? []).length > 0) out.push(`row ${p.id}: open rows hold no panels`);
    const refIds = (p.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length || refIds.some((r) => typeof r !== 'string' || r === '')) out.push(`panel ${p.id}: refIds not unique: ${refIds.join(',')}`);
    if (p.type !== 'row') {
      if (!p.datasource?.type || !p.datasource.uid) out.push(`panel ${p.id}: no datasource {type, uid}`);
      for (const t of p.targets ?? []) if (!t.datasource?.type || !t.datasource.uid) out.push(`panel ${p.id} target ${t.refId}: no datasource {type, uid}`);
    }
  }
  const top = d.panels;
  for (let i = 0; i < top.length; i++) {
    for (let j = i + 1; j < top.length; j++) {
      const a = top[i]!.gridPos;
      const b = top[j]!.gridPos;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) out.push(`panels ${top[i]!.id} and ${top[j]!.id} overlap`);
    }
  }
  // Every $variable a panel or variable uses is defined.
  const defined = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__from', '__to', '__timeFilter', '__field', ...d.templating.list.map((v) => v.name)]);
  const text = JSON.stringify({ panels: d.panels, vars: d.templating.list.map((v) => [v.query, v.datasource]) });
  for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) if (!defined.has(m[1]!)) out.push(`variable $${m[1]} used but not defined`);
  return [...new Set(out)];
}

/** Strips `by (…)`, `without (…)`, `on (…)`, `ignoring (…)` label lists, strings and matcher blocks, leaving metric names and functions. */
function bareTokens(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without']);
  const out: string[] = [];
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\(|\{)?/g)) {
    if (m[2] === '(' || keywords.has(m[1]!)) continue;
    if (/^[0-9]/.test(m[1]!)) continue;
    out.push(`${m[1]}${m[2] ?? ''}`);
  }
  return out;
}

/** The vector selectors of a PromQL expression: `name{matchers}`. */
export function selectors(expr: string): { name: string; matchers: string; bare: boolean }[] {
  const out = [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({ name: m[1]!, matchers: m[2]!, bare: false }));
  for (const tok of bareTokens(expr)) if (!tok.endsWith('{')) out.push({ name: tok, matchers: '', bare: true });
  return out;
}

/** The PromQL inside a variable query: `label_values(expr, l)` → expr, `query_result(expr)` → expr. */
export function variableExpr(query: string): string | undefined {
  const lv = /^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query.trim());
  if (lv) return lv[1];
  const qr = /^query_result\((.+)\)$/.exec(query.trim());
  return qr ? qr[1] : undefined;
}

/** grafana/dashboard-linter's rules; `promql` collects the expressions for the PromQL check. */
export function linterProblems(d: Dash, exclusions: Exclusions = {}): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  const add = (rule: string, panel: string | undefined, msg: string): void => {
    if (panel !== undefined && (exclusions[rule] ?? []).includes(panel)) return;
    (problems[rule] ??= []).push(msg);
  };
  const vars = d.templating.list;
  const dsVars = vars.filter((v) => v.type === 'datasource');
  if (dsVars.length !== 1 || dsVars[0]!.name !== 'datasource' || dsVars[0]!.label !== 'Data Source') add('template-datasource-rule', undefined, `data-source variables: ${dsVars.map((v) => `${v.name}/${v.label}`).join(', ') || 'none'}`);
  for (const name of ['job', 'instance']) {
    const v = vars.find((x) => x.name === name);
    if (!v) add(`template-${name}-rule`, undefined, `no ${name} variable`);
    else if (!DS_UIDS.has(v.datasource?.uid ?? '') || v.multi !== true || v.allValue !== '.+') add(`template-${name}-rule`, undefined, `${name}: datasource ${v.datasource?.uid}, multi ${v.multi}, allValue ${v.allValue}`);
  }
  for (const v of vars.filter((x) => x.type === 'query')) {
    if (v.refresh !== 2) add('template-on-time-change-reload-rule', undefined, `${v.name}: refresh ${v.refresh}`);
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query ?? '';
    if (variableExpr(q) === undefined) add('template-label-promql-rule', undefined, `${v.name}: not label_values/query_result: ${q}`);
  }
  if (d.editable !== false) add('uneditable-dashboard', undefined, 'the dashboard is editable');
  for (const p of allPanels(d).filter((x) => x.type !== 'row')) {
    const title = p.title ?? '';
    if (!DS_UIDS.has(p.datasource?.uid ?? '')) add('panel-datasource-rule', title, `${title}: datasource ${p.datasource?.uid}`);
    if (!p.title || !p.description) add('panel-title-description-rule', title, `panel ${p.id}: title or description missing`);
    if (['stat', 'table', 'timeseries', 'gauge'].includes(p.type) && !UNITS.has(p.fieldConfig?.defaults?.unit ?? '')) add('panel-units-rule', title, `${title}: unit ${p.fieldConfig?.defaults?.unit}`);
    if ((p.targets ?? []).length === 0) add('panel-no-targets-rule', title, `${title}: no targets`);
    for (const t of p.targets ?? []) {
      const expr = t.expr ?? '';
      for (const m of expr.matchAll(/\b(rate|irate|increase)\s*\(([^[]*)\[([^\]]+)\]/g)) if (m[3] !== '$__rate_interval') add('target-rate-interval-rule', title, `${title}: ${m[1]}(…[${m[3]}])`);
      for (const s of selectors(expr)) {
        if (!/\bjob=~"\$job"/.test(s.matchers)) add('target-job-rule', title, `${title}: ${s.name}{${s.matchers}} has no job=~"$job"`);
        if (!/\binstance=~"\$instance"/.test(s.matchers)) add('target-instance-rule', title, `${title}: ${s.name}{${s.matchers}} has no instance=~"$instance"`);
      }
      for (const m of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*_total)\b/g)) {
        const before = expr.slice(0, m.index).replace(/\s+$/, '');
        if (!/\b(rate|irate|increase)\($/.test(before)) add('target-counter-agg-rule', title, `${title}: ${m[1]} not inside rate/irate/increase`);
      }
    }
  }
  return problems;
}

/** The PromQL of every target and variable, Grafana's variables replaced by valid values, for promtool. */
export function promqlOf(d: Dash): { where: string; expr: string }[] {
  const fill = (e: string): string => e.replace(/\$__rate_interval|\$__range|\$__interval/g, '5m').replace(/\$job|\$instance/g, '.+');
  const out: { where: string; expr: string }[] = [];
  for (const v of d.templating.list.filter((x) => x.type === 'query')) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query ?? '';
    const e = variableExpr(q);
    if (e !== undefined) out.push({ where: `variable ${v.name}`, expr: fill(e) });
  }
  for (const p of allPanels(d)) for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${p.title} ${t.refId}`, expr: fill(t.expr) });
  return out;
}

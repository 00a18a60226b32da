/**
 * Turns a dashboard definition into Grafana's classic dashboard JSON for one source,
 * pure: a data-source variable, `job` and `instance` variables, open rows with their
 * panels laid out on the 24-column grid, stable uids, and `__inputs` for grafana.com-style
 * import. Current panel types only (no Angular `graph`/`singlestat`).
 */
import { PLUGIN_ID, type DashboardDef, type PanelDef, type Source } from './model.js';
import { instanceVariableSql, jobVariableSql, targetSql } from './sql-query.js';

/** Schema version of the generated JSON (Grafana 10.4+). */
export const SCHEMA_VERSION = 39;

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const SUFFIX: Readonly<Record<Source, string>> = { prometheus: 'prom', postgresql: 'pg', sqlite: 'sqlite' };
const NAME: Readonly<Record<Source, string>> = { prometheus: 'Prometheus', postgresql: 'PostgreSQL', sqlite: 'SQLite' };
/** The `__inputs` name of each source's data source. */
export const INPUT: Readonly<Record<Source, string>> = { prometheus: 'DS_PROMETHEUS', postgresql: 'DS_POSTGRESQL', sqlite: 'DS_SQLITE' };

/** The uid of a dashboard for a source: `larder-<key>-<prom|pg|sqlite>`. */
export function dashboardUid(def: DashboardDef, source: Source): string {
  return `larder-${def.key}-${SUFFIX[source]}`;
}

const ds = (source: Source): Obj => ({ type: PLUGIN_ID[source], uid: '${datasource}' });

function variables(def: DashboardDef, source: Source): Json[] {
  const datasource: Obj = {
    name: 'datasource',
    label: 'Data Source',
    type: 'datasource',
    query: PLUGIN_ID[source],
    current: { selected: false, text: `\${${INPUT[source]}}`, value: `\${${INPUT[source]}}` },
    hide: 0,
    refresh: 1,
    regex: '',
    options: [],
  };
  const query = (name: string, label: string, q: string, extra: Obj = {}): Obj => ({
    name,
    label,
    type: 'query',
    datasource: ds(source),
    definition: q,
    query: source === 'prometheus' ? { query: q, refId: `${name}-query`, qryType: 1 } : q,
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: source === 'prometheus' ? '.+' : null,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
    regex: '',
    ...extra,
  });
  const m = def.variableMetric;
  if (source === 'prometheus') {
    const job = query('job', 'Job', `label_values(${m}, job)`);
    const instance = def.nodename
      ? // node_uname_info's labels come sorted: instance before nodename; show the host name, select the instance.
        query('instance', 'Host', `query_result(node_uname_info{job=~"$job"})`, { regex: '/instance="(?<value>[^"]+)".*nodename="(?<text>[^"]+)"/' })
      : query('instance', 'Instance', `label_values(${m}{job=~"$job"}, instance)`);
    return [datasource, job, instance];
  }
  return [datasource, query('job', 'Job', jobVariableSql(source, m)), query('instance', def.nodename ? 'Host' : 'Instance', instanceVariableSql(source, m, def.nodename === true))];
}

function legendToDisplay(legend: string | undefined): string | undefined {
  return legend?.replace(/\{\{(\w+)\}\}/g, '${__field.labels.$1}');
}

function targets(p: PanelDef, source: Source): Json[] {
  const refId = (i: number): string => String.fromCharCode(65 + i);
  if (source === 'prometheus') {
    return p.prometheus.map((t, i) => ({ refId: refId(i), datasource: ds(source), expr: t.expr, legendFormat: t.legend ?? '__auto', range: true, instant: false, editorMode: 'code' }));
  }
  return p.sql.map((t, i): Obj => {
    const sql = targetSql(source, t);
    if (source === 'postgresql') return { refId: refId(i), datasource: ds(source), format: 'time_series', rawQuery: true, editorMode: 'code', rawSql: sql };
    return { refId: refId(i), datasource: ds(source), queryType: 'time series', rawQueryText: sql, queryText: sql, timeColumns: ['time'] };
  });
}

function panelJson(p: PanelDef, source: Source, id: number, gridPos: Obj): Obj {
  const thresholds = p.thresholds ?? [{ value: null, color: 'green' }];
  const defaults: Obj = { unit: p.unit, thresholds: { mode: 'absolute', steps: thresholds.map((s) => ({ value: s.value, color: s.color })) }, color: { mode: p.type === 'timeseries' ? 'palette-classic' : 'thresholds' } };
  if (p.min !== undefined) defaults['min'] = p.min;
  if (p.max !== undefined) defaults['max'] = p.max;
  if (p.type === 'timeseries') defaults['custom'] = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false };
  // SQL sources: the legend comes from the `by` labels of each target.
  const overrides: Json[] = [];
  if (source !== 'prometheus') {
    p.sql.forEach((t, i) => {
      const display = legendToDisplay(t.legend);
      if (display !== undefined) overrides.push({ matcher: { id: 'byFrameRefID', options: String.fromCharCode(65 + i) }, properties: [{ id: 'displayName', value: display }] });
    });
  }
  const options: Obj =
    p.type === 'timeseries'
      ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] }, tooltip: { mode: 'multi', sort: 'desc' } }
      : { reduceOptions: { calcs: [p.reduce ?? 'lastNotNull'], fields: '', values: false }, orientation: 'auto', textMode: 'auto', colorMode: 'value', graphMode: 'area', justifyMode: 'auto', showThresholdLabels: false, showThresholdMarkers: true };
  return { id, type: p.type, title: p.title, description: p.description, datasource: ds(source), gridPos, fieldConfig: { defaults, overrides }, options, targets: targets(p, source) };
}

/** The dashboard JSON of `def` for `source`. */
export function dashboardJson(def: DashboardDef, source: Source): Obj {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of def.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? (p.type === 'timeseries' ? 12 : 6);
      const h = p.height ?? (p.type === 'timeseries' ? 8 : 4);
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(p, source, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  const plugin = PLUGIN_ID[source];
  return {
    __inputs: [{ name: INPUT[source], label: NAME[source], description: `Larder's ${NAME[source]} data source`, type: 'datasource', pluginId: plugin, pluginName: NAME[source] }],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.4.0' },
      { type: 'datasource', id: plugin, name: NAME[source], version: source === 'sqlite' ? '3.5.0' : '1.0.0' },
      ...[...new Set(def.rows.flatMap((r) => r.panels.map((p) => p.type)))].sort().map((t): Obj => ({ type: 'panel', id: t, name: t, version: '' })),
    ],
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    description: def.description,
    editable: false,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [],
    panels,
    refresh: '1m',
    schemaVersion: SCHEMA_VERSION,
    tags: ['larder', ...def.tags, source],
    templating: { list: variables(def, source) },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: `${def.title} (${NAME[source]})`,
    uid: dashboardUid(def, source),
    version: 1,
    weekStart: '',
  };
}

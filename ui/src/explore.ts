/**
 * Explore: a PromQL box over the chosen range, with the API's error inline (and a caret
 * under the position it names), a chart and a table of the result, and the metric names
 * and labels to pick from.
 */
import { ApiError, get, queryInstant, queryRange, type InstantResult } from './api.js';
import { Chart, linesOf, MAX_LINES } from './chart.js';
import { h } from './dom.js';
import { errorPosition, formatLabels, formatValue, parseSampleValue, unitOf, type Unit } from './format.js';
import type { ViewHandle } from './overview.js';
import type { Window } from './range.js';

/** Most rows the table shows. */
const MAX_ROWS = 500;

/** Mounts Explore in `root`; `onQuery` stores a run query in the page state. */
export function mountExplore(root: HTMLElement, initial: string, onQuery: (q: string) => void): ViewHandle {
  const box = h('textarea', { id: 'query', rows: 3, spellcheck: 'false', autocapitalize: 'off', placeholder: 'PromQL, e.g. rate(node_cpu_seconds_total[5m])', 'aria-label': 'PromQL query' });
  box.value = initial;
  const run = h('button', { type: 'submit', id: 'run' }, 'Run');
  const metricInput = h('input', { id: 'metric', list: 'metric-names', placeholder: 'metric name', 'aria-label': 'metric name', autocomplete: 'off' });
  const metricList = h('datalist', { id: 'metric-names' });
  const labelSelect = h('select', { id: 'label', 'aria-label': 'label name' }, h('option', { value: '' }, 'label…'));
  const valueSelect = h('select', { id: 'label-value', 'aria-label': 'label value' }, h('option', { value: '' }, 'value…'));
  const addMetric = h('button', { type: 'button' }, 'Insert');
  const addLabel = h('button', { type: 'button' }, 'Insert');
  const error = h('div', { class: 'error', id: 'query-error', role: 'alert', hidden: true });
  const summary = h('p', { class: 'note', id: 'result-summary' });
  const chartBox = h('div', { class: 'chart', id: 'explore-chart' });
  const table = h('table', { class: 'result', id: 'result-table' });
  const chart = new Chart(chartBox, 'number', 280);
  const form = h('form', { class: 'query-form' }, box, run);
  root.replaceChildren(
    h(
      'section',
      { class: 'explore' },
      form,
      error,
      h('div', { class: 'pickers' }, h('label', {}, 'Metric ', metricInput, metricList, addMetric), h('label', {}, 'Label ', labelSelect, valueSelect, addLabel)),
      h('div', { class: 'panel', 'data-state': 'idle', id: 'explore-panel' }, chartBox, summary),
      h('div', { class: 'table-wrap' }, table),
    ),
  );

  const insert = (text: string): void => {
    const at = box.selectionStart ?? box.value.length;
    box.value = box.value.slice(0, at) + text + box.value.slice(box.selectionEnd ?? at);
    box.focus();
    box.setSelectionRange(at + text.length, at + text.length);
  };
  addMetric.addEventListener('click', () => metricInput.value && insert(metricInput.value));
  addLabel.addEventListener('click', () => labelSelect.value && insert(`${labelSelect.value}=${JSON.stringify(valueSelect.value)}`));
  labelSelect.addEventListener('change', () => {
    valueSelect.replaceChildren(h('option', { value: '' }, 'value…'));
    if (!labelSelect.value) return;
    get<string[]>(`label/${encodeURIComponent(labelSelect.value)}/values?limit=1000`)
      .then((vals) => valueSelect.append(...vals.map((v) => h('option', { value: v }, v))))
      .catch(() => undefined);
  });
  get<string[]>('label/__name__/values?limit=5000')
    .then((names) => metricList.append(...names.map((n) => h('option', { value: n }))))
    .catch(() => undefined);
  get<string[]>('labels?limit=1000')
    .then((names) => labelSelect.append(...names.filter((n) => n !== '__name__').map((n) => h('option', { value: n }, n))))
    .catch(() => undefined);

  let window: Window | undefined;
  const panel = root.querySelector('#explore-panel') as HTMLElement;

  const showError = (message: string, query: string): void => {
    error.hidden = false;
    const pos = errorPosition(message);
    const line = pos ? query.split('\n')[pos.line - 1] : undefined;
    error.replaceChildren(h('div', {}, message));
    if (pos && line !== undefined) error.append(h('pre', { class: 'caret' }, `${line}\n${' '.repeat(Math.max(0, pos.col - 1))}^`));
  };

  const fillTable = (r: InstantResult, unit: Unit): number => {
    const rows: [string, string][] = [];
    if (r.resultType === 'vector') for (const s of r.result.slice(0, MAX_ROWS)) rows.push([formatLabels(s.metric), `${formatValue(parseSampleValue(s.value[1]), unit)} (${s.value[1]})`]);
    else if (r.resultType === 'matrix') for (const s of r.result.slice(0, MAX_ROWS)) rows.push([formatLabels(s.metric), `${s.values.length} points`]);
    else rows.push([r.resultType, r.result[1]]);
    table.replaceChildren(h('thead', {}, h('tr', {}, h('th', {}, 'series'), h('th', {}, 'value'))), h('tbody', {}, ...rows.map(([a, b]) => h('tr', {}, h('td', {}, a), h('td', {}, b)))));
    return r.resultType === 'vector' || r.resultType === 'matrix' ? r.result.length : 1;
  };

  const execute = async (signal: AbortSignal): Promise<void> => {
    const query = box.value.trim();
    if (!query || !window) return;
    const w = window;
    panel.dataset['state'] = 'loading';
    // the instant query first: a query that does not parse then costs one request, not two
    let instant: InstantResult;
    let range: Awaited<ReturnType<typeof queryRange>>;
    try {
      instant = await queryInstant(query, w.end, signal);
      range = await queryRange(query, w.start, w.end, w.step, signal);
    } catch (err) {
      if (signal.aborted) return;
      const e = err as Error;
      showError(e instanceof ApiError ? e.message : `request failed: ${e.message}`, query);
      panel.dataset['state'] = 'error';
      chart.update([], w.start, w.end, w.step);
      table.replaceChildren();
      summary.textContent = '';
      return;
    }
    if (signal.aborted) return;
    error.hidden = true;
    const lines = linesOf(range.result, formatLabels);
    const unit = unitOf(query);
    chart.update(lines, w.start, w.end, w.step, unit);
    const n = fillTable(instant, unit);
    panel.dataset['state'] = lines.length > 0 ? 'data' : 'empty';
    summary.textContent = `${lines.length} series over the range${lines.length > MAX_LINES ? ` (${MAX_LINES} drawn)` : ''}; ${n} in the table at the range's end${n > MAX_ROWS ? ` (${MAX_ROWS} shown)` : ''}.`;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // the page stores the query in the URL and refreshes this view, which runs it
    onQuery(box.value.trim());
  });
  box.addEventListener('keydown', (e) => {
    // Enter runs, Shift+Enter adds a line, as in Prometheus' own box
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  return {
    async refresh(w, signal) {
      window = w;
      await execute(signal);
    },
    destroy() {
      chart.destroy();
    },
  };
}

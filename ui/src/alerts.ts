/**
 * Alerts: the alerts firing and pending now (/api/v1/alerts), the rules and their health
 * (/api/v1/rules), and the alert history over the chosen range (/api/v1/alerts/history,
 * the store's alert_history). Where Larder evaluates no rules (/api/v1/rules lists no
 * group, or there is no API to ask), the view says so.
 */
import { ApiError, get, ruleGroups, type ApiAlert, type ApiRuleGroup, type HistoryEntry } from './api.js';
import { h } from './dom.js';
import { formatLabels, formatNumber, formatSeconds, parseSampleValue } from './format.js';
import type { ViewHandle } from './overview.js';
import type { Window } from './range.js';

/** Most history rows asked for (the endpoint's bound is 1000). */
const HISTORY_LIMIT = 200;

/** Labels other than alertname, as `{a="1"}`, or empty. */
function otherLabels(labels: Readonly<Record<string, string>>): string {
  const { alertname: _n, ...rest } = labels;
  return Object.keys(rest).length > 0 ? formatLabels(rest) : '';
}

/** An API time (RFC 3339) as local time and how long ago, or a dash for Go's zero time. */
function when(iso: string | undefined, nowMs: number): string {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  return `${new Date(ms).toLocaleString()} (${formatSeconds(Math.max(0, (nowMs - ms) / 1000))} ago)`;
}

function table(id: string, head: readonly string[], rows: readonly HTMLTableRowElement[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'note', id }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'result alerts', id }, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows)));
}

const badge = (state: string): HTMLElement => h('span', { class: `badge ${state}` }, state);

function alertRows(alerts: readonly ApiAlert[], nowMs: number): HTMLTableRowElement[] {
  // firing first, then pending; the oldest first within each
  const order = (a: ApiAlert): number => (a.state === 'firing' ? 0 : 1);
  return [...alerts]
    .filter((a) => a.state !== 'inactive')
    .sort((a, b) => order(a) - order(b) || a.activeAt.localeCompare(b.activeAt))
    .map((a) =>
      h(
        'tr',
        { 'data-state': a.state, 'data-alertname': a.labels['alertname'] ?? '' },
        h('td', {}, badge(a.state)),
        h('td', {}, h('strong', {}, a.labels['alertname'] ?? ''), h('div', { class: 'labels' }, otherLabels(a.labels))),
        h('td', {}, when(a.activeAt, nowMs)),
        h('td', {}, formatNumber(parseSampleValue(a.value))),
        h('td', {}, a.annotations['summary'] ?? a.annotations['description'] ?? ''),
      ),
    );
}

function ruleRows(groups: readonly ApiRuleGroup[], nowMs: number): HTMLTableRowElement[] {
  return groups.flatMap((g) =>
    g.rules.map((r) =>
      h(
        'tr',
        { 'data-rule': r.name, 'data-health': r.health },
        h('td', {}, h('strong', {}, r.name), h('div', { class: 'labels' }, `${g.name} · ${g.file}`)),
        h('td', {}, r.type === 'alerting' ? badge(r.state ?? 'inactive') : 'recording'),
        h('td', {}, badge(r.health), r.lastError ? h('div', { class: 'labels' }, r.lastError) : null),
        h('td', {}, when(r.lastEvaluation, nowMs)),
      ),
    ),
  );
}

function historyRows(entries: readonly HistoryEntry[], nowMs: number): HTMLTableRowElement[] {
  return entries.map((e) =>
    h(
      'tr',
      { 'data-status': e.status, 'data-alertname': e.name },
      h('td', {}, badge(e.status)),
      h('td', {}, h('strong', {}, e.name), h('div', { class: 'labels' }, otherLabels(e.labels))),
      h('td', {}, e.severity),
      h('td', {}, when(e.firedAt, nowMs)),
      h('td', {}, e.resolvedAt ? when(e.resolvedAt, nowMs) : '–'),
      h('td', {}, e.message),
    ),
  );
}

const failure = (e: unknown): string => (e instanceof ApiError ? e.message : `request failed: ${(e as Error).message}`);

/** Mounts the Alerts view in `root`. */
export function mountAlerts(root: HTMLElement): ViewHandle {
  const status = h('p', { class: 'note', id: 'alerts-status' }, 'Loading…');
  const active = h('div', { id: 'active-alerts' });
  const rules = h('div', { id: 'rules' });
  const history = h('div', { id: 'alert-history' });
  const section = h('section', { class: 'alerts-view', 'data-state': 'loading' }, status, h('h2', {}, 'Firing and pending'), active, h('h2', {}, 'Rules'), rules, h('h2', {}, 'History'), history);
  root.replaceChildren(section);

  return {
    async refresh(w: Window, signal: AbortSignal) {
      const [alerts, groups, past] = await Promise.allSettled([
        get<{ alerts: ApiAlert[] }>('alerts', signal),
        ruleGroups('', signal),
        get<{ history: HistoryEntry[]; truncated: boolean }>(`alerts/history?since=${w.start}&limit=${HISTORY_LIMIT}`, signal),
      ]);
      if (signal.aborted) return;
      const now = Date.now();
      const off = groups.status === 'fulfilled' && (groups.value === undefined || groups.value.length === 0);
      if (off) {
        status.textContent = 'Alerting is off: Larder evaluates no rules (give --rules.file, or leave the bundled rules on). The history below is what earlier runs recorded.';
        active.replaceChildren();
        rules.replaceChildren();
      } else {
        status.textContent = '';
        if (alerts.status === 'fulfilled') active.replaceChildren(table('alerts-table', ['state', 'alert', 'active since', 'value', 'summary'], alertRows(alerts.value.alerts, now), 'No alert is firing or pending.'));
        else active.replaceChildren(h('p', { class: 'note error-text' }, failure(alerts.reason)));
        if (groups.status === 'fulfilled') rules.replaceChildren(table('rules-table', ['rule', 'state', 'health', 'last evaluation'], ruleRows(groups.value ?? [], now), 'No rule is loaded.'));
        else rules.replaceChildren(h('p', { class: 'note error-text' }, failure(groups.reason)));
      }
      if (past.status === 'fulfilled') {
        const { history: entries, truncated } = past.value;
        history.replaceChildren(
          table('history-table', ['status', 'alert', 'severity', 'fired', 'resolved', 'message'], historyRows(entries, now), 'No alert fired in this range.'),
          truncated ? h('p', { class: 'note' }, `The newest ${HISTORY_LIMIT} shown.`) : '',
        );
      } else history.replaceChildren(h('p', { class: 'note error-text' }, failure(past.reason)));
      section.dataset['state'] = off ? 'off' : 'ready';
    },
    destroy() {},
  };
}

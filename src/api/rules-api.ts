/**
 * `/api/v1/rules` and `/api/v1/alerts` as Prometheus answers them (web/api/v1/api.go):
 * the same field names, state and health strings, Go's time and float formats, and the
 * `type`, `rule_name[]`, `rule_group[]` (also `group_name[]`) and `file[]` filters, so
 * Grafana's alert list and rule viewer read Larder as they read Prometheus.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Labels } from '../../storage/store.js';
import type { Alert } from '../alerting/alert-state.js';
import type { Group } from '../alerting/group.js';
import { goFloat } from '../alerting/template-funcs.js';

/** What the rules API reads. */
export interface RulesApiOptions {
  /** The groups now loaded (RuleManager.groups). */
  readonly groups: () => readonly Group[];
}

/** Go's JSON of a time.Time in UTC: RFC 3339 with the fraction's trailing zeros dropped; the zero time when never. */
export function goTime(ms: number | undefined): string {
  if (ms === undefined) return '0001-01-01T00:00:00Z';
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/** Labels as Prometheus' labels.Labels marshals them: sorted by name. */
function sorted(l: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(l).sort()) out[k] = l[k]!;
  return out;
}

/** An alert in the API's shape. */
function apiAlert(a: Alert): Record<string, unknown> {
  const out: Record<string, unknown> = { labels: sorted(a.labels), annotations: sorted(a.annotations), state: a.state, activeAt: goTime(a.activeAtMs) };
  if (a.keepFiringSinceMs !== undefined) out['keepFiringSince'] = goTime(a.keepFiringSinceMs);
  out['value'] = goFloat(a.value, 'e', -1);
  return out;
}

function byLabels(a: Alert, b: Alert): number {
  const ka = JSON.stringify(sorted(a.labels));
  const kb = JSON.stringify(sorted(b.labels));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Values of a repeated query parameter (`x[]` or `x`), bounded. */
function list(req: Request, ...names: string[]): Set<string> | undefined {
  const out: string[] = [];
  for (const name of names) {
    for (const key of [name, `${name}[]`]) {
      const v = req.query[key];
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string') out.push(x);
    }
  }
  if (out.length > 1000) throw new Error(`too many ${names[0]}[] parameters`);
  return out.length > 0 ? new Set(out) : undefined;
}

function send(res: Response, data: unknown): void {
  res.type('application/json').send(JSON.stringify({ status: 'success', data }));
}

function badData(res: Response, message: string): void {
  res.status(400).type('application/json').send(JSON.stringify({ status: 'error', errorType: 'bad_data', error: message }));
}

/** Builds the router answering `/rules` and `/alerts`; mount it at /api/v1 before the query API. */
export function createRulesApi(opts: RulesApiOptions): Router {
  const router = express.Router();

  router.get('/alerts', (_req, res) => {
    const alerts = opts.groups().flatMap((g) => g.rules.flatMap((r) => (r.alerts?.activeAlerts() ?? []).sort(byLabels)));
    send(res, { alerts: alerts.map(apiAlert) });
  });

  router.get('/rules', (req, res) => {
    const type = typeof req.query['type'] === 'string' ? req.query['type'].toLowerCase() : '';
    if (type !== '' && type !== 'alert' && type !== 'record') return badData(res, `invalid query parameter type='${type}'`);
    let names: Set<string> | undefined;
    let groups: Set<string> | undefined;
    let files: Set<string> | undefined;
    try {
      names = list(req, 'rule_name');
      groups = list(req, 'rule_group', 'group_name');
      files = list(req, 'file');
    } catch (e) {
      return badData(res, (e as Error).message);
    }
    const excludeAlerts = req.query['exclude_alerts'] === 'true';
    const out: unknown[] = [];
    for (const g of opts.groups()) {
      if (groups && !groups.has(g.def.name)) continue;
      if (files && !files.has(g.def.file)) continue;
      const rules: unknown[] = [];
      for (const r of g.rules) {
        if (names && !names.has(r.def.name)) continue;
        const common = { health: r.health, ...(r.lastError !== '' ? { lastError: r.lastError } : {}), evaluationTime: r.evalDurationMs / 1000, lastEvaluation: goTime(r.lastEvalMs) };
        if (r.def.kind === 'alert' && r.alerts) {
          if (type === 'record') continue;
          rules.push({
            state: r.alerts.state(),
            name: r.def.name,
            query: r.def.expr.trim(),
            duration: r.def.forMs / 1000,
            keepFiringFor: r.def.keepFiringForMs / 1000,
            labels: sorted(r.def.labels),
            annotations: sorted(r.def.annotations),
            alerts: excludeAlerts ? [] : r.alerts.activeAlerts().sort(byLabels).map(apiAlert),
            ...common,
            type: 'alerting',
          });
        } else {
          if (type === 'alert') continue;
          rules.push({ name: r.def.name, query: r.def.expr.trim(), ...(Object.keys(r.def.labels).length > 0 ? { labels: sorted(r.def.labels) } : {}), ...common, type: 'recording' });
        }
      }
      // as Prometheus: a group whose rules were all filtered out is left out
      if (rules.length === 0) continue;
      out.push({ name: g.def.name, file: g.def.file, rules, interval: g.intervalMs / 1000, limit: g.def.limit, evaluationTime: g.lastDurationMs / 1000, lastEvaluation: goTime(g.lastEvalMs) });
    }
    send(res, { groups: out });
  });

  return router;
}

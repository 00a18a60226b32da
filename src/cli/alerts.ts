/**
 * `larder alerts`: the alerts that fire now (the `active_alerts` view) and recent history
 * (`alert_history`, written by the rule evaluator, src/alerting/history.ts), filtered by
 * state, time, alert name and labels. Reads beside a running Larder, SQLite or PostgreSQL.
 */
import { msOf, tsOf } from '../../storage/pg-sql.js';
import { parseLabels } from '../../storage/series-key.js';
import type { Labels, SqlValue, Store } from '../../storage/store.js';
import { choiceFlag, durationFlag, intFlag, type Command } from './command.js';
import { parseRowFilter } from './label-filter.js';
import { outputForm, renderRows } from './render.js';
import { openForRead } from './store-access.js';
import { seriesName } from './query.js';

type State = 'firing' | 'resolved' | 'all';

/** How far back resolved alerts are shown when no --since is given. */
const DEFAULT_HISTORY_MS = 24 * 3600_000;

/** An alert_history row as both dialects give it back. */
interface HistoryRow {
  readonly id: number;
  readonly name: string;
  readonly severity: string;
  readonly message: string;
  readonly value: number | null;
  readonly labels: Labels;
  readonly status: string;
  readonly firedMs: number;
  readonly resolvedMs: number | null;
}

/** Which rows of alert_history to read. */
export interface HistoryWindow {
  /** Firing rows: every one (`true`), those fired since an epoch-ms time, or none (`false`). */
  readonly firing: boolean | number;
  /** Resolved rows resolved since this epoch-ms time; none when undefined. */
  readonly resolvedSinceMs?: number;
}

/** The rows of `alert_history` in the window, newest first (SQLite or PostgreSQL). */
export async function readAlertHistory(store: Store, w: HistoryWindow): Promise<HistoryRow[]> {
  const pg = store.dialect === 'postgresql';
  const params: SqlValue[] = [];
  const param = (v: number): string => {
    params.push(v);
    return pg ? tsOf(`$${params.length}`) : '?';
  };
  const where: string[] = [];
  if (w.firing !== false) where.push(`(status = 'firing'${w.firing === true ? '' : ` AND fired_at >= ${param(w.firing)}`})`);
  if (w.resolvedSinceMs !== undefined) where.push(`(status = 'resolved' AND resolved_at >= ${param(w.resolvedSinceMs)})`);
  const cols = pg ? `labels::text AS labels, ${msOf('fired_at')} AS f, ${msOf('resolved_at')} AS r` : 'labels, fired_at AS f, resolved_at AS r';
  const rows = await store.query(`SELECT id, name, severity, message, value, status, ${cols} FROM alert_history WHERE ${where.join(' OR ')} ORDER BY fired_at DESC, id DESC`, params);
  return rows.map((r) => ({
    id: Number(r['id']),
    name: String(r['name']),
    severity: String(r['severity']),
    message: String(r['message']),
    value: r['value'] === null ? null : Number(r['value']),
    labels: parseLabels(r['labels']),
    status: String(r['status']),
    firedMs: Number(r['f']),
    resolvedMs: r['r'] === null ? null : Number(r['r']),
  }));
}

export const alertsCommand: Command = {
  name: 'alerts',
  summary: 'alerts firing now, and recent alert history (--state, --since, name and labels)',
  usage: `Usage: larder alerts [NAME] [LABEL=VALUE ...] [--state firing|resolved|all] [--since DURATION]
                     [--output table|csv|json] [--limit N]

Without flags: the alerts firing now (the active_alerts view), newest first. --state
resolved or all adds alerts resolved within --since (default 24h); with --since, firing
alerts are those that fired within it. NAME is the alert's name and may hold *
(Disk*); LABEL=VALUE keeps the alerts with that label value (LABEL!=VALUE,
LABEL=~REGEX and LABEL!~REGEX as in PromQL). The rows are what the rule evaluator of
larder serve wrote into alert_history.`,
  flags: [
    { name: 'state', value: 'STATE', help: 'firing (default), resolved, or all' },
    { name: 'since', value: 'DURATION', help: 'only alerts that fired (firing) or were resolved (resolved) within it, e.g. 6h or 7d' },
    { name: 'output', value: 'FORM', help: 'table (default on a terminal; tab-separated in a pipe), csv or json' },
    { name: 'limit', value: 'N', help: 'at most N rows, newest first (default: all)' },
  ],
  async run({ flags, words, config, stdout }) {
    const form = outputForm(flags.get('output'), false);
    const state: State = flags.has('state') ? choiceFlag('state', flags.get('state')!, ['firing', 'resolved', 'all']) : 'firing';
    const sinceMs = flags.has('since') ? durationFlag('since', flags.get('since')!) : undefined;
    const limit = flags.has('limit') ? intFlag('limit', flags.get('limit')!, 1, 10_000_000) : Infinity;
    const filter = parseRowFilter(words);
    const now = Date.now();
    const cutoff = sinceMs === undefined ? undefined : now - sinceMs;
    const { store } = await openForRead(config);
    try {
      const rows = await readAlertHistory(store, {
        firing: state === 'resolved' ? false : (cutoff ?? true),
        resolvedSinceMs: state === 'firing' ? undefined : (cutoff ?? now - DEFAULT_HISTORY_MS),
      });
      const shown = rows.filter((r) => filter.test(r.name, r.labels)).slice(0, limit);
      const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
      stdout.write(
        renderRows(
          form,
          stdout,
          ['alert', 'state', 'severity', 'value', 'fired', 'resolved', 'message'],
          shown.map((r) => {
            const { alertname: _, ...labels } = r.labels;
            return [seriesName({ __name__: r.name, ...labels }), r.status, r.severity, r.value, iso(r.firedMs), iso(r.resolvedMs), r.message];
          }),
        ),
      );
      return 0;
    } finally {
      await store.close();
    }
  },
};

/**
 * `larder alerts`: the alerts that fire now (the `active_alerts` view) and recent history
 * (`alert_history`, written by the rule evaluator, src/alerting/history.ts), filtered by
 * state, time, alert name and labels. Reads beside a running Larder, SQLite or PostgreSQL.
 */
import { readAlertHistory } from '../../storage/alert-history-read.js';
import { choiceFlag, durationFlag, intFlag, type Command } from './command.js';
import { parseRowFilter } from './label-filter.js';
import { outputForm, renderRows } from './render.js';
import { openForRead } from './store-access.js';
import { seriesName } from './query.js';

type State = 'firing' | 'resolved' | 'all';

/** How far back resolved alerts are shown when no --since is given. */
const DEFAULT_HISTORY_MS = 24 * 3600_000;

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

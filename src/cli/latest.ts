/** `larder latest`: the latest_metrics view, filtered by metric name and labels. */
import { UsageError, type Command } from './command.js';
import { parseRowFilter } from './label-filter.js';
import { outputForm, renderRows } from './render.js';
import { openForRead } from './store-access.js';
import { seriesName } from './query.js';

export const latestCommand: Command = {
  name: 'latest',
  summary: 'the newest sample of each series (latest_metrics), filtered by name and labels',
  usage: `Usage: larder latest [NAME] [LABEL=VALUE ...] [--output table|csv|json]

NAME may hold * (node_cpu*); each LABEL=VALUE keeps the series with that label value
(LABEL!=VALUE, LABEL=~REGEX and LABEL!~REGEX as in PromQL).`,
  flags: [
    { name: 'output', value: 'FORM', help: 'table (default on a terminal; tab-separated in a pipe), csv or json' },
    { name: 'limit', value: 'N', help: 'at most N rows (default: all)' },
  ],
  async run({ flags, words, config, stdout }) {
    const form = outputForm(flags.get('output'), false);
    const filter = parseRowFilter(words);
    const limit = flags.has('limit') ? Number(flags.get('limit')) : Infinity;
    if (flags.has('limit') && (!Number.isSafeInteger(limit) || limit < 1)) throw new UsageError(`invalid value for --limit: expected a whole number of at least 1`);
    const { store } = await openForRead(config);
    try {
      const rows = (await store.getLatestMetrics())
        .filter((m) => filter.test(m.name, m.labels))
        .slice(0, limit);
      stdout.write(renderRows(form, stdout, ['series', 'value', 'time'], rows.map((m) => [seriesName({ __name__: m.name, ...m.labels }), m.value, new Date(m.timeMs).toISOString()])));
      return 0;
    } finally {
      await store.close();
    }
  },
};

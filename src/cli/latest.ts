/** `larder latest`: the latest_metrics view, filtered by metric name and labels. */
import { UsageError, type Command } from './command.js';
import { outputForm, renderRows } from './render.js';
import { openForRead } from './store-access.js';
import { seriesName } from './query.js';

/** `node_cpu*` → a RegExp matching whole names (`*` any run of characters). */
function namePattern(glob: string): RegExp {
  if (!/^[a-zA-Z_:*][a-zA-Z0-9_:*]*$/.test(glob)) throw new UsageError(`invalid metric name ${JSON.stringify(glob.slice(0, 60))}: expected a metric name, * matching any characters (e.g. node_cpu*)`);
  return new RegExp(`^${glob.replace(/\*/g, '.*')}$`);
}

export const latestCommand: Command = {
  name: 'latest',
  summary: 'the newest sample of each series (latest_metrics), filtered by name and labels',
  usage: `Usage: larder latest [NAME] [LABEL=VALUE ...] [--output table|csv|json]

NAME may hold * (node_cpu*); each LABEL=VALUE keeps the series with that label value.`,
  flags: [
    { name: 'output', value: 'FORM', help: 'table (default on a terminal; tab-separated in a pipe), csv or json' },
    { name: 'limit', value: 'N', help: 'at most N rows (default: all)' },
  ],
  async run({ flags, words, config, stdout }) {
    const form = outputForm(flags.get('output'), false);
    const [first, ...rest] = words;
    const name = first !== undefined && !first.includes('=') ? namePattern(first) : undefined;
    const pairs = (name === undefined ? words : rest).map((w) => {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new UsageError(`expected LABEL=VALUE, got ${JSON.stringify(w.slice(0, 60))}`);
      return [w.slice(0, eq), w.slice(eq + 1)] as const;
    });
    const limit = flags.has('limit') ? Number(flags.get('limit')) : Infinity;
    if (flags.has('limit') && (!Number.isSafeInteger(limit) || limit < 1)) throw new UsageError(`invalid value for --limit: expected a whole number of at least 1`);
    const { store } = await openForRead(config);
    try {
      const rows = (await store.getLatestMetrics())
        .filter((m) => (name === undefined || name.test(m.name)) && pairs.every(([k, v]) => m.labels[k] === v))
        .slice(0, limit);
      stdout.write(renderRows(form, stdout, ['series', 'value', 'time'], rows.map((m) => [seriesName({ __name__: m.name, ...m.labels }), m.value, new Date(m.timeMs).toISOString()])));
      return 0;
    } finally {
      await store.close();
    }
  },
};

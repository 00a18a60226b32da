/**
 * `larder optimize` and `larder cleanup`: the two maintenance commands that write. On
 * SQLite they take ownership of the file, so they refuse while a Larder runs on it
 * (the running Larder already applies retention and its size cap itself);
 * `cleanup --dry-run` only reads and works beside it.
 */
import { existsSync } from 'node:fs';
import { FailedError, intFlag, UsageError, type Command } from './command.js';
import { formatBytes } from './output.js';
import { outputForm, renderRows } from './render.js';
import { openForRead, openForWrite, stopFirst, storeOptionsOf } from './store-access.js';
import type { Config } from '../config.js';

function assertSqliteExists(config: Config): void {
  const o = storeOptionsOf(config);
  if (o.engine === 'sqlite' && !existsSync(o.sqlitePath!)) throw new FailedError(`no SQLite store at ${o.sqlitePath} (SQLITE_DB_PATH, --storage.sqlite-path): point the option at Larder's file`);
}

export const optimizeCommand: Command = {
  name: 'optimize',
  summary: 'VACUUM and ANALYZE the store (SQLite: stop Larder first)',
  usage: `Usage: larder optimize

SQLite: PRAGMA optimize, ANALYZE and VACUUM (the file shrinks to its data); it owns the
file while it runs, so it refuses while larder serve runs on it. PostgreSQL: VACUUM
(ANALYZE) of every table, beside a running Larder.`,
  flags: [],
  async run({ words, config, stdout }) {
    if (words.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(words[0])}`);
    assertSqliteExists(config);
    const { store } = await openForWrite(
      config,
      'optimize',
      (pid) => `${stopFirst(pid, 'larder optimize')}. A running Larder VACUUMs the file itself whenever its size cap (--storage.max-bytes, LARDER_STORE_MAX_BYTES) drops chunks.`,
    );
    try {
      const before = await store.sizeBytes();
      const started = Date.now();
      await store.optimize();
      const after = await store.sizeBytes();
      stdout.write(`optimized in ${((Date.now() - started) / 1000).toFixed(1)} s: ${formatBytes(before)} → ${formatBytes(after)}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'drop raw chunks older than --retention-days (with --dry-run: list them)',
  usage: `Usage: larder cleanup --retention-days N [--dry-run]

Drops the raw chunks that end more than N days ago (whole chunks, as Larder's own
retention does), metrics_raw rows and resolved alerts older than that. Rollup tiers
and metrics_hourly are kept. --dry-run lists what would go and changes nothing; it
works beside a running Larder, the real run refuses on SQLite while one runs.`,
  flags: [
    { name: 'retention-days', value: 'N', help: 'keep N days of raw samples (required)' },
    { name: 'dry-run', boolean: true, help: 'list the chunks that would be dropped, change nothing' },
    { name: 'output', value: 'FORM', help: 'table (default on a terminal), csv or json' },
  ],
  async run({ flags, words, config, stdout }) {
    if (words.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(words[0])}`);
    const form = outputForm(flags.get('output'), false);
    if (!flags.has('retention-days')) throw new UsageError('--retention-days N is required (e.g. --retention-days 30)');
    const days = intFlag('retention-days', flags.get('retention-days')!, 1, 36_500);
    const cutoff = Date.now() - days * 86_400_000;
    const iso = (ms: number): string => new Date(ms).toISOString();
    if (flags.has('dry-run')) {
      const { store } = await openForRead(config);
      try {
        const chunks = (await store.listChunks('samples')).filter((c) => c.endMs <= cutoff);
        const rows: unknown[][] = [];
        for (const c of chunks) rows.push([c.name, iso(c.startMs), iso(c.endMs), await store.chunkBytes('samples', c.name)]);
        stdout.write(renderRows(form, stdout, ['chunk', 'start', 'end', 'bytes'], rows));
        if (form === undefined || form === 'table') stdout.write(`dry run: ${chunks.length} raw chunk(s) end before ${iso(cutoff)} and would be dropped; nothing was changed\n`);
        return 0;
      } finally {
        await store.close();
      }
    }
    assertSqliteExists(config);
    const { store } = await openForWrite(
      config,
      'cleanup',
      (pid) =>
        `A running Larder drops raw chunks older than its --storage.retention-days (METRICS_RETENTION_DAYS) itself, at its daily run (--rollup.daily-cron): ` +
        `to keep ${days} days from now on, restart it with --storage.retention-days=${days} (or METRICS_RETENTION_DAYS=${days}); to drop them at once, ${stopFirst(pid, `larder cleanup --retention-days ${days}`).replace(/^S/, 's')}. ` +
        `--dry-run lists them beside the running Larder.`,
    );
    try {
      const gone = await store.cleanupOldMetrics(days);
      stdout.write(renderRows(form, stdout, ['chunk', 'start', 'end'], gone.map((c) => [c.name, iso(c.startMs), iso(c.endMs)])));
      if (form === undefined || form === 'table') stdout.write(`dropped ${gone.length} raw chunk(s) ending before ${iso(cutoff)}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** `larder stats`: what the store holds, how big, how far the rollups are. */
import { intFlag, type Command } from './command.js';
import { formatBytes } from './output.js';
import { outputForm, renderRows } from './render.js';
import { openForRead } from './store-access.js';
import type { Store } from '../../storage/store.js';

/** Rollup watermarks (tier → epoch ms); empty before the first rollup. */
export async function readWatermarks(store: Store): Promise<Map<string, number>> {
  try {
    const rows = await store.query<{ tier: string; w: unknown }>('SELECT tier, watermark_ms AS w FROM rollup_watermarks ORDER BY tier');
    return new Map(rows.map((r) => [String(r.tier), Number(r.w)]));
  } catch {
    return new Map(); // the rollups have not created their table yet
  }
}

const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : new Date(ms).toISOString());

export const statsCommand: Command = {
  name: 'stats',
  summary: 'rows and bytes per table and tier, chunks, sample extent, series, spool, rollup lag',
  usage: `Usage: larder stats [--output table|json] [--top N]

Reads the store (also while larder serve runs) and prints: rows, bytes and chunks per
table and rollup tier; the oldest and newest raw sample; the series count and the
metrics with the most series; the spool depth; each tier's watermark and lag.`,
  flags: [
    { name: 'output', value: 'FORM', help: 'table (default on a terminal; tab-separated in a pipe) or json' },
    { name: 'top', value: 'N', help: 'how many metrics to list by series count (default 10)' },
  ],
  async run({ flags, config, stdout }) {
    const form = outputForm(flags.get('output'), false);
    const top = flags.has('top') ? intFlag('top', flags.get('top')!, 1, 10_000) : 10;
    const { store } = await openForRead(config);
    try {
      const now = Date.now();
      const s = await store.getDatabaseStats();
      const topRows = await store.query<{ name: string; n: unknown }>(`SELECT name, COUNT(*) AS n FROM series GROUP BY name ORDER BY COUNT(*) DESC, name LIMIT ${top}`);
      const marks = await readWatermarks(store);
      const spool = s.spoolDepth;
      if (form === 'json') {
        stdout.write(
          JSON.stringify(
            {
              dialect: s.dialect,
              schemaVersion: s.schemaVersion,
              totalBytes: s.totalBytes,
              series: s.series,
              oldestSample: iso(s.oldestSampleMs) || null,
              newestSample: iso(s.newestSampleMs) || null,
              spoolDepth: spool,
              tables: s.tables,
              topMetrics: topRows.map((r) => ({ name: r.name, series: Number(r.n) })),
              watermarks: [...marks].map(([tier, w]) => ({ tier, watermark: iso(w), lagSeconds: Math.round((now - w) / 1000) })),
            },
            null,
            2,
          ) + '\n',
        );
        return 0;
      }
      const out: string[] = [];
      out.push(`store: ${s.dialect}, schema version ${s.schemaVersion}, ${formatBytes(s.totalBytes)} (${s.totalBytes} bytes)`);
      out.push(`series: ${s.series}; raw samples from ${iso(s.oldestSampleMs) || '-'} to ${iso(s.newestSampleMs) || '-'}; spool depth ${spool}`, '');
      out.push(renderRows(form, stdout, ['table', 'rows', 'bytes', 'size', 'chunks'], s.tables.map((t) => [t.table, t.rows, t.bytes, formatBytes(t.bytes), t.chunks])));
      out.push(renderRows(form, stdout, ['metric', 'series'], topRows.map((r) => [r.name, Number(r.n)])));
      out.push(
        marks.size === 0
          ? 'rollups: no watermark yet (no tier has rolled up a bucket)\n'
          : renderRows(form, stdout, ['tier', 'watermark', 'lag_seconds'], [...marks].map(([tier, w]) => [tier, iso(w), Math.round((now - w) / 1000)])),
      );
      stdout.write(out.join('\n'));
      return 0;
    } finally {
      await store.close();
    }
  },
};

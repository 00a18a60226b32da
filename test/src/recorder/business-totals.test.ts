/**
 * The daily summary's business totals at the default settings include the seed's own
 * business counters (they matched no `business_` prefix before), the counters the
 * config file declares, and those named by --rollup.business-counters; counters get
 * their increase and rate, not an average of cumulative values.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../src/config.js';
import { Logger } from '../../../src/log.js';
import { businessCounterNames, startRecording } from '../../../src/recorder/index.js';
import { openSqliteStore } from '../../../storage/sqlite-store.js';
import type { SeriesDef, Store } from '../../../storage/store.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 2, 1);

/** One day of samples every 5 minutes: each counter +1 per sample from `base`, one reset of jobs. */
async function fillDay(store: Store): Promise<void> {
  const defs: SeriesDef[] = [
    { name: 'recipes_created_total', labels: { category: 'soup' }, type: 'counter' },
    { name: 'user_registrations_total', labels: {}, type: 'counter' },
    { name: 'searches_total', labels: { kind: 'text' }, type: 'counter' },
    { name: 'business_orders_total', labels: {}, type: 'counter' },
    { name: 'paid_invoices_total', labels: {}, type: 'counter' },
    { name: 'http_requests_total', labels: {}, type: 'counter' },
  ];
  const ids = await store.resolveSeries(defs);
  const samples = [];
  for (let i = 0; i < 288; i++) {
    for (const [k, id] of ids.entries()) samples.push({ seriesId: id, timeMs: D0 + i * 300_000, value: 1000 * k + i });
  }
  await store.writeSamples(samples);
}

// One store for the file (opening one costs seconds); each run of the daily job starts
// from no daily_summaries row.
const dir = mkdtempSync(join(tmpdir(), 'larder-business-'));
const NOW = D0 + DAY + 3 * 3_600_000;
let shared: Promise<Store> | undefined;
t.teardown(async () => {
  if (shared) await (await shared).close();
  rmSync(dir, { recursive: true, force: true });
});

async function summaryOf(argv: string[], yaml = ''): Promise<{ businessTotals: Record<string, number>; metrics: Record<string, Record<string, number>> }> {
  shared ??= openSqliteStore({ path: join(dir, 'monitoring.db'), now: () => NOW }).then(async (s) => {
    await fillDay(s);
    return s;
  });
  const store = await shared;
  await store.execute('DELETE FROM daily_summaries');
  const file = join(dir, 'larder.yml');
  writeFileSync(file, yaml === '' ? '{}\n' : yaml);
  const { config } = loadConfig({ argv: [`--config.file=${file}`, ...argv], env: {} });
  const rec = startRecording({ registry: new Registry(), store, config, log: new Logger('error'), now: () => NOW, schedule: false });
  await rec.jobs.daily();
  await rec.stop();
  const rows = await store.query<{ data: string }>(`SELECT data FROM daily_summaries WHERE date = '2026-03-01'`);
  return JSON.parse(rows[0]!.data) as { businessTotals: Record<string, number>; metrics: Record<string, Record<string, number>> };
}

t.test('the defaults: the seed business counters, the business_ prefix and the config file\'s counters', async (t) => {
  const s = await summaryOf([], 'business-metrics:\n  - name: paid_invoices_total\n    type: counter\n    help: Invoices paid.\n');
  t.same(
    s.businessTotals,
    { business_orders_total: 287, paid_invoices_total: 287, recipes_created_total: 287, searches_total: 287, user_registrations_total: 287 },
    'the day totals: seed names, prefix and declared; not http_requests_total',
  );
  t.same(s.metrics['recipes_created_total'], { increase: 287, rate: 287 / 86_400, samples: 288 }, 'a counter line has its increase and rate');
});

t.test('--rollup.business-counters replaces the default list; an empty prefix selects none', async (t) => {
  const listed = await summaryOf(['--rollup.business-counters=http_requests_total', '--rollup.business-prefix=']);
  t.same(listed.businessTotals, { http_requests_total: 287 });
});

t.test('the option is validated and shown', async (t) => {
  const { config } = loadConfig({ argv: [], env: {} });
  t.same(config.recorder.businessCounters, ['recipes_created_total', 'searches_total', 'user_registrations_total']);
  t.same([...businessCounterNames(config)].sort(), ['recipes_created_total', 'searches_total', 'user_registrations_total']);
  t.throws(() => loadConfig({ argv: ['--rollup.business-counters=ok_total,9bad'], env: {} }), /--rollup.business-counters.*"9bad" is not a metric name/);
});

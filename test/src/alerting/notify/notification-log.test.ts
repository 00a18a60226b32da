/**
 * Notifications that failed for good land in `notification_log` (schema version 7) on
 * SQLite and PostgreSQL: end to end through createAlertSinks with a receiver answering
 * 500, and the table bounded to its newest rows.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../../src/config.js';
import { Logger } from '../../../../src/log.js';
import { createAlertSinks, createNotificationLog } from '../../../../src/alerting/notify/index.js';
import { DIALECTS, openTestStore } from '../../../storage/fixtures/stores.js';
import { startHttpReceiver } from '../../../helpers/http-receiver.js';

const SECRET_PATH = '/hooks/SecretHookPath123';

for (const dialect of DIALECTS) {
  t.test(`${dialect}: a failed notification is recorded in notification_log`, async (t) => {
    const store = await openTestStore(t, dialect, { now: Date.now });
    if (!store) return;
    const r = await startHttpReceiver();
    r.status = 503;
    t.teardown(() => r.close());
    const file = `notifications:\n  receivers:\n    - name: ops\n      webhook_configs:\n        - url: ${r.url}${SECRET_PATH}\n  route:\n    receiver: ops\n    group_wait: 10ms\n    group_interval: 3s\n`;
    const { config } = loadConfig({ argv: ['--config.file=x.yml'], env: {}, readFile: () => file });
    const [sink] = createAlertSinks(config, { log: new Logger('error', () => {}), registry: new Registry(), store });
    t.teardown(() => sink!.stop(100));
    const began = Date.now();
    sink!.send([{ labels: { alertname: 'Down', job: 'api' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() }]);
    const ts = dialect === 'sqlite' ? 'ts' : '(extract(epoch from ts) * 1000)::bigint AS ts';
    let rows: Record<string, unknown>[] = [];
    const deadline = Date.now() + 20_000;
    while (rows.length === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      rows = await store.query(`SELECT ${ts}, receiver, integration, group_key, alerts, attempts, outcome, error FROM notification_log`);
    }
    t.equal(rows.length, 1);
    const row = rows[0]!;
    t.match(row, { receiver: 'ops', integration: 'webhook', outcome: 'failed' });
    t.equal(Number(row['alerts']), 1);
    t.ok(Number(row['attempts']) >= 2, `retried before giving up (${String(row['attempts'])} attempts)`);
    t.match(String(row['error']), /^HTTP 503/);
    t.match(String(row['group_key']), /"alertname":"Down"|\{\}\/0:\{\}/);
    t.ok(Number(row['ts']) >= began && Number(row['ts']) <= Date.now(), 'ts is the time of the failure, in ms');
    t.notOk(JSON.stringify(rows).includes('SecretHookPath123'), 'no webhook URL in the row');
  });

  t.test(`${dialect}: the table keeps its newest rows`, async (t) => {
    const store = await openTestStore(t, dialect, { now: Date.now });
    if (!store) return;
    const nlog = createNotificationLog(store, new Logger('error', () => {}), 3);
    for (let i = 0; i < 5; i++) nlog.record({ at: Date.now(), receiver: `r${i}`, integration: 'slack', groupKey: 'g', alerts: 1, attempts: 1, error: 'HTTP 500', outcome: 'failed' });
    await nlog.flush();
    const rows = await store.query<{ receiver: string }>('SELECT receiver FROM notification_log ORDER BY id');
    t.same(rows.map((x) => x.receiver), ['r2', 'r3', 'r4']);
  });
}

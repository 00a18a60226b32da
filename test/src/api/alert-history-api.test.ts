/**
 * `GET /api/v1/alerts/history` on a real server over a real store of each dialect:
 * rows written by `saveAlert` (as the rule evaluator writes them) come back newest
 * first, bounded by `since` and `limit`; bad parameters are refused with what and
 * where; a store not open is 503; with auth on, nothing is answered without credentials.
 */
import t, { type Test } from 'tap';
import bcrypt from 'bcryptjs';
import { Registry } from 'prom-client';
import { CollectorSet } from '../../../exporters/collector-set.js';
import { silentLogger } from '../../../src/log.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { Authenticator } from '../../../src/web-auth.js';
import { createAlertHistoryApi, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../../../src/api/alert-history-api.js';
import type { Store } from '../../../storage/store.js';
import { clock, DIALECTS, openTestStore } from '../../storage/fixtures/stores.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const MIN = 60_000;

async function serve(t: Test, store: Store | undefined, auth?: Authenticator): Promise<RunningServer> {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
  const api = createAlertHistoryApi({ store: () => store, now: () => NOW });
  const server = await startServer({ registry, collectors, auth: auth ?? new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 40, api }, { host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  return server;
}

interface Entry {
  id: number;
  name: string;
  severity: string;
  message: string;
  value?: string;
  labels: Record<string, string>;
  status: string;
  firedAt: string;
  resolvedAt?: string;
}
interface Answer {
  status: string;
  data?: { history: Entry[]; truncated: boolean };
  errorType?: string;
  error?: string;
}

async function history(server: RunningServer, query = '', headers: Record<string, string> = {}): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${server.url}/api/v1/alerts/history${query}`, { headers });
  return { status: res.status, body: (await res.json()) as Answer };
}

for (const dialect of DIALECTS) {
  t.test(`${dialect}: the recorded history, newest first, bounded by since and limit`, async (t) => {
    const c = clock(NOW);
    const store = await openTestStore(t, dialect, { now: c.now });
    if (!store) return;
    // two days ago, resolved the same day: out of the default 24 h
    await store.saveAlert({ name: 'Old', severity: 'warning', message: 'long ago', labels: { alertname: 'Old' }, firedMs: NOW - 48 * 60 * MIN, status: 'firing' });
    await store.saveAlert({ name: 'Old', severity: 'warning', message: 'long ago', labels: { alertname: 'Old' }, firedMs: NOW - 48 * 60 * MIN, status: 'resolved', resolvedMs: NOW - 47 * 60 * MIN });
    // fired three days ago and still firing: in any window
    await store.saveAlert({ name: 'Stuck', severity: 'critical', message: 'still on', value: 0.25, labels: { alertname: 'Stuck', instance: 'a' }, firedMs: NOW - 72 * 60 * MIN });
    // fired and resolved within the hour
    await store.saveAlert({ name: 'DiskFull', severity: 'critical', message: 'disk / is full', value: 97.5, labels: { alertname: 'DiskFull', mountpoint: '/', severity: 'critical' }, firedMs: NOW - 30 * MIN });
    await store.saveAlert({ name: 'DiskFull', severity: 'critical', message: 'disk / is full', value: 97.5, labels: { alertname: 'DiskFull', mountpoint: '/', severity: 'critical' }, firedMs: NOW - 30 * MIN, status: 'resolved', resolvedMs: NOW - 10 * MIN });
    await store.saveAlert({ name: 'HighLoad', severity: 'warning', message: 'load is 3', value: null, labels: { alertname: 'HighLoad' }, firedMs: NOW - 5 * MIN });
    const server = await serve(t, store);

    const all = await history(server);
    t.equal(all.status, 200);
    t.equal(all.body.status, 'success');
    t.same(all.body.data?.history.map((e) => e.name), ['HighLoad', 'DiskFull', 'Stuck'], 'the last 24 h and what still fires, newest first');
    t.equal(all.body.data?.truncated, false);
    const disk = all.body.data?.history[1];
    t.same(disk, {
      id: disk?.id,
      name: 'DiskFull',
      severity: 'critical',
      message: 'disk / is full',
      value: '97.5',
      labels: { alertname: 'DiskFull', mountpoint: '/', severity: 'critical' },
      status: 'resolved',
      firedAt: new Date(NOW - 30 * MIN).toISOString().replace('.000', ''),
      resolvedAt: new Date(NOW - 10 * MIN).toISOString().replace('.000', ''),
    }, 'a resolved row, its times as RFC 3339');
    const load = all.body.data?.history[0];
    t.equal(load?.status, 'firing');
    t.notOk('resolvedAt' in (load ?? {}), 'no resolvedAt while firing');
    t.notOk('value' in (load ?? {}), 'no value where none was recorded');
    t.equal(all.body.data?.history[2]?.value, '0.25');

    const since = await history(server, `?since=${(NOW - 3 * 86_400_000) / 1000}`);
    t.same(since.body.data?.history.map((e) => e.name), ['HighLoad', 'DiskFull', 'Old', 'Stuck'], 'since, in unix seconds');
    const rfc = await history(server, `?since=${new Date(NOW - 20 * MIN).toISOString()}`);
    t.same(rfc.body.data?.history.map((e) => e.name), ['HighLoad', 'DiskFull', 'Stuck'], 'since, in RFC 3339: a row resolved after it is in');
    const limited = await history(server, '?since=0&limit=2');
    t.same(limited.body.data?.history.map((e) => e.name), ['HighLoad', 'DiskFull']);
    t.equal(limited.body.data?.truncated, true, 'truncated says older rows were left out');
    const far = await history(server, '?since=-99999999999');
    t.equal(far.status, 200, 'a since before 1970 is clamped, not a database error');
    t.equal(far.body.data?.history.length, 4);
  });
}

t.test('bad parameters are refused, naming the parameter', async (t) => {
  const store = await openTestStore(t, 'sqlite', { now: () => NOW });
  const server = await serve(t, store);
  for (const [query, what] of [
    ['?limit=0', /"limit": "0" is not a whole number from 1 to 1000/],
    [`?limit=${MAX_HISTORY_LIMIT + 1}`, /"limit"/],
    ['?limit=ten', /"limit"/],
    ['?limit=1&limit=2', /"limit": give it once/],
    ['?since=yesterday', /"since": cannot parse "yesterday"/],
    [`?since=${'9'.repeat(80)}`, /"since": longer than 64 characters/],
  ] as const) {
    const r = await history(server, query);
    t.equal(r.status, 400, query);
    t.equal(r.body.errorType, 'bad_data');
    t.match(r.body.error, what);
  }
  t.ok(DEFAULT_HISTORY_LIMIT <= MAX_HISTORY_LIMIT);
  const post = await fetch(`${server.url}/api/v1/alerts/history`, { method: 'POST' });
  t.not(post.status, 200, 'read only: POST is not answered with history');
});

t.test('no store open yet: 503', async (t) => {
  const server = await serve(t, undefined);
  const r = await history(server);
  t.equal(r.status, 503);
  t.equal(r.body.errorType, 'unavailable');
});

t.test('behind the same auth as /metrics', async (t) => {
  const store = await openTestStore(t, 'sqlite', { now: () => NOW });
  const auth = new Authenticator({ basicAuthUsers: { admin: bcrypt.hashSync('s3cret pass', 4) } }, undefined);
  const server = await serve(t, store, auth);
  const res = await fetch(`${server.url}/api/v1/alerts/history`);
  t.equal(res.status, 401, 'refused without credentials');
  t.notMatch(await res.text(), /history/);
  const ok = await history(server, '', { authorization: `Basic ${Buffer.from('admin:s3cret pass').toString('base64')}` });
  t.equal(ok.status, 200, 'answered with them');
  t.same(ok.body.data?.history, []);
});

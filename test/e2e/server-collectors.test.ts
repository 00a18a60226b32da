/**
 * `larder serve --collector.postgres --collector.redis` as built: the DB_* and REDIS_*
 * settings reach the collectors, servers that do not answer are `*_up 0` and one log
 * line each, a missing password file stops start-up naming the option, and
 * larder_host_info appears without holding up the start.
 */
import { createServer } from 'node:net';
import t from 'tap';
import { need, PG, REDIS } from '../helpers/peers.js';
import { runCli, startLarderProcess } from '../helpers/larder-process.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

t.test('watches the DB_* database and the REDIS_* server', async (t) => {
  if (!(await need(t, 'postgres')) || !(await need(t, 'redis'))) return;
  const larder = await startLarderProcess(await freePort(), ['--collector.postgres', '--collector.redis', '--no-collector.processes'], {
    DB_HOST: PG.host,
    DB_PORT: String(PG.port),
    DB_NAME: PG.database,
    DB_USER: PG.user,
    REDIS_HOST: REDIS.host,
    REDIS_PORT: String(REDIS.port),
  });
  t.teardown(() => larder.stop());
  const text = await metrics(larder.url);
  t.match(text, new RegExp(`^pg_up\\{server="${PG.host}:${PG.port}"\\} 1$`, 'm'), 'pg_up 1');
  t.match(text, /^redis_up 1$/m, 'redis_up 1');
  t.match(text, /^larder_collector_success\{collector="postgres"\} 1$/m);
  t.match(text, /^larder_collector_success\{collector="redis"\} 1$/m);
  t.match(text, new RegExp(`^pg_stat_database_xact_commit\\{server="${PG.host}:${PG.port}",datid="\\d+",datname="${PG.database}"\\} \\d+$`, 'm'));
  let info = '';
  for (let i = 0; i < 100 && info === ''; i++) {
    info = (await metrics(larder.url)).split('\n').find((l) => l.startsWith('larder_host_info{')) ?? '';
    if (info === '') await new Promise((r) => setTimeout(r, 300));
  }
  t.match(info, /cpu_model="[^"]+".* 1$/, `larder_host_info: ${info}`);
  t.equal(larder.stderr(), '', 'no warnings');
});

t.test('servers that do not answer: *_up 0, one line each', async (t) => {
  const larder = await startLarderProcess(
    await freePort(),
    ['--collector.postgres', '--collector.redis', '--no-collector.processes', '--no-collector.hostinfo', '--slow-collect-interval=1s', '--collect-interval=1s'],
    { DATABASE_URL: 'postgres://postgres:pw-not-logged@127.0.0.1:1/test', REDIS_HOST: '127.0.0.1', REDIS_PORT: '1' },
  );
  t.teardown(() => larder.stop());
  await new Promise((r) => setTimeout(r, 3500));
  const text = await metrics(larder.url);
  t.match(text, /^pg_up\{server="127\.0\.0\.1:1"\} 0$/m);
  t.match(text, /^redis_up 0$/m);
  const lines = larder.stderr().split('\n').filter((l) => l !== '');
  t.equal(lines.filter((l) => /postgres server unreachable/.test(l)).length, 1, 'postgres: one line for several updates');
  t.equal(lines.filter((l) => /redis server unreachable/.test(l)).length, 1, 'redis: one line for several updates');
  t.notMatch(larder.stderr(), 'pw-not-logged');
});

t.test('a missing Redis password file stops start-up naming the option', async (t) => {
  const r = runCli(['serve', '--collector.redis', '--redis.password-file=/nonexistent/larder-redis-pw', '--listen=127.0.0.1:0'], { MONITORING_DB: 'none' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--redis\.password-file "\/nonexistent\/larder-redis-pw": ENOENT|cannot read --redis\.password-file/);
});

/**
 * The `redis` collector against the real Redis: its figures agree with `redis-cli INFO`
 * (counters bracketed by a read before and after), a port nothing listens on is
 * `redis_up 0` with a clean exposition, and refused credentials are logged once
 * without the password. Plus the RESP reader on malformed and partial input.
 */
import t from 'tap';
import { redisCollector } from '../../exporters/redis-server.js';
import { parseInfo } from '../../exporters/redis-server/info.js';
import { encodeCommand, exchange, parseReply, RespError } from '../../exporters/redis-server/resp.js';
import { collectSnapshot } from '../../src/exposition/snapshot.js';
import { toPrometheusText } from '../../src/exposition/format.js';
import { need, promtoolCheckMetrics, REDIS, run } from '../helpers/peers.js';
import { harness, samples, value } from './helpers.js';

const cli = (...args: string[]): string => run('redis-cli', ['-h', REDIS.host, '-p', String(REDIS.port), ...args]).trim();
const cliInfo = (): Map<string, string> => parseInfo(cli('INFO'));

t.test('RESP replies', async (t) => {
  t.same(encodeCommand(['INFO']).toString(), '*1\r\n$4\r\nINFO\r\n');
  t.same(parseReply(Buffer.from('$5\r\nhello\r\n')), { value: 'hello', next: 11 });
  t.equal(parseReply(Buffer.from('$5\r\nhel')), undefined, 'a partial bulk waits for more');
  t.same(parseReply(Buffer.from(':42\r\n')), { value: 42, next: 5 });
  t.same(parseReply(Buffer.from('*2\r\n:1\r\n$-1\r\n'))?.value, [1, null]);
  const err = parseReply(Buffer.from('-WRONGPASS invalid username-password pair\r\n'))!.value;
  t.ok(err instanceof RespError && err.kind === 'WRONGPASS');
  t.throws(() => parseReply(Buffer.from('HTTP/1.1 400\r\n')), /not a Redis reply/);
  t.throws(() => parseReply(Buffer.from('$99999999999\r\n')), /malformed bulk length/);
});

t.test('a server that is not Redis is an error, not a hang', async (t) => {
  const { createServer } = await import('node:net');
  const server = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  await t.rejects(exchange({ host: '127.0.0.1', port, timeoutMs: 2000 }, [['INFO']]), /not a Redis reply/);
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const quietPort = (silent.address() as { port: number }).port;
  await t.rejects(exchange({ host: '127.0.0.1', port: quietPort, timeoutMs: 300 }, [['INFO']]), /no answer .* within 300 ms/);
});

t.test('agrees with redis-cli INFO', async (t) => {
  if (!(await need(t, 'redis')) || !(await need(t, 'redis-cli'))) return;
  const prefix = `larder-test-${process.pid}`;
  cli('SET', `${prefix}:a`, '1');
  cli('SET', `${prefix}:b`, '2', 'EX', '300');
  cli('GET', `${prefix}:a`);
  cli('GET', `${prefix}:missing`);
  t.teardown(() => void cli('DEL', `${prefix}:a`, `${prefix}:b`));

  const h = harness([redisCollector], { redisTarget: { host: REDIS.host, port: REDIS.port } });
  t.teardown(() => h.stop());
  const before = cliInfo();
  const dbsizeBefore = Number(cli('DBSIZE'));
  const f = await h.collect();
  const after = cliInfo();
  const dbsizeAfter = Number(cli('DBSIZE'));

  t.equal(value(f, 'larder_collector_success', { collector: 'redis' }), 1);
  t.equal(value(f, 'redis_up'), 1, 'redis_up 1');
  const bracket = (metric: string, field: string): void => {
    const ours = value(f, metric)!;
    const lo = Number(before.get(field));
    const hi = Number(after.get(field));
    t.ok(ours >= lo && ours <= hi, `${metric} ${ours} within redis-cli's ${field} [${lo}, ${hi}]`);
  };
  bracket('redis_commands_processed_total', 'total_commands_processed');
  bracket('redis_connections_received_total', 'total_connections_received');
  bracket('redis_keyspace_hits_total', 'keyspace_hits');
  bracket('redis_keyspace_misses_total', 'keyspace_misses');
  bracket('redis_evicted_keys_total', 'evicted_keys');
  bracket('redis_expired_keys_total', 'expired_keys');
  bracket('redis_uptime_in_seconds', 'uptime_in_seconds');
  t.equal(value(f, 'redis_memory_max_bytes'), Number(after.get('maxmemory')), 'maxmemory');
  const used = value(f, 'redis_memory_used_bytes')!;
  const cliUsed = Number(after.get('used_memory'));
  t.ok(Math.abs(used - cliUsed) <= Math.max(0.1 * cliUsed, 1024 * 1024), `used memory ${used} ≈ redis-cli's ${cliUsed}`);
  const clients = value(f, 'redis_connected_clients')!;
  t.ok(clients >= 1 && Math.abs(clients - Number(after.get('connected_clients'))) <= 5, `connected clients ${clients} ≈ ${after.get('connected_clients')}`);
  // other tests use this Redis too: DBSIZE is bracketed loosely by the reads before and after
  const keys = value(f, 'redis_db_keys', { db: 'db0' })!;
  t.ok(keys >= Math.min(dbsizeBefore, dbsizeAfter) - 5 && keys <= Math.max(dbsizeBefore, dbsizeAfter) + 5, `db0 keys ${keys} ≈ DBSIZE ${dbsizeBefore}..${dbsizeAfter}`);
  t.ok(keys >= 2, 'at least the two keys set here');
  t.ok(value(f, 'redis_db_keys_expiring', { db: 'db0' })! >= 1, 'the key with a TTL is expiring');
  const info = samples(f, 'redis_instance_info')[0]!;
  t.equal(info.labels['redis_version'], after.get('redis_version'));
  t.equal(info.labels['role'], after.get('role'));
  t.equal(h.log.warnings.length, 0);
  const check = promtoolCheckMetrics(toPrometheusText((await collectSnapshot(h.registry)).families));
  t.equal(check.status, 0, `promtool check metrics: ${check.output}`);
});

t.test('nothing listening: redis_up 0, a clean exposition, logged once', async (t) => {
  const h = harness([redisCollector], { redisTarget: { host: '127.0.0.1', port: 1 } });
  t.teardown(() => h.stop());
  let f = await h.collect();
  f = await h.collect();
  f = await h.collect();
  t.equal(value(f, 'redis_up'), 0);
  t.equal(value(f, 'larder_collector_success', { collector: 'redis' }), 1, 'the collector itself worked');
  t.equal(samples(f, 'redis_connected_clients').length, 0, 'no stale server series');
  t.equal(h.log.warnings.length, 1, `one warning for three updates: ${h.log.warnings.join(' | ')}`);
  t.match(h.log.warnings[0], /ECONNREFUSED/);
  const text = toPrometheusText((await collectSnapshot(h.registry)).families);
  t.match(text, /^redis_up 0$/m);
  t.equal(promtoolCheckMetrics(text).status, 0);
});

t.test('refused credentials: one clear line, no password; recovery logged', async (t) => {
  if (!(await need(t, 'redis')) || !(await need(t, 'redis-cli'))) return;
  const user = `larder_test_${process.pid}`;
  const right = `right-${process.pid}-pw`;
  const wrong = `wrong-${process.pid}-secret`;
  cli('ACL', 'SETUSER', user, 'on', `>${right}`, '~*', '+@all');
  t.teardown(() => void cli('ACL', 'DELUSER', user));

  const bad = harness([redisCollector], { redisTarget: { host: REDIS.host, port: REDIS.port, username: user, password: wrong } });
  t.teardown(() => bad.stop());
  let f = await bad.collect();
  for (let i = 0; i < 3; i++) f = await bad.collect();
  t.equal(value(f, 'redis_up'), 0);
  t.equal(bad.log.warnings.length, 1, 'one line for four updates');
  t.match(bad.log.warnings[0], /WRONGPASS/);
  t.match(bad.log.warnings[0], /user or password is wrong/);
  t.notMatch(bad.log.warnings.join('\n'), wrong, 'never the password');

  const good = harness([redisCollector], { redisTarget: { host: REDIS.host, port: REDIS.port, username: user, password: right } });
  t.teardown(() => good.stop());
  t.equal(value(await good.collect(), 'redis_up'), 1, 'the right password is accepted (AUTH user password)');

  // the same collector recovering once the password is set to what it sends
  cli('ACL', 'SETUSER', user, `>${wrong}`);
  f = await bad.collect();
  t.equal(value(f, 'redis_up'), 1, 'up once the server accepts it');
  t.equal(bad.log.infos.filter((l) => /answers again/.test(l)).length, 1, 'recovery logged once');
  t.notMatch(bad.log.infos.join('\n'), wrong);
});

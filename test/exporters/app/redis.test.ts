/** ioredis and node-redis against the real Redis: counts and durations per command, errors as status="error". */
import t from 'tap';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { Registry } from 'prom-client';
import { createLarder } from '../../../src/larder.js';
import { need, REDIS } from '../../helpers/peers.js';

type Labels = Record<string, string>;

async function value(registry: Registry, metric: string, labels: Labels, sampleName = metric): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metric);
  const v = (m?.values as { value: number; labels: Labels; metricName?: string }[] | undefined)?.find(
    (s) => (s.metricName ?? metric) === sampleName && Object.entries(labels).every(([k, val]) => String(s.labels[k]) === val),
  );
  return v?.value ?? 0;
}

const key = `larder:test:${process.pid}`;

t.test('ioredis', async (t) => {
  if (!(await need(t, 'redis'))) return;
  const larder = createLarder({ collectors: [] });
  const redis = larder.instrumentRedis(new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 }));
  t.teardown(() => redis.quit().then(() => undefined));
  await redis.set(`${key}:a`, '1');
  await redis.get(`${key}:a`);
  await redis.get(`${key}:missing`);
  await redis.incr(`${key}:n`);
  await redis.pipeline().incr(`${key}:n`).incr(`${key}:n`).exec();
  await redis.hset(`${key}:h`, 'f', 'v');
  await t.rejects(redis.incr(`${key}:h`), /WRONGTYPE/);
  await redis.del(`${key}:a`, `${key}:n`, `${key}:h`);

  const r = larder.registry;
  t.equal(await value(r, 'redis_commands_total', { command: 'SET', status: 'ok' }), 1);
  t.equal(await value(r, 'redis_commands_total', { command: 'GET', status: 'ok' }), 2, 'a miss is still a successful command');
  t.equal(await value(r, 'redis_commands_total', { command: 'INCR', status: 'ok' }), 3, 'pipelined commands count one by one');
  t.equal(await value(r, 'redis_commands_total', { command: 'INCR', status: 'error' }), 1, 'WRONGTYPE is an error');
  t.equal(await value(r, 'redis_commands_total', { command: 'DEL', status: 'ok' }), 1);
  t.equal(await value(r, 'redis_command_duration_seconds', { command: 'GET' }, 'redis_command_duration_seconds_count'), 2);
  t.equal(await value(r, 'redis_command_duration_seconds', { command: 'INCR' }, 'redis_command_duration_seconds_count'), 4);
  t.ok((await value(r, 'redis_command_duration_seconds', { command: 'GET' }, 'redis_command_duration_seconds_sum')) > 0);
});

t.test("ioredis: the client's own connection handshake is not counted", async (t) => {
  if (!(await need(t, 'redis'))) return;
  const larder = createLarder({ collectors: [] });
  // connectionName adds CLIENT SETNAME; ioredis 5 also sends CLIENT SETINFO (an error before Redis 7.2) and INFO
  const redis = larder.instrumentRedis(new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'larder-test' }));
  t.teardown(() => redis.quit().then(() => undefined));
  await redis.get(`${key}:early`); // connects (lazyConnect): queued during the handshake, counted once when sent
  await redis.get(`${key}:early`);
  await redis.ping();

  const m = (await larder.registry.getMetricsAsJSON()).find((x) => x.name === 'redis_commands_total');
  const counted = (m?.values ?? []).map((v) => `${String(v.labels['command'])}/${String(v.labels['status'])}=${v.value}`).sort();
  t.same(counted, ['GET/ok=2', 'PING/ok=1'], 'only the application commands, once each');
});

t.test('node-redis', async (t) => {
  if (!(await need(t, 'redis'))) return;
  const larder = createLarder({ collectors: [] });
  const client = larder.instrumentRedis(createClient({ socket: { host: REDIS.host, port: REDIS.port } }));
  await client.connect();
  t.teardown(() => client.quit().then(() => undefined));
  await client.set(`${key}:b`, 'x');
  await client.get(`${key}:b`);
  await client.GET(`${key}:b`);
  await client.hSet(`${key}:hb`, 'f', 'v');
  await client.hGetAll(`${key}:hb`);
  await t.rejects(client.incr(`${key}:hb`), /WRONGTYPE/);
  await client.sendCommand(['PING']);
  await client.multi().incr(`${key}:m`).incr(`${key}:m`).exec();
  await client.del([`${key}:b`, `${key}:hb`, `${key}:m`]);
  t.equal(await value(larder.registry, 'redis_commands_total', { command: 'CLIENT' }), 0, "the client's CLIENT SETINFO handshake is not counted");

  const r = larder.registry;
  t.equal(await value(r, 'redis_commands_total', { command: 'SET', status: 'ok' }), 1);
  t.equal(await value(r, 'redis_commands_total', { command: 'GET', status: 'ok' }), 2, 'get() and GET() are one command');
  t.equal(await value(r, 'redis_commands_total', { command: 'HSET', status: 'ok' }), 1, 'camelCase hSet is HSET');
  t.equal(await value(r, 'redis_commands_total', { command: 'HGETALL', status: 'ok' }), 1);
  t.equal(await value(r, 'redis_commands_total', { command: 'INCR', status: 'error' }), 1, 'WRONGTYPE is an error');
  t.equal(await value(r, 'redis_commands_total', { command: 'PING', status: 'ok' }), 1, 'sendCommand by its first argument');
  t.equal(await value(r, 'redis_commands_total', { command: 'EXEC', status: 'ok' }), 1, 'a transaction counts as EXEC');
  t.equal(await value(r, 'redis_commands_total', { command: 'DEL', status: 'ok' }), 1);
  t.equal(await value(r, 'redis_command_duration_seconds', { command: 'GET' }, 'redis_command_duration_seconds_count'), 2);
});

/**
 * The authenticator as exporter-toolkit's: bcrypt off the event loop, the same work for
 * unknown users, a cache that a flood of wrong passwords cannot flush, and a cap on
 * waiting comparisons answered `busy` (HTTP 429) at once.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { Registry } from 'prom-client';
import t from 'tap';
import { CollectorSet } from '../../exporters/collector-set.js';
import { silentLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { Authenticator } from '../../src/web-auth.js';

// cost 10, what `htpasswd -nBC 10` makes: ~80-130 ms a comparison in bcryptjs
const HASH = bcrypt.hashSync('s3cret', 10);
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const r = await f();
  return [r, performance.now() - start];
}

t.test('bcrypt runs off the event loop', async (t) => {
  const auth = new Authenticator({ basicAuthUsers: { alice: HASH } }, undefined, { maxPending: 8 });
  t.teardown(() => auth.close());
  await auth.verify(basic('alice', 'warm-up')); // starts the worker
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  delay.enable();
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => auth.verify(basic('alice', `wrong-${i}`))));
  delay.disable();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  t.same(outcomes, Array(6).fill('denied'));
  t.comment(`event loop busy ${(elu * 100).toFixed(1)}% of the time, delay max ${(delay.max / 1e6).toFixed(1)} ms, over 6 cost-10 comparisons`);
  // on the main thread (bcryptjs' sync or async API alike) the loop is busy ~100% of the time
  t.ok(elu < 0.5, `the event loop was mostly idle (${(elu * 100).toFixed(1)}% busy)`);
});

t.test('an unknown user costs the same bcrypt work as a known one', async (t) => {
  const auth = new Authenticator({ basicAuthUsers: { alice: HASH } }, undefined);
  t.teardown(() => auth.close());
  await auth.verify(basic('alice', 'warm-up'));
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [a, ta] = await timed(() => auth.verify(basic('alice', `nope-${i}`)));
    const [b, tb] = await timed(() => auth.verify(basic(`mallory${i}`, `nope-${i}`)));
    t.equal(a, 'denied');
    t.equal(b, 'denied');
    known.push(ta);
    unknown.push(tb);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const ratio = median(unknown) / median(known);
  t.comment(`known user ${median(known).toFixed(1)} ms, unknown user ${median(unknown).toFixed(1)} ms (median)`);
  // without the decoy an unknown user is answered ~100 times faster; room left for a shared machine's noise
  t.ok(ratio > 1 / 3 && ratio < 3, `comparable: ratio ${ratio.toFixed(2)}`);
  // the real password of a known user under another name is still refused
  t.equal(await auth.verify(basic('mallory', 's3cret')), 'denied');
});

t.test('past maxPending comparisons the answer is busy at once; the cache keeps a scraper in', async (t) => {
  const auth = new Authenticator({ basicAuthUsers: { alice: HASH } }, undefined, { maxPending: 2, cacheSize: 4 });
  t.teardown(() => auth.close());
  t.equal(await auth.verify(basic('alice', 's3cret')), 'ok');
  // The order answers arrive in, rather than times (this box is shared): an answer that
  // waited for bcrypt can only arrive after a comparison on the worker has finished.
  const order: string[] = [];
  const track = (name: string, p: Promise<string>): Promise<string> => p.then((r) => (order.push(`${name}:${r}`), r));
  const flood = Array.from({ length: 10 }, (_, i) => track(`flood${i}`, auth.verify(basic('alice', `flood-${i}`))));
  const extra = track('extra', auth.verify(basic('alice', 'one-more')));
  const cached = track('cached', auth.verify(basic('alice', 's3cret')));
  const results = await Promise.all(flood);
  t.equal(await extra, 'busy');
  t.equal(await cached, 'ok', 'verified credentials pass while the comparisons are saturated');
  const firstCompared = order.findIndex((o) => o.endsWith(':denied'));
  t.ok(order.indexOf('extra:busy') < firstCompared, 'busy was answered before any comparison finished');
  t.ok(order.indexOf('cached:ok') < firstCompared, 'the cached scraper did not wait for the comparisons');
  t.equal(results.filter((r) => r === 'busy').length, 8, 'only two comparisons were admitted');
  // refused outcomes are kept apart: many distinct wrong passwords do not evict the good one
  for (let i = 0; i < 8; i++) t.equal(await auth.verify(basic('alice', `later-${i}`)), 'denied');
  const saturate = [auth.verify(basic('alice', 'sat-1')), auth.verify(basic('alice', 'sat-2'))];
  t.equal(await auth.verify(basic('alice', 's3cret')), 'ok', 'still cached after 8 refusals (answered while the comparisons are saturated)');
  t.equal(await auth.verify(basic('alice', 'sat-3')), 'busy', 'and they were saturated');
  await Promise.all(saturate);
  t.equal(await auth.verify(basic('alice', 'later-0')), 'denied', 'a refusal is cached too');
  t.equal(await auth.verify('Bearer x'), 'denied');
  t.equal(await auth.verify(undefined), 'denied');
  t.equal(await auth.verify('Basic !!!'), 'denied');
});

t.test('the server answers busy with 429 and Retry-After', async (t) => {
  const registry = new Registry();
  const collectors = new CollectorSet({ registry, options: { procfs: '/proc', sysfs: '/sys', textfileDirectory: '' }, log: silentLogger, now: Date.now }, [], { interval: 60_000, slowInterval: 60_000, timeout: 1000 });
  const auth = new Authenticator({ basicAuthUsers: { alice: HASH } }, undefined, { maxPending: 1 });
  const server = await startServer({ registry, collectors, auth, log: silentLogger, maxRequests: 40 }, { host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await server.close();
    await auth.close();
  });
  const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => fetch(`${server.url}/metrics`, { headers: { Authorization: basic('alice', `bad-${i}`) } })));
  const codes = responses.map((r) => r.status).sort();
  t.same(codes, [401, 429, 429, 429, 429]);
  t.equal(responses.find((r) => r.status === 429)?.headers.get('retry-after'), '1');
  t.equal((await fetch(`${server.url}/metrics`, { headers: { Authorization: basic('alice', 's3cret') } })).status, 200);
});

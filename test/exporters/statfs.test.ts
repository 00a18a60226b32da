/** BoundedStatfs: a hung mount times out once, is skipped while hung, and is tried again once its call returns. */
import t from 'tap';
import { BoundedStatfs, fsUsageRatio, readMounts, type RawStatfs } from '../../exporters/statfs.js';
import { fixture } from './helpers.js';

const SIZE: RawStatfs = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300, files: 50, ffree: 20 };

t.test('a hung statfs', async (t) => {
  let release: ((s: RawStatfs) => void) | undefined;
  let calls = 0;
  const fake = (path: string): Promise<RawStatfs> => {
    calls++;
    if (path !== '/nfs' || release) return Promise.resolve(SIZE);
    // a stale NFS server: the call returns only when released
    return new Promise((resolve) => (release = resolve));
  };
  // the timeout timer is unref'd (it must not keep Larder alive) and a fake hang holds
  // no handle, so something must keep this test's loop running, as the server does
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const b = new BoundedStatfs(50, fake);
  const started = performance.now();
  const [nfs, local] = await Promise.allSettled([b.stat('/nfs'), b.stat('/')]);
  t.equal(nfs.status, 'rejected');
  t.match((nfs as PromiseRejectedResult).reason.message, /statfs \/nfs: timed out after 50 ms/);
  t.same((local as PromiseFulfilledResult<unknown>).value, { size: 4_096_000, free: 1_638_400, avail: 1_228_800, files: 50, filesFree: 20 });
  t.ok(performance.now() - started < 1000, 'bounded by the timeout');
  t.same(b.stuck(), ['/nfs']);

  // while hung: refused at once, no second call piling up in the thread pool
  const before = calls;
  await t.rejects(b.stat('/nfs'), /an earlier call is still hung/);
  t.equal(calls, before);

  // the server comes back: the old call returns, the mount is tried again
  release!(SIZE);
  await new Promise((r) => setImmediate(r));
  t.same(b.stuck(), []);
  t.same((await b.stat('/nfs')).size, 4_096_000);
});

t.test('errors pass through; the real statfs works on /', async (t) => {
  const b = new BoundedStatfs(5000);
  await t.rejects(b.stat('/no/such/mount/point'), { code: 'ENOENT' });
  const root = await b.stat('/');
  t.ok(root.size > 0 && root.avail <= root.free && root.free <= root.size);
  t.same(b.stuck(), []);
});

t.test('fsUsageRatio as df computes Use%', async (t) => {
  // used = size - free = 600 blocks; used / (used + avail) = 600 / 900
  t.equal(fsUsageRatio({ size: 1000, free: 400, avail: 300, files: 0, filesFree: 0 }), 600 / 900);
  t.equal(fsUsageRatio({ size: 1000, free: 1000, avail: 1000, files: 0, filesFree: 0 }), 0);
  t.ok(Number.isNaN(fsUsageRatio({ size: 0, free: 0, avail: 0, files: 0, filesFree: 0 })));
});

t.test('readMounts prefers PID 1 and falls back to the own mount table', async (t) => {
  const m = await readMounts(fixture('proc-basic'));
  t.equal(m.length, 6, 'proc-basic has no 1/mounts: its mounts file is used');
  await t.rejects(readMounts(fixture('no-such-proc')), { code: 'ENOENT' });
});

/** The adaptive event-loop lag sampler: coarse while idle, fine while busy, percentiles over time rather than wake-ups. */
import t from 'tap';
import { LagSampler } from '../../exporters/event-loop-lag.js';

const idle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const spin = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) Math.sqrt(Math.random());
};

t.test('an idle loop is sampled once a second, each sample standing for ten', async (t) => {
  const s = new LagSampler();
  t.teardown(() => s.stop());
  s.start();
  await idle(3500);
  const f = s.take();
  t.comment(`idle 3.5 s: ${f.wakeups} wake-ups, ${f.count} samples, period ${s.currentPeriodMs()} ms, p50 ${f.p50}, max ${f.max}`);
  // A 100 ms monitor wakes 35 times here. On a loaded machine one second may count as busy
  // (a GC, the test runner), so allow a few fine wake-ups but not a fine second's worth.
  t.ok(f.wakeups >= 2 && f.wakeups <= 8, `${f.wakeups} wake-ups in 3.5 s`);
  t.ok(f.count >= 25 && f.count <= 45, `about 35 samples, as a 100 ms monitor takes (${f.count})`);
  t.ok(f.p50 < 0.005, `p50 ${f.p50} s near 0`);
});

t.test('a busy loop is sampled every 100 ms, and back to once a second after the hold', async (t) => {
  // a 2 s window and a 1.5 s hold instead of 5 s each, to keep the test short
  const s = new LagSampler({ busyWindowMs: 2000, holdMs: 1500 });
  t.teardown(() => s.stop());
  s.start();
  // 30 ms of code every 60 ms: half busy, no single stall past 100 ms.
  const stop = performance.now() + 3500;
  while (performance.now() < stop) {
    spin(30);
    await idle(30);
  }
  const busy = s.take();
  t.comment(`busy 3.5 s: ${busy.wakeups} wake-ups, ${busy.count} samples, period ${s.currentPeriodMs()} ms, p90 ${busy.p90}`);
  t.equal(s.currentPeriodMs(), 100, 'samples every 100 ms while busy');
  t.ok(busy.wakeups >= 10, `at least ten wake-ups in the busy 3.5 s (${busy.wakeups})`);
  t.ok(busy.max > 0.005, `the busy loop's samples lag (max ${busy.max} s)`);
  await idle(3500);
  const after = s.take();
  t.comment(`idle after: ${after.wakeups} wake-ups, period ${s.currentPeriodMs()} ms`);
  t.equal(s.currentPeriodMs(), 1000, 'once a second again when idle past the hold');
  t.ok(after.wakeups < 30, `fewer wake-ups than a 100 ms monitor's 35 (${after.wakeups})`);
});

t.test('a window without a sample reads NaN; bad periods are refused', async (t) => {
  const s = new LagSampler();
  t.teardown(() => s.stop());
  s.start();
  const f = s.take();
  t.equal(f.count, 0);
  t.ok(Number.isNaN(f.max) && Number.isNaN(f.p99), 'no sample, no figure');
  t.throws(() => new LagSampler({ fineMs: 100, coarseMs: 50 }), RangeError);
  t.throws(() => new LagSampler({ fineMs: 0 }), RangeError);
});

t.test('a burst of 100 ms every few seconds, as Larder\'s own collection, stays at once a second', async (t) => {
  const s = new LagSampler();
  t.teardown(() => s.stop());
  s.start();
  // 60 ms of code every 3 s (2 % of a 5 s window): a 1 s window would count it as busy (6 %).
  for (let i = 0; i < 3; i++) {
    await idle(2940);
    spin(60);
  }
  const f = s.take();
  t.comment(`bursts: ${f.wakeups} wake-ups in 9 s, period ${s.currentPeriodMs()} ms`);
  t.ok(f.wakeups <= 16, `about one wake-up a second (${f.wakeups} in 9 s; a 100 ms monitor: 90)`);
});

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
  // A sample late by more than 100 ms (a heavily loaded machine) rightly switches to 100 ms for 5 s.
  t.ok(f.wakeups >= 2 && (f.wakeups <= 8 || f.max > 0.1), `${f.wakeups} wake-ups in 3.5 s (max lag ${f.max} s)`);
  t.ok(f.count >= 25 && (f.count <= 45 || f.max > 0.1), `about 35 samples, as a 100 ms monitor takes (${f.count})`);
  t.ok(f.p50 < 0.005, `p50 ${f.p50} s near 0`);
});

t.test('a busy loop is sampled every 100 ms, and back to once a second after the hold', async (t) => {
  // a 2 s window and a 3 s hold instead of 5 s each, to keep the test short; the hold
  // outlasts the next window check, so the loop still counts as busy when the spin ends
  const s = new LagSampler({ busyWindowMs: 2000, holdMs: 3000 });
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
  await idle(5000);
  const after = s.take();
  t.comment(`idle after: ${after.wakeups} wake-ups, period ${s.currentPeriodMs()} ms`);
  t.equal(s.currentPeriodMs(), 1000, 'once a second again when idle past the hold');
  t.ok(after.wakeups < 45, `fewer wake-ups than a 100 ms monitor's 50 (${after.wakeups})`);
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
  // (unless a sample was late by more than 100 ms, on a heavily loaded machine)
  t.ok(f.wakeups <= 24 || f.max > 0.1, `about one wake-up a second (${f.wakeups} in 9 s, max lag ${f.max} s; a 1 s window: 61, a 100 ms monitor: 90)`);
});

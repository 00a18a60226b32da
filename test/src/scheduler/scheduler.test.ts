/** The scheduler on real node-schedule jobs: no overlap, failures isolated, clean stop. */
import t from 'tap';
import { Registry } from 'prom-client';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { Logger } from '../../../src/log.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a job slower than its schedule never overlaps itself', async (t) => {
  const registry = new Registry();
  const s = new Scheduler(registry, new Logger('error', () => {}));
  let running = 0;
  let most = 0;
  let runs = 0;
  s.add('slow', '* * * * * *', async () => {
    running++;
    most = Math.max(most, running);
    runs++;
    await sleep(2200);
    running--;
  });
  t.ok(s.nextRun('slow'), 'scheduled');
  await sleep(4500);
  await s.stop();
  t.equal(most, 1, 'never two runs at once');
  t.ok(runs >= 1 && runs <= 2, `ran ${runs} time(s) in 4.5 s at 2.2 s a run`);
  const skipped = (await registry.getSingleMetric('larder_job_skipped_total')!.get()).values.find((v) => v.labels['job'] === 'slow')?.value ?? 0;
  t.ok(skipped >= 2, `skipped triggers counted (${skipped})`);
  t.equal(running, 0, 'stop() waited for the run in flight');
});

t.test('a failing job is logged once, counted, and does not stop the others', async (t) => {
  const registry = new Registry();
  const lines: string[] = [];
  const s = new Scheduler(registry, new Logger('info', (l) => lines.push(l)));
  let good = 0;
  s.add('bad', undefined, async () => {
    throw new Error('no disk');
  });
  s.add('good', undefined, async () => {
    good++;
  });
  await s.run('bad');
  await s.run('bad');
  await s.run('good');
  t.equal(good, 1);
  t.equal(lines.filter((l) => l.includes('no disk')).length, 1, 'logged once');
  const runs = (await registry.getSingleMetric('larder_job_runs_total')!.get()).values;
  t.equal(runs.find((v) => v.labels['job'] === 'bad' && v.labels['result'] === 'error')?.value, 2);
  t.equal(runs.find((v) => v.labels['job'] === 'good' && v.labels['result'] === 'success')?.value, 1);
  t.throws(() => s.add('good', undefined, async () => {}), /already scheduled/);
  t.throws(() => s.add('broken', 'not a cron', async () => {}), /invalid schedule/);
  await t.rejects(s.run('nope'), /no job named/);
  await s.stop();
});

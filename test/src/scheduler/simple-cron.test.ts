/** Simple cron expressions on one timer each: the same times as node-schedule's parser, without it. */
import t from 'tap';
import { createRequire } from 'node:module';
import { Registry } from 'prom-client';
import { nextSimpleCron, parseSimpleCron } from '../../../src/scheduler/simple-cron.js';
import { Scheduler } from '../../../src/scheduler/scheduler.js';
import { Logger } from '../../../src/log.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('which expressions are simple', async (t) => {
  t.same(parseSimpleCron('20 * * * * *'), { second: [20], minute: undefined, hour: undefined });
  t.same(parseSimpleCron('0 * * * *'), { second: [0], minute: [0], hour: undefined }, 'five fields: second 0');
  t.same(parseSimpleCron('0 3 * * *'), { second: [0], minute: [0], hour: [3] });
  t.same(parseSimpleCron('* * * * * *'), { second: undefined, minute: undefined, hour: undefined });
  t.same(parseSimpleCron('20 2 */6 * * *'), { second: [20], minute: [2], hour: [0, 6, 12, 18] }, 'a step');
  t.same(parseSimpleCron('30,0 */20 * * *'), { second: [0], minute: [0, 30], hour: [0, 20] }, 'a list, sorted; a step that does not divide the range');
  for (const e of ['*/0 * * * *', '1-5 * * * *', '0 3 * * 1', '0 3 1 * *', '0 0 1 1 *', '1,,2 * * * *', '0 24 * * *', '60 * * * * *', '*/60 * * * * *', '0 3 * *', 'x * * * *', '0 0 3 * * * *']) {
    t.equal(parseSimpleCron(e), undefined, `${e} goes to node-schedule`);
  }
});

t.test('the next times are those node-schedule computes', async (t) => {
  // cron-parser, node-schedule's parser, from where node-schedule loads it
  const req = createRequire(createRequire(import.meta.url).resolve('node-schedule'));
  const parser = req('cron-parser') as { parseExpression(e: string, o: { currentDate: Date }): { next(): { getTime(): number } } };
  const exprs = ['20 * * * * *', '0 * * * *', '0 3 * * *', '* * * * * *', '30 15 * * * *', '0 0 * * *', '59 59 23 * * *', '5 * 7 * * *', '20 2 */6 * * *', '0 */15 * * * *', '0,30 * * * *', '*/10 * * * * *', '0 0 1,13 * * *', '0 */7 * * *'];
  // starts spread over two years, on and around the matching seconds
  const starts: Date[] = [];
  for (let i = 0; i < 300; i++) starts.push(new Date(Date.UTC(2026, 0, 1) + Math.floor(i * 2.6e5 * 1000 + i * 7_919)));
  starts.push(new Date(2026, 11, 4, 3, 0, 0, 0), new Date(2026, 11, 4, 2, 59, 59, 999), new Date(2026, 11, 31, 23, 59, 59, 500));
  let compared = 0;
  const zone = process.env['TZ'];
  t.teardown(() => {
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });
  // Berlin and New York change by an hour, Lord Howe by half an hour (Node applies TZ when it is set)
  for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe']) {
    process.env['TZ'] = tz;
    for (const e of exprs) {
      const c = parseSimpleCron(e);
      if (!c) {
        t.fail(`${e} is simple`);
        continue;
      }
      for (const s of starts) {
        const want = parser.parseExpression(e, { currentDate: s }).next().getTime();
        const got = nextSimpleCron(c, s).getTime();
        if (got !== want) t.fail(`${e} after ${s.toISOString()}: ${new Date(got).toISOString()}, node-schedule ${new Date(want).toISOString()}`);
        compared++;
      }
    }
  }
  t.equal(compared, 4 * exprs.length * starts.length, `${compared} next times agree in four time zones`);
});

t.test('a simple job runs at its second, every time, on the scheduler', async (t) => {
  const s = new Scheduler(new Registry(), new Logger('error', () => {}));
  const at: number[] = [];
  s.add('tick', '* * * * * *', async () => {
    at.push(Date.now());
  });
  const next = s.nextRun('tick');
  t.ok(next && next.getMilliseconds() === 0 && next.getTime() > Date.now(), `next run on a whole second (${next?.toISOString()})`);
  await sleep(3300);
  await s.stop();
  t.ok(at.length >= 2 && at.length <= 4, `ran ${at.length} times in 3.3 s`);
  // on time: in the first part of its second (a loaded machine delays a timer by some ms)
  for (const a of at) t.ok(a % 1000 < 300, `ran ${a % 1000} ms into its second`);
  t.equal(s.nextRun('tick'), undefined, 'no next run after stop');
  const n = at.length;
  await sleep(1200);
  t.equal(at.length, n, 'stopped');
});

t.test('node-schedule is loaded only for an expression that needs it', async (t) => {
  const cache = createRequire(import.meta.url).cache;
  const loaded = (): boolean => Object.keys(cache).some((k) => k.includes('/node-schedule/lib/'));
  const s = new Scheduler(new Registry(), new Logger('error', () => {}));
  t.teardown(() => s.stop());
  s.add('rollup', '20 2 */6 * * *', async () => {});
  s.add('hourly', '0 * * * *', async () => {});
  s.add('daily', '0 3 * * *', async () => {});
  t.notOk(loaded(), "Larder's default schedules leave node-schedule unloaded");
  s.add('weekly', '0 3 * * 1', async () => {});
  t.ok(loaded(), 'a day-of-week schedule loads it');
  t.ok(s.nextRun('weekly'), 'and is scheduled by it');
});

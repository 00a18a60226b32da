/**
 * The cost bench's CPU figure (bench/lib/proc.ts): exact from the threads' schedstat while
 * they all run, from the kernel's ticks once one has ended. A real child process burns a
 * known amount of CPU (its own getrusage says how much) between two readings.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cpuSpentSeconds, treeCost } from '../../bench/lib/proc.js';

/**
 * A child that, on each line "burn <ms>" (main thread) or "worker <ms>" (a worker thread
 * that then exits), spins until that much CPU is spent and answers with the CPU seconds
 * getrusage counted for it.
 */
const CHILD = `
const { Worker } = require('node:worker_threads');
const spin = (ms) => { const at = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }; const end = at() + ms; while (at() < end); };
const used = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [what, ms] = line.split(' ');
  const before = used();
  if (what === 'burn') { spin(Number(ms)); console.log(used() - before); return; }
  const w = new Worker('(' + spin.toString() + ')(' + Number(ms) + ')', { eval: true });
  w.on('exit', () => setTimeout(() => console.log(used() - before), 50));
});
console.log('ready');
`;

t.test('CPU spent: exact from the threads, from the ticks when a thread ended', async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => child.kill());
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => String((await lines.next()).value);
  t.equal(await next(), 'ready', 'the child is up');
  const ask = async (line: string): Promise<number> => {
    child.stdin!.write(line + '\n');
    return Number(await next());
  };

  const a = treeCost(child.pid!);
  const burnt = await ask('burn 300');
  const b = treeCost(child.pid!);
  const exact = cpuSpentSeconds(a, b);
  t.ok(burnt >= 0.3, `the child spent ${burnt.toFixed(3)} s`);
  t.ok(Math.abs(exact - burnt) < 0.02, `from the threads: ${exact.toFixed(4)} s against getrusage's ${burnt.toFixed(4)} s`);
  t.ok(Math.abs(b.cpuSeconds - a.cpuSeconds - burnt) <= 0.03, `the ticks agree within a few ticks: ${(b.cpuSeconds - a.cpuSeconds).toFixed(2)} s`);
  t.ok(b.threadNs.size >= 2, 'node runs several threads, each read');

  const c = treeCost(child.pid!);
  const inWorker = await ask('worker 200');
  const d = treeCost(child.pid!);
  t.ok(inWorker >= 0.2, `a worker thread spent ${inWorker.toFixed(3)} s, then ended: in neither reading`);
  const [k] = [...d.threadNs.keys()].filter((x) => !c.threadNs.has(x));
  t.equal(k, undefined, 'no thread of the second reading is new');
  t.equal(cpuSpentSeconds(c, d), d.cpuSeconds - c.cpuSeconds, 'so the ticks, which count it');
  t.ok(cpuSpentSeconds(c, d) >= 0.17, `and they hold its time: ${cpuSpentSeconds(c, d).toFixed(2)} s`);

  child.stdin!.end();
  await once(child, 'exit');
});

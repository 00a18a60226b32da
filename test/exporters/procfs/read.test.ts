/**
 * The procfs reads: files under a real procfs are kept open and re-read from offset 0
 * (fresh content every time, no new descriptor), anything else is opened per read.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeKept, readKept, readOptional, readProcOnce, readText } from '../../../exporters/procfs/read.js';
import { readAllPidStats, readPidStatsSliced } from '../../../exporters/processes.js';

/** The paths this process has open, by descriptor. */
function openPaths(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return []; // the directory's own descriptor, closed by now
    }
  });
}

const rchar = (io: string): number => Number(/^rchar:\s+(\d+)$/m.exec(io)?.[1]);

t.afterEach(() => closeKept());

t.test('a procfs file is kept open and rendered anew on each read', async (t) => {
  const ioPath = `/proc/${process.pid}/io`;
  const first = await readText('/proc', String(process.pid), 'io');
  const holding = openPaths().filter((p) => p === ioPath).length;
  t.equal(holding, 1, 'one descriptor is kept on the file after the read');
  const second = await readText('/proc', String(process.pid), 'io');
  // reading counts in rchar: a stale copy of the first rendering would show the same figure
  t.ok(rchar(second) > rchar(first), `rchar grew (${rchar(first)} then ${rchar(second)})`);
  t.equal(openPaths().filter((p) => p === ioPath).length, 1, 'the second read opened nothing new');
  closeKept();
  t.equal(openPaths().filter((p) => p === ioPath).length, 0, 'closeKept lets it go');
});

t.test('a procfs file longer than the first buffer is read whole', async (t) => {
  // kallsyms changes when a BPF program or module comes or goes anywhere on the host,
  // so the check is its shape: every line whole (a read that lost its place at a buffer
  // boundary would cut one) and about the size a plain read gives.
  const size = readFileSync('/proc/kallsyms', 'utf8').length;
  t.ok(size > 64 * 1024, 'the file spans several buffers');
  for (const pass of ['first read', 'again from offset 0 through the kept descriptor']) {
    const text = readKept('/proc/kallsyms');
    t.ok(Math.abs(text.length - size) < size * 0.01, `${pass}: ${text.length} characters, a plain read ${size}`);
    t.ok(text.endsWith('\n'), `${pass}: ends with a whole line`);
    const bad = text.slice(0, -1).split('\n').find((line) => !/^[0-9a-f]+ \S \S+/.test(line));
    t.equal(bad, undefined, `${pass}: every line is whole`);
  }
});

t.test('a file outside procfs is opened per read, so a replaced file is seen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'stat'), 'first\n');
  t.equal(await readText(dir, 'stat'), 'first\n');
  t.notOk(openPaths().includes(join(dir, 'stat')), 'no descriptor left open');
  writeFileSync(join(dir, 'stat.new'), 'second\n');
  renameSync(join(dir, 'stat.new'), join(dir, 'stat'));
  t.equal(await readText(dir, 'stat'), 'second\n');
});

t.test('a missing procfs file rejects with ENOENT and keeps nothing', async (t) => {
  await t.rejects(readText('/proc', 'no-such-file'), { code: 'ENOENT' });
  t.equal(await readOptional('/proc', 'no-such-file'), undefined);
  t.notOk(openPaths().some((p) => p.endsWith('/no-such-file')));
});

t.test('readProcOnce reads a single-record procfs file whole and keeps no descriptor', async (t) => {
  const path = `/proc/${process.pid}/stat`;
  const text = readProcOnce(path);
  t.match(text, new RegExp(`^${process.pid} \\(.+\\) R `), 'this process, running');
  t.ok(text?.endsWith('\n'), 'to the end of its line');
  t.equal(text?.split(' ').length, readFileSync(path, 'utf8').split(' ').length, 'as many fields as a plain read');
  t.notOk(openPaths().includes(path), 'no descriptor left open');
  t.equal(readProcOnce('/proc/no-such-pid/stat'), undefined, 'a process gone: undefined');
});

t.test('every process is read under a real procfs, synchronously in slices', async (t) => {
  const before = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  const stats = await readAllPidStats('/proc');
  const after = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  // processes come and go meanwhile (the suite runs beside this test)
  t.ok(Math.abs(stats.length - (before + after) / 2) <= Math.max(5, Math.abs(after - before)), `${stats.length} stats, ${before} then ${after} pids`);
  t.ok(stats.some((s) => s.state === 'R'), 'this process among them, running');
  t.ok(stats.every((s) => s.numThreads >= 1), 'every one with a thread at least');
  t.notOk(openPaths().some((p) => /^\/proc\/\d+\/stat$/.test(p)), 'no descriptor left open');
});

t.test('a long run of stat reads gives the event loop turns between its slices', async (t) => {
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  // thousands of reads take far longer than a slice, however fast the machine
  const many = Array.from({ length: Math.ceil(5000 / pids.length) }, () => pids).flat();
  let turns = 0;
  let reading = true;
  const spin = (): void => {
    if (!reading) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const t0 = performance.now();
  const stats = await readPidStatsSliced('/proc', many);
  const ms = performance.now() - t0;
  reading = false;
  t.ok(stats.length > many.length / 2, `${stats.length} of ${many.length} stats read`);
  t.ok(turns >= 2, `the loop turned ${turns} times during ${ms.toFixed(1)} ms of reads`);
});

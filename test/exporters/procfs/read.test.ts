/**
 * The procfs reads: files under a real procfs are kept open and re-read from offset 0
 * (fresh content every time, no new descriptor), anything else is opened per read.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeKept, readKept, readOptional, readText } from '../../../exporters/procfs/read.js';

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
  const expected = readFileSync('/proc/kallsyms', 'utf8');
  t.ok(expected.length > 64 * 1024, 'the file spans several buffers');
  t.equal(readKept('/proc/kallsyms'), expected);
  t.equal(readKept('/proc/kallsyms'), expected, 'and again from offset 0 through the kept descriptor');
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

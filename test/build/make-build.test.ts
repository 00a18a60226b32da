/**
 * `make build` (and so `make run`) compiles only when a source changed: the real Makefile,
 * run by the real make in a scratch project whose build script counts its runs.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAKEFILE = fileURLToPath(new URL('../../Makefile', import.meta.url));

t.test('make build rebuilds only after a change', async (t) => {
  if (spawnSync('make', ['--version']).status !== 0) {
    t.comment('make is not installed: skipped');
    t.pass('skipped: no make');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'larder-make-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(MAKEFILE, join(dir, 'Makefile'));
  // the build script stands in for tsc: it records each run and writes dist/
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, scripts: { build: 'mkdir -p dist && echo run >> builds.log' } }),
  );
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  writeFileSync(join(dir, 'tsconfig.json'), '{}');
  for (const d of ['src', 'exporters', 'storage', 'rollup', 'query']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'exporters', 'b.ts'), 'export const b = 1;\n');
  mkdirSync(join(dir, 'node_modules'));
  writeFileSync(join(dir, 'node_modules', '.larder-installed'), '');

  // A change is stamped 50 ms after the last build: well above the file system's timestamp granularity.
  const setTime = (seconds: number, paths: string[]): void => {
    for (const p of paths) utimesSync(join(dir, p), seconds, seconds);
  };
  const stamp = async (...paths: string[]): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    setTime(Date.now() / 1000, paths);
  };
  setTime(Date.now() / 1000 - 100, ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'src/a.ts', 'exporters', 'exporters/b.ts', 'storage', 'rollup', 'query']);
  setTime(Date.now() / 1000 - 50, ['node_modules/.larder-installed']);
  const builds = (): number => {
    execFileSync('make', ['--no-print-directory', 'build'], { cwd: dir, stdio: 'pipe' });
    return readFileSync(join(dir, 'builds.log'), 'utf8').split('\n').filter(Boolean).length;
  };

  t.equal(builds(), 1, 'a fresh clone builds');
  t.equal(builds(), 1, 'nothing changed: no rebuild');
  t.equal(builds(), 1, 'still none');
  await stamp('src/a.ts');
  t.equal(builds(), 2, 'an edited source rebuilds');
  t.equal(builds(), 2, 'and only once');
  writeFileSync(join(dir, 'storage', 'c.ts'), 'export const c = 1;\n');
  await stamp('storage', 'storage/c.ts');
  t.equal(builds(), 3, 'an added source rebuilds');
  rmSync(join(dir, 'storage', 'c.ts'));
  await stamp('storage');
  t.equal(builds(), 4, 'a removed source rebuilds');
  await stamp('tsconfig.json');
  t.equal(builds(), 5, 'a changed tsconfig.json rebuilds');
  rmSync(join(dir, 'dist'), { recursive: true });
  t.equal(builds(), 6, 'after make clean (dist removed) it builds again');
});

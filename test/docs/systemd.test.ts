/**
 * examples/systemd/larder.service: sandboxed (DynamicUser, read-only system, state in its
 * StateDirectory), starting what the package installs, with settings Larder knows;
 * `systemd-analyze verify` accepts it where systemd is installed; and Larder started with
 * the unit's environment (its state folder moved to a temp dir) records into it and stops
 * cleanly on the unit's KillSignal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { OPTION_GROUPS } from '../../src/config.js';
import type { OptionSpec } from '../../src/options/option.js';
import { CLI, startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const UNIT_PATH = join(ROOT, 'examples/systemd/larder.service');
const UNIT = readFileSync(UNIT_PATH, 'utf8');

/** Section → key → values in order (systemd keys may repeat; comments and blank lines skipped). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq <= 0) throw new Error(`larder.service:${i + 1}: not a key=value line in a section`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const service = parseUnit(UNIT).get('Service')!;
const one = (key: string): string | undefined => service.get(key)?.at(-1);

/** The unit's Environment= assignments (each line may hold several, space-separated). */
function environment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of service.get('Environment') ?? []) {
    for (const a of line.split(/\s+/)) {
      const eq = a.indexOf('=');
      env[a.slice(0, eq)] = a.slice(eq + 1);
    }
  }
  return env;
}

t.test('the service is sandboxed and needs no root', async (t) => {
  t.equal(one('DynamicUser'), 'yes', 'a user made up at start');
  t.notOk(service.has('User') || service.has('Group'), 'no fixed user, root or other');
  for (const [key, value] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes', CapabilityBoundingSet: '', RestrictSUIDSGID: 'yes' })) {
    t.equal(one(key), value, `${key}=${value}`);
  }
  t.notOk(service.has('MemoryDenyWriteExecute'), 'no MemoryDenyWriteExecute: V8 writes executable code');
  t.notOk(['invisible', 'noaccess'].includes(one('ProtectProc') ?? ''), '/proc of other processes stays readable (processes collector)');
  t.notOk(service.has('ProcSubset'), 'all of /proc stays readable (meminfo, stat)');
});

t.test('it starts the installed larder command, and keeps its state in the StateDirectory', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const exec = one('ExecStart')!.split(/\s+/);
  t.same(exec, ['/usr/bin/env', 'larder', 'serve'], 'larder serve, found on the PATH');
  t.ok(Object.keys(pkg.bin).includes(exec[1]!), `the package installs a "${exec[1]}" command`);
  const state = `/var/lib/${one('StateDirectory')}`;
  t.equal(one('StateDirectory'), 'larder');
  t.equal(one('WorkingDirectory'), state, 'relative paths land in the state folder');
  const env = environment();
  t.ok(env['SQLITE_DB_PATH']?.startsWith(`${state}/`), 'the SQLite store in the state folder (the only writable one)');
  t.ok(env['LARDER_SPOOL_PATH']?.startsWith(`${state}/`), 'the PostgreSQL spool in the state folder');
  const known = new Set(Object.values(OPTION_GROUPS).flatMap((g) => Object.values(g).flatMap((s) => (s as OptionSpec<unknown>).env ?? [])));
  for (const name of Object.keys(env)) t.ok(known.has(name) || name === 'MALLOC_TRIM_THRESHOLD_', `${name} is a variable Larder reads`);
  t.equal(env['MALLOC_TRIM_THRESHOLD_'], /MALLOC_TRIM_THRESHOLD_=(\d+)/.exec(readFileSync(join(ROOT, 'src/cli.ts'), 'utf8'))?.[1], "the malloc setting of the executable's shebang");
});

t.test('systemd-analyze verify accepts the unit, and refuses a broken copy', async (t) => {
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
    t.pass('systemd-analyze', { skip: 'systemd-analyze not installed: the unit was only parsed above' });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'larder-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const verify = (text: string): { status: number | null; output: string } => {
    const path = join(dir, 'larder.service');
    writeFileSync(path, text);
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
  const good = verify(UNIT);
  t.equal(good.status, 0, 'verify passes');
  t.equal(good.output.trim(), '', 'with no warning');
  const bad = verify(UNIT.replace('DynamicUser=yes', 'DynamicUser=maybe'));
  t.not(bad.status, 0, 'a bad value fails verify');
  t.match(bad.output, /maybe/, 'naming it');
});

t.test("Larder with the unit's environment records into the state folder and stops on its KillSignal", async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'larder-state-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const env = Object.fromEntries(Object.entries(environment()).map(([k, v]) => [k, v.replaceAll('/var/lib/larder', state)]));
  const check = spawnSync(CLI, ['check-config'], { encoding: 'utf8', env: { ...process.env, ...env }, cwd: state, timeout: 60_000 });
  t.equal(check.status, 0, `larder check-config accepts the environment: ${check.stderr}`);
  const port = await freePort();
  const larder = await startLarderProcess(port, ['--record-interval=1s', '--collect-interval=1s'], { ...env, MONITORING_DB: 'sqlite' }, {}, 60_000);
  try {
    t.match(await (await fetch(`${larder.url}/metrics`)).text(), /larder_collector_success/, 'serves /metrics');
    const db = env['SQLITE_DB_PATH']!;
    for (const until = Date.now() + 30_000; !existsSync(db) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 200));
    t.ok(existsSync(db), 'the store is created in the state folder');
  } finally {
    t.equal(await larder.stop((one('KillSignal') ?? 'SIGTERM') as NodeJS.Signals), 0, 'exit 0 on the unit\'s KillSignal');
  }
  t.match(larder.stderr(), /^$/, 'no warning or error logged');
});

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';

t.test('--help lists the commands, serve --help every option with its default', async (t) => {
  const top = runCli(['--help']);
  t.equal(top.status, 0);
  t.match(top.stdout, /serve/);
  const serve = runCli(['serve', '--help']);
  t.equal(serve.status, 0);
  t.match(serve.stdout, /--listen \[LARDER_LISTEN\]/);
  t.match(serve.stdout, /default: 0\.0\.0\.0:9464/);
  t.match(serve.stdout, /--collect-interval \[LARDER_COLLECT_INTERVAL\]/);
});

t.test('bad configuration exits 2 naming the option, the value and what is allowed', async (t) => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['serve', '--listen=banana'], {}, /invalid value "banana" for --listen: expected host:port/],
    [['serve'], { LARDER_COLLECT_INTERVAL: 'often' }, /invalid value "often" for LARDER_COLLECT_INTERVAL \(--collect-interval\): expected a duration/],
    [['serve'], { MONITORING_DB: 'oracle' }, /MONITORING_DB.*expected one of sqlite, postgresql, none/],
    [['serve', '--no-collector.bogus'], {}, /unknown collector "bogus"/],
    [['serve', '--web.tls-cert-file=/nonexistent/cert.pem', '--web.tls-key-file=/nonexistent/key.pem'], {}, /cannot read --web.tls-cert-file "\/nonexistent\/cert.pem": ENOENT/],
    [['serve', '--web.tls-cert-file=/etc/hostname'], {}, /must be given together/],
    [['frobnicate'], {}, /unknown command "frobnicate"/],
  ];
  for (const [args, env, re] of cases) {
    const r = runCli(args, env);
    t.equal(r.status, 2, `${args.join(' ')} exits 2`);
    t.match(r.stderr, re, args.join(' '));
  }
});

t.test('a config file with a bad value names the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'larder.yml');
  writeFileSync(file, 'collect-interval: sometimes\n');
  const r = runCli(['serve', `--config.file=${file}`]);
  t.equal(r.status, 2);
  t.match(r.stderr, /invalid value "sometimes" for config file key "collect-interval"/);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} stops the server and exits 0 within a few seconds`, async (t) => {
    const port = await freePort();
    const larder = await startLarderProcess(port);
    const res = await fetch(`${larder.url}/metrics`);
    t.equal(res.status, 200);
    t.match(await res.text(), /process_cpu_user_seconds_total/);
    const started = Date.now();
    const code = await larder.stop(signal);
    t.equal(code, 0);
    t.ok(Date.now() - started < 5000, `exited in ${Date.now() - started} ms`);
    await t.rejects(fetch(`${larder.url}/healthz`), 'no longer listening');
  });
}

t.test('the executable and the PM2 file start Larder with the same malloc trim threshold', async (t) => {
  // Started with another value, so that only the shebang can have set the one expected.
  const larder = await startLarderProcess(await freePort(), [], { MALLOC_TRIM_THRESHOLD_: '999' });
  t.teardown(() => larder.stop());
  const environ = readFileSync(`/proc/${larder.child.pid}/environ`, 'latin1').split('\0');
  const fromShebang = environ.find((e) => e.startsWith('MALLOC_TRIM_THRESHOLD_='));
  t.equal(fromShebang, 'MALLOC_TRIM_THRESHOLD_=131072', 'the shebang sets it for the process glibc starts');
  const require = createRequire(import.meta.url);
  const pm2 = require('../../ecosystem.config.cjs') as { apps: { env: Record<string, string> }[] };
  t.equal(pm2.apps[0]?.env['MALLOC_TRIM_THRESHOLD_'], '131072', 'PM2, which starts the script with node past the shebang, sets the same');
});

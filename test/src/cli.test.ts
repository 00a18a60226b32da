import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';
import { need, PG } from '../helpers/peers.js';

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

t.test('an unknown option is called unknown, with the closest one; serve --version prints the version', async (t) => {
  const unknown = runCli(['serve', '--no-such-flag']);
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown option --no-such-flag; larder serve --help lists every option/);
  t.notMatch(unknown.stderr, /needs a value/);
  const typo = runCli(['serve', '--listn', ':9999']);
  t.equal(typo.status, 2);
  t.match(typo.stderr, /unknown option --listn \(did you mean --listen\?\)/);
  const moved = runCli(['serve', '--tls-cert-file=x.pem']);
  t.match(moved.stderr, /did you mean --web\.tls-cert-file\?/);
  const fileOnly = runCli(['serve', '--targets=http://x']);
  t.equal(fileOnly.status, 2);
  t.match(fileOnly.stderr, /targets can only be set in the config file/);
  for (const args of [['serve', '--version'], ['--version'], ['version']]) {
    const v = runCli(args);
    t.equal(v.status, 0, args.join(' '));
    t.match(v.stdout, /^larder \d+\.\d+\.\d+\n$/, args.join(' '));
  }
});

t.test('bad PEM files exit 2 naming the option and the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-pem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of ['a', 'b']) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, `${n}-key.pem`), '-out', join(dir, `${n}-cert.pem`)], { stdio: 'ignore' });
  }
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'this is not PEM\n');
  const none = ['--storage.engine=none', '--listen=127.0.0.1:0'];
  const cases: [string, string, RegExp][] = [
    [junk, join(dir, 'a-key.pem'), /--web\.tls-cert-file ".*junk\.pem" is not a PEM certificate.*no start line/],
    [join(dir, 'a-cert.pem'), junk, /--web\.tls-key-file ".*junk\.pem" is not a PEM private key/],
    [join(dir, 'a-cert.pem'), join(dir, 'b-key.pem'), /--web\.tls-key-file ".*b-key\.pem" does not belong to the certificate in --web\.tls-cert-file ".*a-cert\.pem"/],
  ];
  for (const [cert, key, re] of cases) {
    const r = runCli(['serve', ...none, `--web.tls-cert-file=${cert}`, `--web.tls-key-file=${key}`]);
    t.equal(r.status, 2, `exit 2 for ${re.source}`);
    t.match(r.stderr, re);
    t.notMatch(r.stderr, /^larder: error:/m, 'not the bare OpenSSL message');
    t.notMatch(r.stderr, /BEGIN PRIVATE KEY-----\n/, 'no key material');
  }
});

t.test('PostgreSQL settings: a malformed DATABASE_URL and a missing database name their variable, never the password', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-pgerr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const base = { MONITORING_DB: 'postgresql', LARDER_SPOOL_PATH: join(dir, 'spool.db') };
  const malformed = runCli(['serve', '--listen=127.0.0.1:0'], { ...base, DATABASE_URL: 'postgres://larder:s3cret@127.0.0.1:port/x' });
  t.equal(malformed.status, 2);
  t.match(malformed.stderr, /DATABASE_URL \(--storage\.database-url\) is not a valid URL/);
  t.notMatch(malformed.stderr, /s3cret/);
  t.notMatch(malformed.stderr, /^larder: Invalid URL/m);

  if (!(await need(t, 'postgres'))) return;
  const missing = `larder_missing_${process.pid}`;
  const byName = runCli(['serve', '--listen=127.0.0.1:0'], { ...base, DB_HOST: PG.host, DB_PORT: String(PG.port), DB_USER: PG.user, DB_NAME: missing });
  t.equal(byName.status, 2);
  t.match(byName.stderr, new RegExp(`PostgreSQL database "${missing}" does not exist on 127\\.0\\.0\\.1:5432 \\(named by DB_NAME or --storage\\.db-name\\)`));
  t.match(byName.stderr, new RegExp(`createdb -h 127\\.0\\.0\\.1 -p 5432 -U postgres ${missing}`));
  const byUrl = runCli(['serve', '--listen=127.0.0.1:0'], { ...base, DATABASE_URL: `postgres://${PG.user}:s3cret@${PG.host}:${PG.port}/${missing}` });
  t.equal(byUrl.status, 2);
  t.match(byUrl.stderr, /named by the path of DATABASE_URL or --storage\.database-url/);
  t.notMatch(byUrl.stderr, /s3cret/);
  const role = runCli(['serve', '--listen=127.0.0.1:0'], { ...base, DB_HOST: PG.host, DB_PORT: String(PG.port), DB_NAME: PG.database, DB_USER: 'larder_no_such_role', DB_PASSWORD: 's3cret' });
  t.equal(role.status, 2);
  t.match(role.stderr, /refused user "larder_no_such_role" for database "test": check DB_USER and DB_PASSWORD/);
  t.notMatch(role.stderr, /s3cret/);
});

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, OPTION_GROUPS, optionsHelp } from '../../src/config.js';
import { runCli } from '../helpers/larder-process.js';

const load = (argv: string[], env: Record<string, string> = {}, file?: string) =>
  loadConfig({ argv, env, readFile: () => (file === undefined ? '' : file) }).config;

t.test('defaults', async (t) => {
  const c = load([]);
  t.same(c.web.listen, { host: '0.0.0.0', port: 9464 });
  t.equal(c.collectors.collectInterval, 15_000);
  t.equal(c.storage.engine, 'sqlite');
  t.equal(c.storage.sqlitePath, 'data/monitoring.db');
  t.equal(c.storage.retentionDays, 30);
  t.equal(c.collectorsEnabled['process'], true);
});

t.test('precedence: flag over env over file', async (t) => {
  const file = 'listen: "127.0.0.1:1111"\ncollect-interval: 5s\n';
  t.same(load(['--config.file', 'x.yml'], {}, file).web.listen, { host: '127.0.0.1', port: 1111 });
  t.same(load(['--config.file=x.yml'], { LARDER_LISTEN: ':2222' }, file).web.listen, { host: '0.0.0.0', port: 2222 });
  t.same(load(['--config.file=x.yml', '--listen=[::1]:3333'], { LARDER_LISTEN: ':2222' }, file).web.listen, { host: '::1', port: 3333 });
  t.equal(load(['--config.file=x.yml'], {}, file).collectors.collectInterval, 5000);
  t.equal(load([], { LARDER_COLLECT_INTERVAL: '1m30s' }).collectors.collectInterval, 90_000);
});

t.test('seed variables', async (t) => {
  const c = load([], { MONITORING_DB: 'postgresql', DB_HOST: 'db', DB_PORT: '6543', METRICS_RETENTION_DAYS: '7', SQLITE_DB_PATH: '/x/m.db' });
  t.equal(c.storage.engine, 'postgresql');
  t.equal(c.storage.dbHost, 'db');
  t.equal(c.storage.dbPort, 6543);
  t.equal(c.storage.retentionDays, 7);
  t.equal(c.storage.sqlitePath, '/x/m.db');
});

t.test('collector switches', async (t) => {
  t.equal(load(['--no-collector.process']).collectorsEnabled['process'], false);
  t.equal(load(['--collector.process'], {}, '').collectorsEnabled['process'], true);
  t.equal(load(['--config.file=c.yml'], {}, 'collectors:\n  process: false\n').collectorsEnabled['process'], false);
  t.throws(() => load(['--collector.nope']), /unknown collector "nope"/);
});

t.test('bad values name the option, the value and what is allowed', async (t) => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--listen=nowhere'], {}, /invalid value "nowhere" for --listen: expected host:port/],
    [[], { LARDER_LISTEN: '1.2.3.4:99999' }, /LARDER_LISTEN \(--listen\).*port 0-65535/],
    [[], { LARDER_COLLECT_INTERVAL: '15' }, /invalid value "15" for LARDER_COLLECT_INTERVAL.*expected a duration/],
    [[], { LARDER_COLLECT_INTERVAL: '10ms' }, /expected a duration from 1s/],
    [[], { MONITORING_DB: 'mysql' }, /invalid value "mysql" for MONITORING_DB.*one of sqlite, postgresql, none/],
    [[], { DB_PORT: 'abc' }, /DB_PORT.*integer from 1 to 65535/],
    [[], { METRICS_RETENTION_DAYS: '0' }, /METRICS_RETENTION_DAYS/],
    [['--collector.filesystem.mount-points-exclude=('], {}, /regular expression/],
    [['--bogus=1'], {}, /unknown option --bogus;/],
    [['--bogus', 'x'], {}, /unknown option --bogus;/],
    [['--log.levle=debug'], {}, /unknown option --log\.levle \(did you mean --log\.level\?\)/],
    [['--listen'], {}, /needs a value/],
  ];
  for (const [argv, env, re] of cases) {
    t.throws(() => load(argv, env), re, `${argv.join(' ')} ${JSON.stringify(env)}`);
    try {
      load(argv, env);
    } catch (err) {
      t.type(err, ConfigError);
    }
  }
});

t.test('config file errors', async (t) => {
  t.throws(() => load(['--config.file=c.yml'], {}, 'nope: 1\n'), /unknown key "nope"/);
  t.throws(() => load(['--config.file=c.yml'], {}, 'colect-interval: 5s\n'), /unknown key "colect-interval" in config file c.yml \(did you mean collect-interval\?\)/);
  // a secret is never repeated in an error
  let secret = '';
  try {
    load(['--config.file=c.yml'], {}, 'storage.db-password: [hunter2]\n');
  } catch (err) {
    secret = (err as Error).message;
  }
  t.match(secret, /^invalid value for config file key "storage.db-password": expected a string/);
  t.notMatch(secret, /hunter2/);
  t.throws(() => load(['--config.file=c.yml'], {}, 'listen: [\n'), /not valid YAML/);
  t.throws(() => load(['--config.file=c.yml'], {}, '- a\n- b\n'), /expected a mapping/);
  t.throws(() => load(['--config.file=c.yml'], {}, 'web:\n  basic_auth_users:\n    alice: plain\n'), /basic_auth_users.alice: expected a bcrypt hash/);
  t.throws(() => loadConfig({ argv: ['--config.file=/nonexistent/x.yml'], env: {} }), /cannot read config file \/nonexistent\/x.yml/);
});

t.test('help lists every option with its default and variable', async (t) => {
  const help = optionsHelp();
  for (const needle of ['--listen [LARDER_LISTEN]', '--collect-interval [LARDER_COLLECT_INTERVAL]', '(default: 15s)', '[MONITORING_DB]', '[SQLITE_DB_PATH]', '[METRICS_RETENTION_DAYS]', '[DB_HOST]', '[DB_PORT]', '[DB_NAME]', '[DB_USER]', '[DB_PASSWORD]', '[REDIS_HOST]', '[REDIS_PORT]', '--collector.process']) {
    t.ok(help.includes(needle), needle);
  }
});

t.test('help: each heading once, each option once, no default stated twice, options under the heading of what they configure', async (t) => {
  const lines = optionsHelp().split('\n');
  const headings: string[] = [];
  const sectionOf = new Map<string, string>();
  const entries: { flag: string; text: string }[] = [];
  for (const line of lines) {
    if (/^\S.*:$/.test(line)) {
      headings.push(line.slice(0, -1));
      continue;
    }
    const head = /^ {2,4}(?:--)?([a-z][\w.-]*)(?::| \[| \(|$)/.exec(line);
    if (head && !line.startsWith('      ')) {
      entries.push({ flag: head[1]!, text: line });
      sectionOf.set(head[1]!, headings[headings.length - 1]!);
    } else if (line.startsWith('      ') && entries.length) {
      entries[entries.length - 1]!.text += `\n${line}`;
    }
  }
  t.same(headings.filter((h, i) => headings.findIndex((x) => x.split(/[ (]/)[0] === h.split(/[ (]/)[0]) !== i), [], 'no heading twice');
  const flags = entries.map((e) => e.flag);
  t.same(flags.filter((f, i) => flags.indexOf(f) !== i), [], 'no option twice');
  for (const options of Object.values(OPTION_GROUPS)) {
    for (const spec of Object.values(options)) t.ok(flags.includes(spec.flag), `${spec.flag} is listed`);
  }
  for (const e of entries) t.ok((e.text.match(/\bdefault\b/gi) ?? []).length <= 1, `${e.flag} states its default at most once`);
  t.equal(sectionOf.get('targets'), 'scrape targets', 'targets are not filed under recorder');
  for (const f of flags.filter((x) => x.startsWith('rollup.'))) t.equal(sectionOf.get(f), 'rollup', f);
  for (const f of flags.filter((x) => x.startsWith('cluster.'))) t.match(sectionOf.get(f), /^cluster/, f);
  t.equal(sectionOf.get('collector.cpu'), 'collectors', 'collector switches under the collectors heading');
  t.equal(sectionOf.get('collect-interval'), 'collectors');
  t.notOk(headings.includes('recorder') && !flags.some((f) => sectionOf.get(f) === 'recorder'), 'no empty heading');
});

t.test('errors never show a secret: the web block, YAML excerpts, URLs with passwords', async (t) => {
  const token = 'plain-bearer-Tok3n-value';
  const hash = '$2y$10$' + 'a'.repeat(53);
  const otherHash = '$2b$12$' + 'Z'.repeat(53);
  const message = (argv: string[], env: Record<string, string>, file: string): string => {
    try {
      load(argv, env, file);
    } catch (err) {
      t.type(err, ConfigError);
      return (err as Error).message;
    }
    t.fail(`no error for ${file}`);
    return '';
  };
  const secretsIn = (m: string): string[] => [token, hash, otherHash, 'hunter2', 'short7'].filter((s) => m.includes(s));
  const cases: [string, RegExp][] = [
    // one bad hash among good ones: the block used to be printed whole, token and hashes included
    [`web:\n  bearer_token: ${token}\n  basic_auth_users:\n    alice: "${hash}"\n    bob: not-a-hash-hunter2\n`, /config file key "web": basic_auth_users\.bob: expected a bcrypt hash/],
    [`web:\n  bearer_token: short7\n  basic_auth_users:\n    alice: "${hash}"\n`, /config file key "web": bearer_token: expected a string of at least 8/],
    [`web:\n  bearer_token: ${token}\n  basic_auth_users:\n    carol: "${otherHash}"\n  colour: red\n`, /config file key "web": unknown key "colour"/],
    [`web: ${token}\n`, /config file key "web": expected a mapping/],
    [`web:\n  bearer_token: ${token}\n  basic_auth_users: [alice, "${hash}"]\n`, /basic_auth_users: expected a mapping/],
    // YAML's own message quotes the offending line
    [`web:\n  bearer_token: "${token}\n  basic_auth_users: {}\n`, /config file x\.yml is not valid YAML or JSON: .*line \d+/],
    [`web:\n  bearer_token: ${token}\n   bad_indent: "${hash}"\n`, /not valid YAML or JSON/],
    [`web:\n  bearer_token: ${token}: x\n`, /not valid YAML or JSON: Nested mappings are not allowed in compact mappings at line 2, column 17$/],
  ];
  for (const [file, re] of cases) {
    const m = message(['--config.file=x.yml'], {}, file);
    t.match(m, re);
    t.same(secretsIn(m), [], `no secret in: ${m}`);
  }
  // the options holding secrets are marked, so parseOne never shows their values
  t.same([OPTION_GROUPS.web.auth.secret, OPTION_GROUPS.storage.databaseUrl.secret, OPTION_GROUPS.storage.dbPassword.secret], [true, true, true]);
  // the safety net under every ConfigError and the CLI's last-resort message
  const e = new ConfigError('cannot connect to postgres://larder:hunter2@db:5432/m (password=hunter2; Authorization: Bearer short7) ' + hash);
  t.same(secretsIn(e.message), []);
  t.match(e.message, /postgres:\/\/larder:\*\*\*@db:5432\/m/, 'the rest of the URL stays, to say where');
  t.match(e.message, /password=\*\*\*/);
  t.match(e.message, /<bcrypt hash>/);
});

t.test('non-secret structured values are described by key, not dumped', async (t) => {
  t.throws(() => load(['--config.file=x.yml'], {}, 'targets:\n  - url: http://a/m\n    job: j\n    sample_limit: -1\n'), /^invalid value for config file key "targets": targets\[0\]\.sample_limit/);
  t.throws(() => load(['--listen=nowhere']), /invalid value "nowhere" for --listen/, 'scalars are still shown');
});

t.test('runaway input is bounded: long values are clipped in messages, a huge config file is refused', async (t) => {
  let err: unknown;
  try {
    load([], { LARDER_LISTEN: 'x'.repeat(100_000) });
  } catch (e) {
    err = e;
  }
  t.type(err, ConfigError);
  t.ok((err as Error).message.length < 400, 'the message is short');
  t.match((err as Error).message, /… \(100000 characters\)/);
  t.throws(() => load(['--config.file=x.yml'], {}, `# ${'y'.repeat(2 * 1024 * 1024)}\n`), /cannot read config file x\.yml: over the 1048576-byte limit/);
  // from disk, the size is checked before reading
  const dir = mkdtempSync(join(tmpdir(), 'larder-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'big.yml'), 'listen: :9464\n');
  truncateSync(join(dir, 'big.yml'), 3_000_000);
  t.throws(() => loadConfig({ argv: [`--config.file=${join(dir, 'big.yml')}`], env: {} }), /big\.yml: 3000000 bytes, over the 1048576-byte limit/);
});

t.test('the real binary: a bad web block stops start-up with exit code 2 and no secret on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-config-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const token = 'cli-plain-Bearer-T0ken';
  const hash = '$2y$10$' + 'q'.repeat(53);
  writeFileSync(join(dir, 'larder.yml'), `web:\n  bearer_token: ${token}\n  basic_auth_users:\n    alice: "${hash}"\n    bob: 12345\n`);
  const r = runCli(['serve', `--config.file=${join(dir, 'larder.yml')}`, '--listen=127.0.0.1:0'], { MONITORING_DB: 'none', DATABASE_URL: 'postgres://larder:hunter2@db/m' });
  t.equal(r.status, 2);
  t.match(r.stderr, /config file key "web": basic_auth_users\.bob: expected a bcrypt hash/);
  for (const secret of [token, hash, 'hunter2']) t.notOk(r.stderr.includes(secret) || r.stdout.includes(secret), `${secret.slice(0, 12)}… not printed`);
});

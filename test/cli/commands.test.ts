/**
 * Every operator command on a real SQLite store in a temp folder while a real
 * `larder serve` records into it, then what must wait until it stops (restore,
 * optimize, cleanup), and bad usage of each command. Needs `npm run build`.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import sqlite3 from 'node-sqlite3-wasm';
import pgPromise from 'pg-promise';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import { startLarderProcess } from '../helpers/larder-process.js';
import { need, PG } from '../helpers/peers.js';
import { freePort, inProcess, larder, tempDir } from './helpers.js';

// ~50 runs of the CLI, each a process start of 1-5 s on a loaded machine.
t.setTimeout(20 * 60_000);

const PG_URL = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;

/** Rows of a SQLite file, read as another program must (read-only, through the dotfile VFS). */
function readRows(path: string, sql: string): Record<string, unknown>[] {
  const db = new sqlite3.Database(path, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 20000');
    return db.all(sql);
  } finally {
    db.close();
  }
}

t.test('commands beside a running larder serve, then with it stopped', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'monitoring.db');
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: db };
  // One alert fires all along; another fires and resolves every few seconds (alert history).
  const rules = join(dir, 'rules.yml');
  writeFileSync(
    rules,
    `groups:
  - name: cli
    rules:
      - alert: AlwaysFiring
        expr: vector(1) > 0
        labels: { severity: warning, team: ops }
        annotations: { summary: "always on" }
      - alert: Flapping
        expr: vector(time() % 6 < bool 3) > 0
        labels: { severity: critical }
`,
  );
  const serve = await startLarderProcess(await freePort(), [`--rules.file=${rules}`, '--rules.evaluation-interval=1s', '--rules.bundled=false'], {
    ...env,
    LARDER_RECORD_INTERVAL: '1s',
    LARDER_COLLECT_INTERVAL: '1s',
  });
  t.teardown(() => serve.stop('SIGKILL'));
  // Wait until a few records are in.
  for (let i = 0; i < 100; i++) {
    const r = await larder(['query', '--sql', 'SELECT COUNT(DISTINCT ts) AS n FROM samples_all', '--output', 'json'], env);
    if (r.code === 0 && Number((JSON.parse(r.stdout.trim() || '{"n":0}') as { n: number }).n) >= 3) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  await t.test('stats', async (t) => {
    const r = await larder(['stats'], env);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /store: sqlite, schema version \d+/);
    t.match(r.stdout, /^samples\t\d+\t\d+\t.*\t\d+$/m, 'a row for the samples table (tab-separated in a pipe)');
    t.match(r.stdout, /^node_cpu_seconds_total\t\d+$/m, 'top metrics by series');
    const j = await larder(['stats', '--output', 'json'], env);
    t.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout) as { series: number; tables: { table: string; rows: number; chunks: number }[]; newestSample: string; spoolDepth: number };
    t.ok(s.series > 50, 'series counted');
    const samples = s.tables.find((x) => x.table === 'samples')!;
    t.ok(samples.rows > 0 && samples.chunks >= 1, 'samples rows and chunks');
    t.ok(Date.now() - Date.parse(s.newestSample) < 120_000, 'newest sample is recent');
    t.equal(s.spoolDepth, 0);
  });

  await t.test('query: PromQL instant, range, each output form', async (t) => {
    const inst = await larder(['query', 'count(node_cpu_seconds_total)', '--output', 'json'], env);
    t.equal(inst.code, 0, inst.stderr);
    const row = JSON.parse(inst.stdout.trim()) as { series: string; value: number };
    t.ok(row.value > 0, 'count of cpu series');
    const range = await larder(['query', '--since', '2m', '--step', '1s', 'node_load1', '--output', 'csv'], env);
    t.equal(range.code, 0, range.stderr);
    const lines = range.stdout.trim().split('\r\n');
    t.equal(lines[0], 'series,time,value');
    t.ok(lines.length >= 3, 'several points');
    // every recorded series carries the host's labels (instance, job="larder"): CSV quotes the name
    t.match(lines[1]!, /^"node_load1\{instance=""[^"]+"", job=""larder""\}",\d{4}-\d\d-\d\dT[\d:.]+Z,[\d.]+$/);
    const table = await larder(['query', 'node_load1', '--output', 'table'], env);
    t.match(table.stdout, /^series\s+time\s+value\n─+/);
    const chart = await larder(['query', '--since', '2m', '--step', '1s', 'node_load1', '--output', 'chart'], env);
    t.equal(chart.code, 0, chart.stderr);
    t.match(chart.stdout, /^min [\d.]+ {2}max [\d.]+\n[▁▂▃▄▅▆▇█ ]+ {2}node_load1\{instance="[^"]+", job="larder"\}\n$/);
    // A rate answered by the engine over the store (tiers passed as serve does).
    const rate = await larder(['query', 'sum(rate(node_cpu_seconds_total[30s]))', '--output', 'json'], env);
    t.equal(rate.code, 0, rate.stderr);
  });

  await t.test('query --sql: reads, and refuses any write before it reaches the store', async (t) => {
    const before = readRows(db, 'SELECT COUNT(*) AS n FROM series')[0]!['n'];
    const ok = await larder(['query', '--sql', "SELECT name FROM series WHERE name = 'node_load1'", '--output', 'csv'], env);
    t.equal(ok.code, 0, ok.stderr);
    t.equal(ok.stdout, 'name\r\nnode_load1\r\n');
    for (const sql of ['DELETE FROM series', 'WITH x AS (SELECT 1) DELETE FROM series', 'SELECT 1; DELETE FROM series', 'PRAGMA user_version = 5', "ATTACH 'x.db' AS x", 'VACUUM']) {
      const r = await larder(['query', '--sql', sql], env);
      t.equal(r.code, 2, `refused: ${sql}`);
      t.match(r.stderr, /read-only|one statement/, sql);
    }
    t.ok(Number(readRows(db, 'SELECT COUNT(*) AS n FROM series')[0]!['n']) >= Number(before), 'nothing was deleted');
    t.equal(readRows(db, 'PRAGMA user_version')[0]!['user_version'], 0);
  });

  await t.test('latest', async (t) => {
    const r = await larder(['latest', 'node_cpu_seconds_total', 'cpu=0', '--output', 'json'], env);
    t.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { series: string; value: number; time: string });
    t.ok(rows.length >= 1);
    t.ok(rows.every((x) => x.series.startsWith('node_cpu_seconds_total{') && x.series.includes('cpu="0"')), 'filtered by name and label');
    const glob = await larder(['latest', 'node_load*'], env);
    t.match(glob.stdout, /^node_load1\{instance="[^"]+", job="larder"\}\t/m);
    t.match(glob.stdout, /^node_load15\{instance="[^"]+", job="larder"\}\t/m);
  });

  await t.test('alerts: firing now, history, filters, each output form', async (t) => {
    // Wait until Flapping has been resolved at least once.
    for (let i = 0; i < 60; i++) {
      const r = await larder(['alerts', 'Flapping', '--state', 'resolved', '--output', 'json'], env);
      if (r.code === 0 && r.stdout.trim() !== '') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const firing = await larder(['alerts', '--output', 'json'], env);
    t.equal(firing.code, 0, firing.stderr);
    const rows = firing.stdout.trim().split('\n').map((l) => JSON.parse(l) as { alert: string; state: string; severity: string; value: number; fired: string; resolved: string | null; message: string });
    const always = rows.find((r) => r.alert.startsWith('AlwaysFiring'));
    t.ok(always, 'AlwaysFiring is listed as firing');
    t.match(always, { state: 'firing', severity: 'warning', value: 1, resolved: null, message: 'always on' });
    t.match(always!.alert, /^AlwaysFiring\{severity="warning", team="ops"\}$/, 'alertname left out of the labels');
    t.ok(rows.every((r) => r.state === 'firing'), 'only firing alerts by default');
    const resolved = await larder(['alerts', '--state', 'resolved', '--since', '10m', '--output', 'csv'], env);
    t.equal(resolved.code, 0, resolved.stderr);
    const lines = resolved.stdout.trim().split('\r\n');
    t.equal(lines[0], 'alert,state,severity,value,fired,resolved,message');
    t.ok(lines.length >= 2 && lines.slice(1).every((l) => /^"?Flapping\{severity=""critical""\}"?,resolved,critical,1,[\d-]+T[\d:.]+Z,[\d-]+T[\d:.]+Z,Flapping$/.test(l)), lines.join('\n'));
    const all = await larder(['alerts', '--state', 'all', 'team=ops'], env);
    t.equal(all.code, 0, all.stderr);
    t.match(all.stdout, /^alert\tstate\t/, 'tab-separated in a pipe');
    t.equal(all.stdout.trim().split('\n').length, 2, 'the label matcher keeps AlwaysFiring alone');
    const none = await larder(['alerts', 'Always*', 'team!=ops', '--output', 'table'], env);
    t.equal(none.code, 0, none.stderr);
    t.match(none.stdout, /^alert\s+state\s+severity\s+value\s+fired\s+resolved\s+message\n─+/, 'header only');
    t.equal(none.stdout.trim().split('\n').length, 2);
    const regex = await larder(['alerts', '--state', 'all', 'severity=~crit.*', '--limit', '1', '--output', 'json'], env);
    t.equal(regex.code, 0, regex.stderr);
    t.match(regex.stdout, /^\{"alert":"Flapping\{severity=\\"critical\\"\}"[^\n]*\}\n$/, 'one row, newest first');
  });

  await t.test('backup while serve runs, plain and gzip: sound copies', async (t) => {
    const plain = join(dir, 'copy.db');
    const r = await larder(['backup', plain], env);
    t.equal(r.code, 0, r.stderr);
    t.equal(statSync(plain).mode & 0o777, 0o640, 'mode 0640');
    t.same(readRows(plain, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    t.ok(Number(readRows(plain, 'SELECT COUNT(*) AS n FROM samples_all')[0]!['n']) > 0, 'samples in the copy');
    const gz = await larder(['backup', join(dir, 'copy2.db'), '--gzip'], env);
    t.equal(gz.code, 0, gz.stderr);
    t.ok(existsSync(join(dir, 'copy2.db.gz')), '.gz added');
    t.equal(gunzipSync(readFileSync(join(dir, 'copy2.db.gz'))).subarray(0, 15).toString(), 'SQLite format 3');
    const again = await larder(['backup', plain], env);
    t.equal(again.code, 1, 'an existing destination is not replaced without --force');
    t.match(again.stderr, /exists: choose another name or add --force/);
  });

  await t.test('restore, optimize and cleanup refuse while Larder owns the store', async (t) => {
    const size = statSync(db).size;
    const pid = serve.child.pid!;
    const stop = (cmd: string): string => `Stop that Larder \\(kill -TERM ${pid}, or systemctl stop / pm2 stop, however it was started\\), run ${cmd}, then start it again`;
    const cases: [string[], RegExp][] = [
      [['restore', join(dir, 'copy.db')], new RegExp(`restore replaces the file under it\\. ${stop(`larder restore ${join(dir, 'copy.db')}`)}\\n`)],
      [['optimize'], new RegExp(`${stop('larder optimize')}\\. A running Larder VACUUMs the file itself whenever its size cap \\(--storage\\.max-bytes, LARDER_STORE_MAX_BYTES\\) drops chunks\\.\\n`)],
      [
        ['cleanup', '--retention-days', '1'],
        new RegExp(
          'drops raw chunks older than its --storage\\.retention-days \\(METRICS_RETENTION_DAYS\\) itself, at its daily run \\(--rollup\\.daily-cron\\): ' +
            `to keep 1 days from now on, restart it with --storage\\.retention-days=1 \\(or METRICS_RETENTION_DAYS=1\\); to drop them at once, s${stop('larder cleanup --retention-days 1').slice(1)}\\. --dry-run lists them`,
        ),
      ],
    ];
    for (const [args, advice] of cases) {
      const r = await larder(args, env);
      t.equal(r.code, 1, `${args[0]} refused`);
      t.match(r.stderr, new RegExp(`owned by a running Larder \\(pid ${pid}\\)`), args[0]!);
      t.match(r.stderr, advice, `${args[0]}: says what to do`);
    }
    t.ok(statSync(db).size >= size, 'store untouched');
    const dry = await larder(['cleanup', '--retention-days', '1', '--dry-run'], env);
    t.equal(dry.code, 0, dry.stderr);
    t.match(dry.stdout, /dry run: 0 raw chunk\(s\) end before .* nothing was changed/);
  });

  await t.test('check-config', async (t) => {
    const r = await larder(['check-config'], env);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /store: sqlite .*monitoring\.db\n.*\nconfiguration OK\n/s);
    const bad = await larder(['check-config'], { ...env, LARDER_RECORD_INTERVAL: '1s', LARDER_COLLECT_INTERVAL: '5s' });
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--record-interval 1s is shorter than --collect-interval 5s/);
    const file = join(dir, 'bad.yaml');
    closeSync(openSync(file, 'w'));
    const fd = openSync(file, 'w');
    writeSync(fd, 'storage.engine: mysql\n');
    closeSync(fd);
    const badFile = await larder(['check-config', `--config.file=${file}`], env);
    t.equal(badFile.code, 2);
    t.match(badFile.stderr, /storage\.engine/);
  });

  await t.test('migrate while serve runs migrates a snapshot', async (t) => {
    if (!(await need(t, 'postgres'))) return;
    const schema = `cli_live_${process.pid}`;
    const pgp = pgPromise({ noWarnings: true });
    const pg = pgp({ ...PG });
    t.teardown(async () => {
      await pg.none(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pg.$pool.end();
    });
    const r = await larder(['migrate', '--to', PG_URL, '--to-schema', schema], env);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /is running on .*: migrating a snapshot taken now/);
    t.match(r.stdout, /chunks \(\d+ copied and verified, 0 already there\)/);
    const n = await pg.one<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${schema}.series`);
    t.ok(n.n > 50, 'series copied');
  });

  await t.test('after serve stops: restore refuses a damaged copy, restores a sound one; optimize and cleanup run', async (t) => {
    t.equal(await serve.stop('SIGTERM'), 0, 'serve stopped cleanly');
    const damaged = join(dir, 'damaged.db');
    const good = readFileSync(join(dir, 'copy.db'));
    const bad = Buffer.from(good);
    // Garble the middle of the file: b-tree pages, not the header.
    bad.fill(0x5a, 4096 + 100, Math.min(bad.length - 10, 4096 * 6));
    const fd = openSync(damaged, 'w');
    writeSync(fd, bad);
    closeSync(fd);
    const before = readFileSync(db);
    const r = await larder(['restore', damaged], env);
    t.equal(r.code, 1, 'damaged copy refused');
    t.match(r.stderr, /is damaged \(PRAGMA integrity_check|cannot be opened|not a Larder store/);
    t.ok(readFileSync(db).equals(before), 'store untouched');
    const notGz = join(dir, 'broken.db.gz');
    writeSync(openSync(notGz, 'w'), Buffer.from('not gzip at all'));
    const g = await larder(['restore', notGz], env);
    t.equal(g.code, 1);
    t.match(g.stderr, /not a sound gzip file/);

    const ok = await larder(['restore', join(dir, 'copy2.db.gz')], env);
    t.equal(ok.code, 0, ok.stderr);
    t.ok(readFileSync(`${db}.pre-restore`).equals(before), 'the old file is kept');
    t.same(readRows(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    t.notOk(existsSync(`${db}.larder-pid`), 'ownership given back');

    const opt = await larder(['optimize'], env);
    t.equal(opt.code, 0, opt.stderr);
    t.match(opt.stdout, /optimized in [\d.]+ s: /);
    const clean = await larder(['cleanup', '--retention-days', '1'], env);
    t.equal(clean.code, 0, clean.stderr);
    t.match(clean.stdout, /dropped 0 raw chunk\(s\)/);
  });
});

t.test('bad usage: exit code 2 and a message naming the problem', async (t) => {
  const dir = tempDir(t);
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'none.db') };
  const cases: [string[], RegExp][] = [
    [['stats', '--bogus'], /larder stats: unknown option --bogus; larder stats --help lists its options/],
    [['query', '--sincee', '6h', 'up'], /unknown option --sincee \(did you mean --since\?\)/],
    [['query', '--since', '6x', 'up'], /invalid duration "6x" for --since/],
    [['query', '--since', '6h', '--step', 'soon', 'up'], /invalid duration "soon" for --step/],
    [['query', '--from', 'yesterday', 'up'], /invalid time "yesterday" for --from/],
    [['query', 'rate(up[5m]'], /bad query|parse/],
    [['query'], /missing the PromQL expression/],
    [['query', '--output', 'xml', 'up'], /invalid value "xml" for --output: expected one of table, csv, json, chart/],
    [['latest', '--output'], /--output needs a value/],
    [['latest', 'bad name!'], /invalid metric name/],
    [['backup'], /give the destination file/],
    [['restore'], /give the backup file/],
    [['optimize', 'extra'], /unexpected argument "extra"/],
    [['cleanup'], /--retention-days N is required/],
    [['cleanup', '--retention-days', 'ten'], /invalid value "ten" for --retention-days/],
    [['migrate'], /--to URL is required: the target PostgreSQL/],
    [['migrate', '--to', 'mysql://x'], /--to expects a postgres:\/\//],
    [['check-config', '--storage.engine=mysql'], /storage\.engine/],
    [['alerts', '--state', 'pending'], /invalid value "pending" for --state: expected one of firing, resolved, all/],
    [['alerts', '--since', 'yesterday'], /invalid duration "yesterday" for --since/],
    [['alerts', 'severity=~(crit'], /invalid regular expression for severity=~/],
    [['alerts', 'Disk*', 'severity'], /expected LABEL=VALUE \(or !=, =~, !~\), got "severity"/],
    [['alerts', '--limit', '0'], /invalid value "0" for --limit/],
    [['stats', '--storage.db-port=99999'], /storage\.db-port/],
  ];
  // In this process (the same parsing and exit codes), then a few through the binary.
  for (const [args, message] of cases) {
    const r = await inProcess(args, env);
    t.equal(r.code, 2, `${args.join(' ')} → 2`);
    t.match(r.stderr, message, args.join(' '));
    t.equal(r.stdout, '', 'nothing on stdout');
  }
  for (const [args, message] of [cases[0]!, cases[2]!, cases[7]!]) {
    const r = await larder(args, env);
    t.equal(r.code, 2, `binary: ${args.join(' ')} → 2`);
    t.match(r.stderr, message);
  }
  for (const c of ['stats', 'query', 'latest', 'alerts', 'backup', 'restore', 'optimize', 'cleanup', 'migrate', 'check-config']) {
    const h = await inProcess([c, '--help'], env);
    t.equal(h.code, 0, `${c} --help`);
    t.match(h.stdout, new RegExp(`^Usage: larder ${c}`), `${c} --help usage`);
  }
  const top = await larder(['--help'], env);
  t.equal(top.code, 0);
  for (const c of ['serve', 'stats', 'query', 'latest', 'alerts', 'backup', 'restore', 'optimize', 'cleanup', 'migrate', 'check-config']) t.match(top.stdout, new RegExp(`^  ${c} +\\S`, 'm'), `larder --help lists ${c}`);
  const unknown = await larder(['frobnicate'], env);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('operation failures: exit code 1 and what to do next', async (t) => {
  const dir = tempDir(t);
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'missing.db') };
  const noStore = await inProcess(['stats'], env);
  t.equal(noStore.code, 1);
  t.match(noStore.stderr, /no SQLite store at .*missing\.db \(SQLITE_DB_PATH, --storage\.sqlite-path\)/);
  const port = await freePort();
  const unreachable = await larder(['stats'], { MONITORING_DB: 'postgresql', DATABASE_URL: `postgres://u:hunter2@127.0.0.1:${port}/x` });
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, new RegExp(`cannot reach PostgreSQL 127\\.0\\.0\\.1:${port}/x .*check that PostgreSQL runs`));
  t.notMatch(unreachable.stderr, /hunter2/, 'the password is never shown');
  const source = join(dir, 'source.db');
  await (await openSqliteStore({ path: source })).close();
  const mig = await inProcess(['migrate', '--to', `postgres://u:hunter2@127.0.0.1:${port}/x`], { ...env, SQLITE_DB_PATH: source });
  t.equal(mig.code, 1);
  t.match(mig.stderr, new RegExp(`cannot reach PostgreSQL 127\\.0\\.0\\.1:${port}/x .*the --to URL points at it`));
  t.notMatch(mig.stderr, /hunter2/);
});

t.test('a tick log left by a stopped Larder: read commands say to start it once, then work', async (t) => {
  const path = join(tempDir(t), 'monitoring.db');
  const s = await openSqliteStore({ path, commitIntervalMs: 3_600_000 });
  const [id] = await s.resolveSeries([{ name: 'left_in_log', labels: {}, type: 'gauge' }]);
  await s.writeSamples([{ seriesId: id!, timeMs: Date.now(), value: 42 }]);
  // The log as a kill leaves it, with no Larder running (here close() had committed the tick too: committing it again changes nothing).
  const log = `${path}.larder-ticks`;
  const kept = readFileSync(log);
  await s.close();
  writeFileSync(log, kept);
  const env = { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: path };
  const refused = await inProcess(['query', '--sql', 'SELECT COUNT(*) AS n FROM samples_all'], env);
  t.equal(refused.code, 1);
  t.match(refused.stderr, `the Larder that wrote it stopped before committing its last record ticks (they are in ${log}); start larder serve on it once`);
  await (await openSqliteStore({ path })).close(); // what starting it once does to the log
  const after = await inProcess(['query', '--sql', 'SELECT COUNT(*) AS n FROM samples_all'], env);
  t.equal(after.code, 0, after.stderr);
  t.match(after.stdout, /\b1\b/, 'the logged tick is in the file');
  t.notOk(existsSync(log));
});

/**
 * One writer per store under cluster mode, with real processes: two instances of a
 * service embedding Larder with the same store (as PM2 starts them, same environment
 * but NODE_APP_INSTANCE), on a SQLite file and on the real PostgreSQL (a schema of its
 * own). Instance 0 opens the store and records the cluster view; instance 1 opens
 * nothing. Each metric reaches the store once, merged as /metrics merges it: counters
 * summed into one series, gauges one series per instance.
 */
import t, { type Test } from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pgPromise from 'pg-promise';
import { openStore } from '../../../storage/open-store.js';
import type { StoreOptions } from '../../../storage/store.js';
import { isStaleNaN } from '../../../storage/stale.js';
import { PG, need } from '../../helpers/peers.js';
import { freeRange } from '../../helpers/ports.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/recording-instance.ts', import.meta.url));


/** Established TCP connections of process `pid` to port PG.port (from /proc: its socket fds against /proc/net/tcp{,6}). */
function pgSockets(pid: number): number {
  const inodes = new Set<string>();
  const port = PG.port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // rem_address is f[2] (hex address:port), st f[3] (01 = ESTABLISHED), inode f[9]
      if (f.length > 9 && f[2]!.endsWith(`:${port}`) && f[3] === '01') inodes.add(f[9]!);
    }
  }
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link = '';
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m && inodes.has(m[1]!)) n++;
  }
  return n;
}

interface Instance {
  readonly child: ChildProcess;
  readonly records: boolean;
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

function start(id: number, env: Record<string, string>): Promise<Instance> {
  const child = fork(FIXTURE, [], { env: { ...process.env, ...env, NODE_APP_INSTANCE: String(id) }, execArgv: ['--import', '@tapjs/typescript/import'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${id} did not become ready: ${output}`)), 60_000);
    void exited.then((code) => reject(new Error(`instance ${id} exited with ${code}: ${output}`)));
    child.on('message', (m: { ready?: boolean; records?: boolean }) => {
      if (!m.ready) return;
      clearTimeout(timer);
      resolve({
        child,
        records: m.records === true,
        output: () => output,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** Two instances on the store `env` names, for 3.5 s; then checks what reached `store`. */
async function recordsOnce(t: Test, env: Record<string, string>, storeOptions: StoreOptions, whileRunning?: (zero: Instance, one: Instance) => void): Promise<void> {
  const base = { LARDER_CLUSTER_INSTANCES: '2', LARDER_CLUSTER_PORT_BASE: String(await freeRange(2)), LARDER_CLUSTER_TIMEOUT: '2s', ...env };
  // instance 1 first, so that every record instance 0 takes hears it
  const one = await start(1, base);
  t.teardown(() => void one.child.kill('SIGKILL'));
  const zero = await start(0, base);
  t.teardown(() => void zero.child.kill('SIGKILL'));
  t.equal(zero.records, true, 'instance 0 opened the store');
  t.equal(one.records, false, 'instance 1 did not');
  t.match(one.output(), /recording left to cluster instance 0/, 'and says so');

  await new Promise((r) => setTimeout(r, 3500)); // about three records at 1 s
  whileRunning?.(zero, one);
  t.equal(await zero.stop(), 0, 'instance 0 stops on SIGTERM (its last record written)');
  t.equal(await one.stop(), 0, 'instance 1 stops on SIGTERM');
  t.notMatch(zero.output() + one.output(), /level=(warn|error)/, 'no warning or error in either instance');

  const store = await openStore(storeOptions);
  t.teardown(() => store.close());
  const series = await store.listSeries();
  const named = (name: string) => series.filter((s) => s.name === name);
  // the host's labels (instance = the host name, job="larder") as on every recorded series
  const host = { instance: hostname(), job: 'larder' };
  t.same(named('jobs_total').map((s) => s.labels), [host], 'the summed counter is one series, without an app_instance label');
  t.same(named('queue_depth').map((s) => s.labels['app_instance']).sort(), ['0', '1'], 'the gauge one series per instance');
  t.same(named('larder_store_size_bytes').map((s) => s.labels), [{ app_instance: '0', ...host }], 'only instance 0 has a store (its gauge, labelled by instance)');

  const read = await store.readSamples({ name: 'jobs_total', fromMs: 0, toMs: Date.now() + 1000 });
  // instance 0 stopped cleanly: each series it recorded ends with one stale marker, its last row
  const ended = (samples: readonly { value: number }[]): boolean => samples.length > 0 && isStaleNaN(samples[samples.length - 1]!.value) && samples.filter((x) => isStaleNaN(x.value)).length === 1;
  t.ok(ended(read.samples), 'jobs_total ends with one stale marker, written at the stop');
  const values = read.samples.filter((s) => !isStaleNaN(s.value)).map((s) => s.value);
  t.ok(values.length >= 3, `${values.length} records of jobs_total`);
  t.same([...new Set(values)], [3], 'every record holds 1 + 2 = 3: each instance counted once, in one sum');
  const times = read.samples.map((s) => s.timeMs);
  t.equal(new Set(times).size, times.length, 'one row per record');
  const depth = await store.readSamples({ name: 'queue_depth', fromMs: 0, toMs: Date.now() + 1000 });
  for (const s of depth.series) {
    const own = depth.samples.filter((x) => x.seriesId === s.id);
    t.ok(ended(own), `queue_depth{app_instance="${s.labels['app_instance']}"} ends with one stale marker`);
    const vals = own.filter((x) => !isStaleNaN(x.value)).map((x) => x.value);
    t.same([...new Set(vals)], [10 * Number(s.labels['app_instance'])], `queue_depth{app_instance="${s.labels['app_instance']}"} as that instance set it`);
    t.equal(vals.length, values.length, 'recorded in the same records as the counter');
  }
}

t.test('two cluster instances on one SQLite store: instance 0 writes the merged view once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cluster-rec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'monitoring.db');
  await recordsOnce(t, { MONITORING_DB: 'sqlite', FIXTURE_DB: db }, { engine: 'sqlite', sqlitePath: db });
});

t.test('two cluster instances on one PostgreSQL schema: instance 0 writes the merged view once', async (t) => {
  if (!(await need(t, 'postgres'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-cluster-rec-pg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const schema = `lib18_cluster_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = `postgres://${PG.user}@${PG.host}:${PG.port}/${PG.database}`;
  const admin = pgPromise({ noWarnings: true })({ ...PG });
  // registered first: dropped last, after the store below has closed
  t.teardown(async () => {
    await admin.none(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.$pool.end();
  });
  await recordsOnce(
    t,
    // FIXTURE_DB only places the (unused) SQLite path and the spool
    { MONITORING_DB: 'postgresql', DATABASE_URL: url, LARDER_PG_SCHEMA: schema, FIXTURE_DB: join(dir, 'unused.db') },
    { engine: 'postgresql', databaseUrl: url, pgSchema: schema, spoolPath: '' },
    (zero, one) => {
      // exactly one writer: only instance 0's process holds connections to PostgreSQL
      const z = pgSockets(zero.child.pid!);
      const o = pgSockets(one.child.pid!);
      t.ok(z >= 1, `instance 0 holds ${z} PostgreSQL connection(s)`);
      t.equal(o, 0, 'instance 1 holds none');
    },
  );
});

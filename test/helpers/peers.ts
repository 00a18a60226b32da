/**
 * The real peers tests talk to (PostgreSQL, Redis, Prometheus and its tools, Alertmanager, Chromium).
 * A test asks for a peer with `need(t, peer)`: when it does not answer the test is
 * skipped with the reason, or fails when REQUIRE_<PEER>=1 says it must be there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import type { Test } from 'tap';

/** A peer and the variable that makes it mandatory. */
export type Peer = 'postgres' | 'redis' | 'prometheus' | 'node-exporter' | 'sqlite3' | 'psql' | 'redis-cli' | 'chromium' | 'alertmanager' | 'curl';

const REQUIRE: Record<Peer, string> = {
  postgres: 'REQUIRE_POSTGRES',
  redis: 'REQUIRE_REDIS',
  prometheus: 'REQUIRE_PROMETHEUS',
  'node-exporter': 'REQUIRE_PROMETHEUS',
  sqlite3: 'REQUIRE_POSTGRES', // the CLI tools come with the same CI install step
  psql: 'REQUIRE_POSTGRES',
  'redis-cli': 'REQUIRE_REDIS',
  chromium: 'REQUIRE_CHROMIUM',
  alertmanager: 'REQUIRE_ALERTMANAGER',
  curl: 'REQUIRE_PROMETHEUS', // the README's query examples, the way a user talks to a Prometheus API
};

/** Debian's chromium, which the page's browser tests drive with playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** PostgreSQL connection used by tests. */
export const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' } as const;
/** Redis used by tests. */
export const REDIS = { host: '127.0.0.1', port: 6379 } as const;

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function available(peer: Peer): Promise<string | undefined> {
  switch (peer) {
    case 'postgres':
      return (await tcpOpen(PG.host, PG.port)) ? undefined : `no PostgreSQL at ${PG.host}:${PG.port}`;
    case 'redis':
      return (await tcpOpen(REDIS.host, REDIS.port)) ? undefined : `no Redis at ${REDIS.host}:${REDIS.port}`;
    case 'prometheus':
      return hasCommand('prometheus') && hasCommand('promtool') ? undefined : 'prometheus/promtool not installed (apt-get install prometheus)';
    case 'node-exporter':
      return hasCommand('prometheus-node-exporter') ? undefined : 'prometheus-node-exporter not installed';
    case 'sqlite3':
      return hasCommand('sqlite3') ? undefined : 'sqlite3 command-line tool not installed';
    case 'psql':
      return hasCommand('psql') ? undefined : 'psql not installed';
    case 'redis-cli':
      return hasCommand('redis-cli') ? undefined : 'redis-cli not installed (apt-get install redis-tools)';
    case 'chromium':
      return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not installed (apt-get install chromium)`;
    case 'alertmanager':
      return hasCommand('prometheus-alertmanager') ? undefined : 'prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)';
    case 'curl':
      return hasCommand('curl') ? undefined : 'curl not installed (apt-get install curl)';
  }
}

/**
 * Returns true when the peer is there. Otherwise skips the test (or fails it when
 * REQUIRE_* is set) and returns false; the caller then returns.
 */
export async function need(t: Test, peer: Peer): Promise<boolean> {
  const missing = await available(peer);
  if (missing === undefined) return true;
  if (process.env[REQUIRE[peer]] === '1') {
    t.fail(`${missing}, and ${REQUIRE[peer]}=1 requires it`);
  } else {
    t.pass(`${peer} needed`, { skip: `${missing} (set ${REQUIRE[peer]}=1 to make this a failure)` });
  }
  return false;
}

/** Runs `promtool check metrics` on an exposition; returns its combined output and exit status. */
export function promtoolCheckMetrics(exposition: string): { status: number; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}

/** A command's stdout, or throws with its stderr. */
export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

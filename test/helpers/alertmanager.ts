/**
 * Starts Debian's real Alertmanager on a loopback port with a temporary config and
 * storage folder (clustering off), optionally behind basic auth (its --web.config.file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './prometheus.js';

/** An alert as Alertmanager's GET /api/v2/alerts lists it (the fields the tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

export interface AlertmanagerPeer {
  readonly url: string;
  /** GET /api/v2/alerts (active, silenced, inhibited and unprocessed alike). */
  alerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

/** Starts `prometheus-alertmanager`; with `basicAuth` its API asks for that user. */
export async function startAlertmanager(basicAuth?: { user: string; password: string }): Promise<AlertmanagerPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n');
  const args = [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, '--cluster.listen-address=', '--log.level=warn'];
  if (basicAuth) {
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  ${basicAuth.user}: ${JSON.stringify(bcrypt.hashSync(basicAuth.password, 4))}\n`);
    args.push(`--web.config.file=${join(dir, 'web.yml')}`);
  }
  const port = await freePort();
  args.push(`--web.listen-address=127.0.0.1:${port}`);
  const child: ChildProcess = spawn('prometheus-alertmanager', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const headers: Record<string, string> = basicAuth ? { authorization: `Basic ${Buffer.from(`${basicAuth.user}:${basicAuth.password}`).toString('base64')}` } : {};
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`, { headers })).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`alertmanager did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`, { headers });
      if (!res.ok) throw new Error(`GET /api/v2/alerts: HTTP ${res.status}`);
      return (await res.json()) as GettableAlert[];
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

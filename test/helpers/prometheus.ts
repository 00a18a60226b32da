/**
 * Starts Debian's real Prometheus on a loopback port with a temporary config and
 * data folder, and queries it through its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Prometheus. */
export interface PrometheusPeer {
  readonly url: string;
  /** Instant query; returns the `data.result` vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Waits until `expr` returns at least `min` series, or throws after `timeoutMs`. */
  waitFor(expr: string, min?: number, timeoutMs?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A Prometheus process answering on loopback. */
export interface LaunchedPrometheus {
  readonly url: string;
  /** The process id (the cost bench reads its /proc figures). */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` with a config file and a TSDB folder on a free loopback port and
 * waits until it is ready (or throws with its stderr).
 */
export async function launchPrometheus(configFile: string, dataDir: string, extraArgs: readonly string[] = []): Promise<LaunchedPrometheus> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** One scrape job for the temporary config. */
export interface ScrapeJob {
  readonly job: string;
  /** host:port targets. */
  readonly targets: readonly string[];
  /** @default '1s' */
  readonly interval?: string;
  readonly scheme?: 'http' | 'https';
  readonly extra?: string;
}

/** Starts Prometheus scraping the given jobs. */
export async function startPrometheus(jobs: readonly ScrapeJob[], extraArgs: readonly string[] = []): Promise<PrometheusPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-prom-'));
  const scrape = jobs
    .map((j) => `  - job_name: ${JSON.stringify(j.job)}\n    scrape_interval: ${j.interval ?? '1s'}\n    scrape_timeout: ${j.interval ?? '1s'}\n    scheme: ${j.scheme ?? 'http'}\n${j.extra ?? ''}    static_configs:\n      - targets: ${JSON.stringify(j.targets)}\n`)
    .join('');
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  evaluation_interval: 1s\nscrape_configs:\n${scrape}`);
  const prom = await launchPrometheus(join(dir, 'prometheus.yml'), join(dir, 'data'), extraArgs);
  const url = prom.url;
  const query = async (expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result;
  };
  return {
    url,
    query,
    async waitFor(expr, min = 1, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(expr);
        if (result.length >= min) return result;
        if (Date.now() > end) throw new Error(`${expr} returned ${result.length} series after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async stop() {
      await prom.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

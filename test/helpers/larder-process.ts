/**
 * Runs the built `larder` binary (dist/src/cli.js, built by `make test`) as a real
 * child process, the way a user starts it: as an executable, through its shebang.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled CLI. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** Throws with a hint when the CLI has not been built (by `npm run build`, which also makes it executable). */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "make build" (make test builds it first)`);
  try {
    accessSync(CLI, constants.X_OK);
  } catch {
    throw new Error(`${CLI} is not executable: build it with "make build" or "npm run build", not tsc alone`);
  }
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  assertBuilt();
  const r = spawnSync(CLI, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `larder serve`. */
export interface LarderProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything written to stderr so far (warnings and errors). */
  stderr(): string;
  /** Everything written to stdout so far (informational log lines). */
  stdout(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `larder serve` on the given port and waits until /healthz answers (sending
 * `readyHeaders`, e.g. credentials), for at most `readyTimeoutMs`.
 */
export async function startLarderProcess(port: number, args: string[] = [], env: Record<string, string> = {}, readyHeaders: Record<string, string> = {}, readyTimeoutMs = 60_000): Promise<LarderProcess> {
  assertBuilt();
  const child = spawn(CLI, ['serve', `--listen=127.0.0.1:${port}`, ...args], {
    env: { ...process.env, MONITORING_DB: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`larder exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`, { headers: readyHeaders })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`larder did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    stderr: () => stderr,
    stdout: () => stdout,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Helpers of the CLI tests: the built `larder` run as a child process, a free port, a temp folder. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { assertBuilt, CLI } from '../helpers/larder-process.js';

/** What a finished CLI run gave. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `larder …args` (no store unless env says so); `done` resolves when it exits. */
export function startCli(args: readonly string[], env: Record<string, string>, timeoutMs = 240_000): { child: ChildProcess; done: Promise<CliRun> } {
  assertBuilt();
  const child = spawn(CLI, [...args], { env: { ...process.env, LARDER_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Runs `larder …args` to completion. */
export function larder(args: readonly string[], env: Record<string, string>, timeoutMs?: number): Promise<CliRun> {
  return startCli(args, env, timeoutMs).done;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A temp folder removed after the test. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'larder-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a command in this process (same parsing, same exit code as the binary): fast for the many usage cases. */
export async function inProcess(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const { COMMANDS } = await import('../../src/cli/commands.js');
  const { runCommand } = await import('../../src/cli/run-command.js');
  const entry = COMMANDS.find((c) => c.name === args[0]);
  if (entry === undefined) throw new Error(`no command ${args[0]}`);
  let stdout = '';
  let stderr = '';
  const code = await runCommand(await entry.load(), args.slice(1), {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
  return { code, signal: null, stdout, stderr };
}

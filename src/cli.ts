#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 node
/**
 * The `larder` command. `larder serve` (the default) runs the exporter; every
 * configuration error exits with code 2 and a message naming the option.
 *
 * The shebang pins glibc's malloc trim threshold at its default, 128 KB, which turns
 * off its dynamic raise: V8 frees compiler zones and ArrayBuffers of up to ~1.3 MB,
 * each such free raised the threshold, and the malloc arenas of its threads then kept
 * freed memory: an idle `larder serve` grew to 84 MiB in 5 minutes, 77 to 78 MiB with the
 * threshold pinned, for the same CPU. glibc reads it before any JavaScript runs, so it
 * can only be set where the process starts (here, ecosystem.config.cjs, README).
 * GLIBC_TUNABLES=glibc.malloc.trim_threshold=N still wins over it.
 */
import './v8-tiering.js'; // first: it sets how soon V8 optimizes the code imported below
import { ConfigError, loadConfig, optionsHelp } from './config.js';
import { Logger } from './log.js';
import { startLarder } from './main.js';
import { redactSecrets } from './redact.js';
import { pinCronLocale } from './scheduler/cron-locale.js';
import { VERSION } from './version.js';
import { COMMANDS } from './cli/commands.js';

const USAGE = `Usage: larder <command> [options]

Commands:
  serve         collect metrics, serve them on /metrics and record them (default)
${COMMANDS.map((c) => `  ${c.name.padEnd(13)} ${c.summary}`).join('\n')}
  test rules FILE...
                run promtool-format rule unit tests with Larder's evaluator (docs/alerting.md)
  version       print the version

Run "larder <command> --help" for the options of a command.
Exit codes: 0 success, 1 the operation failed, 2 bad usage.
`;

async function serve(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`Usage: larder serve [options]\n\nEvery option can also be set by its environment variable (in brackets) or in the config file (--config.file) under its flag name.\n\n${optionsHelp()}\n`);
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`larder ${VERSION}\n`);
    return 0;
  }
  const { config, words } = loadConfig({ argv, env: process.env });
  if (words.length) throw new ConfigError(`unexpected argument ${JSON.stringify(words[0])}; larder serve takes only --options`);
  const log = new Logger(config.general.logLevel);
  pinCronLocale(); // this process is Larder's own
  const larder = await startLarder(config, log);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    larder.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err: err as Error });
        process.exit(1);
      },
    );
  };
  // SIGHUP reloads the rule files, as Prometheus does; bad ones are logged and the old kept
  process.on('SIGHUP', () => void larder.reload().catch((err: unknown) => log.error('reload failed', { err: err as Error })));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1; // keep running
}

/** `larder test rules FILE...`, as `promtool test rules`. */
async function testCommand(argv: string[]): Promise<number> {
  const [what, ...files] = argv;
  if (what !== 'rules' || files.length === 0 || files.some((f) => f.startsWith('-'))) {
    process.stderr.write('Usage: larder test rules FILE...\n');
    return 2;
  }
  const { testRules } = await import('./alerting/unit-test.js');
  return testRules(files, { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) });
}

/** Runs the CLI; returns the exit code, or -1 while a server keeps running. */
export async function runCli(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith('--')) {
    if (first === '--help' || first === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (first === '--version') return runCli(['version']);
    return serve(args);
  }
  switch (first) {
    case 'serve':
      return serve(rest);
    case 'version':
      process.stdout.write(`larder ${VERSION}\n`);
      return 0;
    case 'test':
      return testCommand(rest);
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default: {
      const command = COMMANDS.find((c) => c.name === first);
      if (command !== undefined) return (await import('./cli/run-command.js')).runCommand(await command.load(), rest);
      process.stderr.write(`larder: unknown command ${JSON.stringify(first)}\n\n${USAGE}`);
      return 2;
    }
  }
}

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`larder: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      // Known failures (store in use, newer schema, unreachable database) explain
      // themselves; the stack is for debugging only.
      const debug = process.env['LARDER_LOG_LEVEL'] === 'debug';
      process.stderr.write(`larder: ${redactSecrets(debug ? ((err as Error).stack ?? String(err)) : err instanceof Error ? err.message : String(err))}\n`);
      process.exitCode = 1;
    }
  },
);

/** Runs one operator command: --help, argument parsing, and errors turned into exit codes. */
import { redactSecrets } from '../redact.js';
import type { OutStream } from './output.js';
import { commandHelp, FailedError, interruptGuard, parseCommandArgs, UsageError, type Command } from './command.js';

/** Where a command reads its environment and writes; the process's own by default. */
export interface CommandIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Exit code of `larder <c.name> …argv`: 0 done, 1 failed, 2 bad usage. */
export async function runCommand(c: Command, argv: readonly string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const { stdout, stderr, env } = io;
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout.write(commandHelp(c));
    return 0;
  }
  // SQLite statements run synchronously on this thread, so a signal handled here lands
  // between statements, when no lock is held: exit then, not mid-statement.
  const interrupted = (signal: NodeJS.Signals): void => {
    stderr.write(`\nlarder ${c.name}: interrupted (${signal}); what was done so far stays done\n`);
    void Promise.resolve(interruptGuard.wait?.()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { flags, words, config } = parseCommandArgs(c, argv, env);
    return await c.run({ flags, words, config, stdout, stderr });
  } catch (e) {
    const msg = redactSecrets(e instanceof Error ? e.message : String(e));
    if (e instanceof UsageError) {
      stderr.write(`larder ${c.name}: ${msg}\nRun "larder ${c.name} --help" for its usage.\n`);
      return 2;
    }
    const debug = env['LARDER_LOG_LEVEL'] === 'debug' && e instanceof Error && !(e instanceof FailedError);
    stderr.write(`larder ${c.name}: ${debug ? redactSecrets(e.stack ?? msg) : msg}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

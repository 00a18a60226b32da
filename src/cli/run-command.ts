/** Runs one operator command: --help, argument parsing, and errors turned into exit codes. */
import { redactSecrets } from '../redact.js';
import { commandHelp, FailedError, interruptGuard, parseCommandArgs, UsageError, type Command } from './command.js';

/** Exit code of `larder <c.name> …argv`: 0 done, 1 failed, 2 bad usage. */
export async function runCommand(c: Command, argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(commandHelp(c));
    return 0;
  }
  // SQLite statements run synchronously on this thread, so a signal handled here lands
  // between statements, when no lock is held: exit then, not mid-statement.
  const interrupted = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nlarder ${c.name}: interrupted (${signal}); what was done so far stays done\n`);
    void Promise.resolve(interruptGuard.wait?.()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { flags, words, config } = parseCommandArgs(c, argv, process.env);
    return await c.run({ flags, words, config, stdout: process.stdout, stderr: process.stderr });
  } catch (e) {
    const msg = redactSecrets(e instanceof Error ? e.message : String(e));
    if (e instanceof UsageError) {
      process.stderr.write(`larder ${c.name}: ${msg}\nRun "larder ${c.name} --help" for its usage.\n`);
      return 2;
    }
    const debug = process.env['LARDER_LOG_LEVEL'] === 'debug' && e instanceof Error && !(e instanceof FailedError);
    process.stderr.write(`larder ${c.name}: ${debug ? redactSecrets(e.stack ?? msg) : msg}\n`);
    return 1;
  }
}

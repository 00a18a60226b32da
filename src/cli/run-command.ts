/** Runs one operator command: --help, argument parsing, and errors turned into exit codes. */
import { redactSecrets } from '../redact.js';
import { commandHelp, FailedError, parseCommandArgs, UsageError, type Command } from './command.js';

/** Exit code of `larder <c.name> …argv`: 0 done, 1 failed, 2 bad usage. */
export async function runCommand(c: Command, argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(commandHelp(c));
    return 0;
  }
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

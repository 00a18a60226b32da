/**
 * The `larder <command> --help` texts, from the command table (src/cli/commands.ts), so a
 * command added there appears here at the next `make docs-reference`.
 */
import { COMMANDS } from '../../src/cli/commands.js';
import { commandHelp } from '../../src/cli/command.js';

/** The generated block of docs/cli.md. */
export async function cliReference(): Promise<string> {
  const out: string[] = [];
  for (const entry of COMMANDS) {
    const command = await entry.load();
    out.push(`### larder ${entry.name}`, '', `${entry.summary}.`, '', '```text', commandHelp(command).trimEnd(), '```', '');
  }
  return out.join('\n');
}

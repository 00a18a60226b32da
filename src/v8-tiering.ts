/**
 * How soon V8 optimizes a function in the `larder` command (imported first by cli.ts).
 *
 * An idle `larder serve` runs short bursts of code every 15 to 60 seconds: collectors,
 * the recorder, the rules, the SQLite worker. With V8's default interrupt budget those
 * bursts keep reaching the budget and send function after function to TurboFan, whose
 * compiles ran on V8's helper threads for about 40 % of the process' CPU in its first
 * minutes (perf record, docs/cost.md "V8's tier-up budget"). A budget ten times the
 * default lets seldom-run code stay on the interpreter and baseline code; a hot loop
 * (a query over a million samples) still reaches it within its first milliseconds.
 *
 * It is the command's setting, not the library's: `createLarder` in a user's service
 * leaves that process' V8 as its owner set it. A budget given on the command line or in
 * NODE_OPTIONS wins.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's interrupt budget for the command: ten times V8 11's default of 67,584. */
export const INTERRUPT_BUDGET = 675_840;

/** Whether node was started with an interrupt budget of its own. */
function budgetGiven(): boolean {
  return [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((a) => /--interrupt[-_]budget(=|\s|$)/.test(a));
}

// Process-wide and read when a function's feedback is set up, so it takes effect for
// the code that runs after this module, in the main thread and in workers started later.
if (!budgetGiven()) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);

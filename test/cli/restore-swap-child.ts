/**
 * Child process of restore-crash.test.ts: swaps the copy argv[2] in place of the store
 * argv[3] as `larder restore` does, and at step argv[4] announces `PAUSED <step>` and
 * sleeps (synchronously, inside the lock) so the parent can SIGKILL it there.
 */
import { writeSync } from 'node:fs';
import { swapIntoPlace, type SwapStep } from '../../src/cli/backup.js';

const [tmp, target, pauseAt] = process.argv.slice(2) as [string, string, SwapStep];
swapIntoPlace(tmp, target, (step) => {
  if (step !== pauseAt) return;
  writeSync(1, `PAUSED ${step}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
writeSync(1, 'DONE\n');

/**
 * The worker thread that runs bcrypt comparisons for src/web-auth.ts. bcrypt costs
 * 50-100 ms by design; on the main thread (bcryptjs, even its async form, which runs
 * in chunks there) a flood of wrong passwords starved every other request.
 * Comparisons run one at a time, in order, as exporter-toolkit serialises them.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

/** A comparison to run. */
export interface BcryptRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

/** Its answer; `ok` false also for a malformed hash. */
export interface BcryptReply {
  readonly id: number;
  readonly ok: boolean;
}

const port = parentPort;
if (port !== null) {
  // On Linux the nice value is per thread: password guesses yield the CPU to the thread
  // serving /metrics instead of competing with it (best effort; ignored where refused).
  try {
    setPriority(10);
  } catch {
    // not permitted here: run at the process' priority
  }
  port.on('message', (r: BcryptRequest) => {
    let ok = false;
    try {
      ok = bcrypt.compareSync(r.password, r.hash);
    } catch {
      ok = false;
    }
    port.postMessage({ id: r.id, ok } satisfies BcryptReply);
  });
}

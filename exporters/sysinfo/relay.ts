/**
 * A worker thread that starts the systeminformation helper process and relays
 * messages both ways. Starting a process blocks the starting thread until the child
 * has exec'd (libuv waits for it): measured 56-140 ms on the loaded test machine when
 * the main thread did it. From here it blocks only this thread; the main thread then
 * only posts and receives small messages.
 */
import { fork } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { RELAY_STOP } from './protocol.js';

/** What the relay is given. */
export interface RelayData {
  readonly helperPath: string;
  readonly execArgv: readonly string[];
}

const isStop = (m: unknown): boolean => typeof m === 'object' && m !== null && (m as Partial<typeof RELAY_STOP>).relayStop === true;

const port = parentPort;
if (port !== null) {
  const data = workerData as RelayData;
  const child = fork(data.helperPath, [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
    execArgv: [...data.execArgv],
  });
  child.on('message', (m: unknown) => port.postMessage(m));
  child.on('error', (e) => port.postMessage({ relayError: e.message }));
  // The helper gone: end this thread too, so the main side sees the exit and starts afresh
  // next time. Only after 'exit': the thread's loop is what reaps the child, and a thread
  // ended before that leaves it a zombie of Larder's process for as long as Larder runs.
  child.on('exit', () => process.exit(0));
  port.on('message', (m: unknown) => {
    if (isStop(m)) child.kill();
    else if (child.connected) child.send(m as object);
  });
  // the main side's port closed: end the helper with it
  port.on('close', () => child.kill());
}

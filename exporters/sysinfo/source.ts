/**
 * The main thread's side of the systeminformation worker: one worker per registry,
 * started on first use and ended when its last user lets go; a host sample is shared
 * by the fallback collectors that update together (one reading, not five).
 */
import type { Registry } from 'prom-client';
import { Worker } from 'node:worker_threads';
import type { HostInventory, HostSample, SysinfoReply, SysinfoRequest } from './protocol.js';

/** A sample younger than this is handed out again instead of reading a new one, ms. */
const SHARE_MS = 2000;
/** A request unanswered after this long fails (the worker keeps going; its late answer is dropped), ms. */
const REQUEST_TIMEOUT_MS = 30_000;

function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

/** The worker of one registry's collectors. */
export class SysinfoSource {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: HostSample | HostInventory) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private users = 0;
  private last: { at: number; sample: Promise<HostSample> } | undefined;
  private inventoryRead: Promise<HostInventory> | undefined;

  /** Registers a user; call `release()` when done. */
  acquire(): void {
    this.users++;
  }

  /** A user is done; the worker ends with the last one. */
  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) this.stop();
  }

  /** A host sample, shared with the other callers of the last SHARE_MS. */
  sample(): Promise<HostSample> {
    const now = performance.now();
    if (this.last && now - this.last.at < SHARE_MS) return this.last.sample;
    const sample = this.request('sample') as Promise<HostSample>;
    this.last = { at: now, sample };
    sample.catch(() => {
      if (this.last?.sample === sample) this.last = undefined;
    });
    return sample;
  }

  /** The inventory, read once (again only after a failure). */
  inventory(): Promise<HostInventory> {
    if (!this.inventoryRead) {
      const read = this.request('inventory') as Promise<HostInventory>;
      this.inventoryRead = read;
      read.catch(() => {
        if (this.inventoryRead === read) this.inventoryRead = undefined;
      });
    }
    return this.inventoryRead;
  }

  private request(op: SysinfoRequest['op']): Promise<HostSample | HostInventory> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`systeminformation ${op}: no answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, op } satisfies SysinfoRequest);
    });
  }

  private start(): Worker {
    // Under the tests' TypeScript loader, transpile only: type-checking the worker again costs seconds.
    const env = workerUrl().pathname.endsWith('.ts') ? { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } } : {};
    const worker = new Worker(workerUrl(), { resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 }, ...env });
    // never keeps the process alive: a pending request has its own (unref'd) timeout
    worker.unref();
    worker.on('message', (r: SysinfoReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`systeminformation: ${r.error}`));
    });
    const fail = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`systeminformation worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    this.last = undefined;
    void w?.terminate();
  }
}

const sources = new WeakMap<Registry, SysinfoSource>();

/** The source shared by the collectors of `registry`. */
export function sysinfoSource(registry: Registry): SysinfoSource {
  let s = sources.get(registry);
  if (!s) {
    s = new SysinfoSource();
    sources.set(registry, s);
  }
  return s;
}

/**
 * Larder's side of the systeminformation helper process (see helper.ts for why a
 * process): one per registry, started on first use and ended when its last user lets
 * go; a host sample is shared by the fallback collectors that update together (one
 * reading, not five).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RelayData } from './relay.js';
import type { Registry } from 'prom-client';
import { RELAY_STOP, type HostInventory, type SampleLayout, type ShapedSample, type SysinfoReady, type SysinfoReply, type SysinfoRequest } from './protocol.js';

/** A host sample as the collectors read it: the label sets (the same object while they do not change) and the numbers in their order (protocol.ts). */
export interface HostReading {
  readonly layout: SampleLayout;
  readonly values: Float64Array;
  /** Parts that failed, with their cause. */
  readonly errors: Readonly<Record<string, string>>;
}

/** A sample younger than this is handed out again instead of reading a new one, ms. */
const SHARE_MS = 2000;
/** A request unanswered this long after the helper is ready fails (its late answer is dropped), ms. */
const REQUEST_TIMEOUT_MS = 30_000;
/** The helper not ready after this long is given up (from the tests' TypeScript sources it took 8-30 s on a loaded machine; from dist/ about 0.1 s), ms. */
const START_TIMEOUT_MS = 180_000;
/** A relay thread that has not ended its helper this long after being let go is terminated, ms. */
const STOP_TIMEOUT_MS = 5_000;

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

function helperPath(): string {
  return fileURLToPath(new URL(`./helper${EXT}`, import.meta.url));
}

/** The helper of one registry's collectors. */
export class SysinfoSource {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { op: SysinfoRequest['op']; resolve: (v: ShapedSample | HostInventory) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout }>();
  /** The label sets last received from the helper, and its id there (0: none yet). */
  private layout: SampleLayout | undefined;
  private layoutId = 0;
  private ready = false;
  private users = 0;
  private last: { at: number; sample: Promise<HostReading> } | undefined;
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
  sample(): Promise<HostReading> {
    const now = performance.now();
    if (this.last && now - this.last.at < SHARE_MS) return this.last.sample;
    const sample = (this.request('sample') as Promise<ShapedSample>).then((r) => this.reading(r));
    this.last = { at: now, sample };
    sample.catch(() => {
      if (this.last?.sample === sample) this.last = undefined;
    });
    return sample;
  }

  /** A shaped sample with its label sets (received now or kept from an earlier answer). */
  private reading(r: ShapedSample): HostReading {
    if (r.labels) {
      this.layout = r.labels;
      this.layoutId = r.layout;
    } else if (r.layout !== this.layoutId || this.layout === undefined) {
      // not expected (the request names the layout it knows); the next request asks for the labels
      this.layoutId = 0;
      throw new Error(`systeminformation: a sample in layout ${r.layout} came without its labels`);
    }
    return { layout: this.layout, values: r.values, errors: r.errors };
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

  private request(op: SysinfoRequest['op']): Promise<ShapedSample | HostInventory> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
      if (this.ready) this.arm(id);
      // held open only while an answer is awaited, as a socket with a request in flight
      if (this.pending.size === 1) worker.ref();
      worker.postMessage((op === 'sample' ? { id, op, layout: this.layoutId } : { id, op }) satisfies SysinfoRequest);
    });
  }

  /** Starts the answer timeout of a request (once the helper is ready: its start is bounded apart). */
  private arm(id: number, ms = REQUEST_TIMEOUT_MS, what = 'no answer'): void {
    const p = this.pending.get(id);
    if (!p || p.timer) return;
    p.timer = setTimeout(() => {
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker?.unref();
      p.reject(new Error(`systeminformation ${p.op}: ${what} within ${ms} ms`));
    }, ms);
    p.timer.unref();
  }

  /** Started processes so far (for tests: a sample must not start one each time). */
  starts = 0;

  private start(): Worker {
    const ts = EXT === '.ts';
    // Under the tests' TypeScript loader the relay and the helper inherit it; transpile only, type-checking again costs seconds.
    const env = ts ? { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } } : {};
    const data: RelayData = {
      helperPath: helperPath(),
      execArgv: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), '--max-old-space-size=64'],
    };
    // a small heap: it only relays (the TypeScript loader of the tests needs more)
    const limits = ts ? {} : { resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } };
    const worker = new Worker(new URL(`./relay${EXT}`, import.meta.url), { workerData: data, ...limits, ...env });
    this.starts++;
    this.ready = false;
    // a new helper counts its layouts afresh
    this.layout = undefined;
    this.layoutId = 0;
    // never keeps Larder alive: held only while an answer is awaited
    worker.unref();
    const startTimer = setTimeout(() => {
      fail(new Error(`systeminformation helper not ready within ${START_TIMEOUT_MS} ms`));
      void worker.terminate();
    }, START_TIMEOUT_MS);
    startTimer.unref();
    worker.on('message', (r: SysinfoReply | SysinfoReady | { relayError: string }) => {
      if ('relayError' in r) return fail(new Error(`systeminformation helper: ${r.relayError}`));
      if ('ready' in r) {
        clearTimeout(startTimer);
        this.ready = true;
        for (const id of this.pending.keys()) this.arm(id);
        return;
      }
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (this.pending.size === 0) worker.unref();
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`systeminformation: ${r.error}`));
    });
    const fail = (e: Error): void => {
      clearTimeout(startTimer);
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`systeminformation helper ended (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    this.last = undefined;
    if (!w) return;
    // The relay ends the helper and exits once it has reaped it (terminating the relay
    // first would leave the helper a zombie); terminated only if that takes too long.
    w.postMessage(RELAY_STOP);
    const kill = setTimeout(() => void w.terminate(), STOP_TIMEOUT_MS);
    kill.unref();
    w.once('exit', () => clearTimeout(kill));
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

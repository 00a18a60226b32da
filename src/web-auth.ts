/**
 * Request authentication as Prometheus' exporter web config does it: HTTP basic auth
 * against bcrypt hashes, or a bearer token. bcrypt costs 50-100 ms by design, so, as
 * exporter-toolkit does:
 * - outcomes are cached, keyed by a SHA-256 of user, password and hash (a scraper
 *   sends the same credentials every few seconds; the cache is bounded);
 * - an unknown user costs the same bcrypt work as a known one (compared against a
 *   configured hash, the answer discarded), so timing tells no user names;
 * - bcrypt runs on a worker thread, never on the thread that serves /metrics;
 * - at most `maxPending` comparisons wait or run: past that a request is answered
 *   `busy` at once (the server sends 429) instead of queueing without end.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { BcryptReply, BcryptRequest } from './bcrypt-worker.js';
import type { WebAuthConfig } from './options/web-auth.js';

/** The answer to one Authorization header. */
export type AuthOutcome = 'ok' | 'denied' | 'busy';

/** Tuning of the authenticator. */
export interface AuthenticatorOptions {
  /** Most bcrypt comparisons waiting or running at once; more are answered `busy`. @default 4 */
  readonly maxPending?: number;
  /** Outcomes kept (accepted and refused each), oldest dropped first. @default 1024 */
  readonly cacheSize?: number;
}

/** The worker module: the .ts sibling under a TypeScript loader (tests), else the .js. */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './bcrypt-worker.ts' : './bcrypt-worker.js', import.meta.url);
}

/** One worker thread running comparisons in order; started on first use, never keeps the process alive. */
class BcryptThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();

  /** Comparisons not yet answered. */
  get size(): number {
    return this.pending.size;
  }

  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, password, hash } satisfies BcryptRequest);
    });
  }

  private start(): Worker {
    // Under the tests' TypeScript loader, transpile only: type-checking the worker again costs seconds.
    const env = workerUrl().pathname.endsWith('.ts') ? { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } } : {};
    const worker = new Worker(workerUrl(), { resourceLimits: { maxYoungGenerationSizeMb: 4 }, ...env });
    worker.unref();
    worker.on('message', (r: BcryptReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      p?.resolve(r.ok);
    });
    const fail = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`bcrypt worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

/** Decides whether a request's Authorization header is accepted. */
export class Authenticator {
  // outcomes by credentials; failures apart, so a flood of wrong passwords cannot push a scraper's success out
  private readonly accepted = new Map<string, true>();
  private readonly refused = new Map<string, true>();
  private readonly bcrypt = new BcryptThread();
  private readonly maxPending: number;
  private readonly cacheSize: number;
  // an unknown user's password is checked against this, so it costs what a known user's does
  private readonly decoyHash: string | undefined;

  constructor(
    private readonly auth: WebAuthConfig,
    private readonly bearerToken: string | undefined,
    options: AuthenticatorOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 4;
    this.cacheSize = options.cacheSize ?? 1024;
    this.decoyHash = Object.values(auth.basicAuthUsers)[0];
  }

  /** True when neither basic auth nor a token is configured. */
  get open(): boolean {
    return Object.keys(this.auth.basicAuthUsers).length === 0 && this.token === undefined;
  }

  /** `WWW-Authenticate` value for a 401. */
  get challenge(): string {
    return Object.keys(this.auth.basicAuthUsers).length > 0 ? 'Basic realm="larder", charset="UTF-8"' : 'Bearer realm="larder"';
  }

  private get token(): string | undefined {
    return this.bearerToken ?? this.auth.bearerToken;
  }

  /** Checks an Authorization header value; `busy` when too many bcrypt comparisons are already waiting. */
  async verify(header: string | undefined): Promise<AuthOutcome> {
    if (this.open) return 'ok';
    if (!header) return 'denied';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    const token = this.token;
    if (scheme === 'bearer' && token !== undefined) return safeEqual(value, token) ? 'ok' : 'denied';
    if (scheme !== 'basic' || this.decoyHash === undefined) return 'denied';
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'denied';
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const known = Object.hasOwn(this.auth.basicAuthUsers, user);
    const hash = known ? this.auth.basicAuthUsers[user]! : this.decoyHash;
    const key = createHash('sha256').update(`${user.length}:${user}\0${hash}\0${password}`).digest('hex');
    if (this.accepted.has(key)) return 'ok';
    if (this.refused.has(key)) return 'denied';
    if (this.bcrypt.size >= this.maxPending) return 'busy';
    let match: boolean;
    try {
      match = await this.bcrypt.compare(password, hash);
    } catch {
      return 'denied'; // the worker died; the next request starts a new one
    }
    const ok = known && match;
    remember(ok ? this.accepted : this.refused, key, this.cacheSize);
    return ok ? 'ok' : 'denied';
  }

  /** Checks an Authorization header value; false when denied or busy. */
  async check(header: string | undefined): Promise<boolean> {
    return (await this.verify(header)) === 'ok';
  }

  /** Stops the bcrypt worker (it never keeps the process alive, so this is optional). */
  close(): Promise<void> {
    return this.bcrypt.close();
  }

}

/** Adds a key to a bounded cache, dropping the oldest when full. */
function remember(cache: Map<string, true>, key: string, size: number): void {
  if (cache.size >= size) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(key, true);
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * One coherent view of a service run as several instances (PM2 cluster mode, node
 * `cluster` workers, worker threads), without PM2 or IPC: instance N serves its own
 * registry as JSON on 127.0.0.1:(portBase + N), and whichever instance receives a
 * scrape collects its own snapshot, asks every peer in parallel with a bounded wait,
 * and merges. A peer that does not answer in time is named
 * (`larder_cluster_instance_up{app_instance="2"} 0`), so the scrape is partial, not
 * failed, and its summed counters and histograms count with its last values heard,
 * so the sums never go down. Since any instance may answer a scrape (PM2 shares the
 * port), the one answering also asks the peers that did answer for their memory of the
 * missing one and takes the newest: the previous scrape's answerer may have heard it later.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { MetricFamily } from '../../exporters/metric-family.js';
import type { Snapshot } from '../exposition/snapshot.js';
import { mergeInstances, type AggregationMode, type InstanceFamilies } from './aggregate.js';
import { Contributions, monotonicFamilies, type Contribution } from './contributions.js';
import { decodeSnapshot, encodeSnapshot } from './wire.js';

/** Path of the peer endpoint. */
export const PEER_PATH = '/larder/cluster/snapshot';
/** Path of an instance's memory of peer N's last contribution: `${REMEMBERED_PATH}N`. */
export const REMEMBERED_PATH = '/larder/cluster/remembered/';
/** Prefix of the query API's paths on instance 0's peer endpoint (api-forward.ts): `${API_PREFIX}/api/v1/query`, … */
export const API_PREFIX = '/larder/cluster';

/** How the instances find each other. */
export interface ClusterOptions {
  /** How many instances there are (ids 0 … instances-1). */
  readonly instances: number;
  /** This instance's id. */
  readonly instanceId: number;
  /** Instance N listens for its peers on `host:(portBase + N)`. @default 9470 */
  readonly portBase: number;
  /** Longest wait (ms) for the peers during a scrape. @default 2000 */
  readonly timeout: number;
  /** Label naming the instance on metrics kept per instance. @default 'app_instance' */
  readonly label: string;
  /** Metric name → how it is merged. @default {} (sum counters and histograms, label the rest) */
  readonly aggregation?: Readonly<Record<string, AggregationMode>>;
  /** Loopback address of the peer endpoints. @default '127.0.0.1' */
  readonly host?: string;
  /** The clock (epoch ms); instances share one host, so one clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Serves the requests under `${API_PREFIX}/api/v1` on the peer endpoint (instance 0: the query
   * API the other instances forward to, see api-forward.ts). @default none (404)
   */
  readonly api?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
}

/** A merged snapshot, with the instances that did not answer. */
export interface ClusterSnapshot extends Snapshot {
  /** Ids of the instances left out, with why. */
  readonly missing: { instance: string; reason: string }[];
}

/** Checks cluster options; throws naming the bad one. */
export function validateClusterOptions(o: ClusterOptions): void {
  if (!Number.isSafeInteger(o.instances) || o.instances < 1) throw new Error(`cluster.instances must be an integer >= 1, got ${o.instances}`);
  if (!Number.isSafeInteger(o.instanceId) || o.instanceId < 0 || o.instanceId >= o.instances) {
    throw new Error(`cluster.instance-id must be from 0 to ${o.instances - 1} (cluster.instances ${o.instances}), got ${o.instanceId}`);
  }
  if (!Number.isSafeInteger(o.portBase) || o.portBase < 1 || o.portBase + o.instances - 1 > 65535) {
    throw new Error(`cluster.port-base ${o.portBase} + ${o.instances} instances runs past port 65535`);
  }
}

/** Largest contribution a peer may push with its question. */
const MAX_CONTRIBUTION_BYTES = 16 * 1024 * 1024;

/** The request body as text; rejects past `limit` bytes. */
function readBounded(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error(`contribution over ${limit} bytes`));
        return;
      }
      parts.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.once('error', reject);
  });
}

/** The cluster view of one instance. */
export class ClusterView {
  private server: Server | undefined;
  private readonly host: string;
  private readonly now: () => number;
  private readonly contributions: Contributions;

  constructor(
    /** Collects this instance's own registry. */
    private readonly collectLocal: (include?: (name: string) => boolean) => Promise<Snapshot>,
    readonly options: ClusterOptions,
  ) {
    validateClusterOptions(options);
    this.host = options.host ?? '127.0.0.1';
    this.now = options.now ?? Date.now;
    this.contributions = new Contributions(options.aggregation ?? {});
  }

  /** This instance's id as a label value. */
  get instance(): string {
    return String(this.options.instanceId);
  }

  /** Starts the peer endpoint; fails (naming the port) when the port is taken. */
  async start(): Promise<void> {
    if (this.server) return;
    const port = this.options.portBase + this.options.instanceId;
    const api = this.options.api;
    const server = createServer((req, res) => {
      if (api && (req.url === `${API_PREFIX}/api/v1` || req.url?.startsWith(`${API_PREFIX}/api/v1/`) || req.url?.startsWith(`${API_PREFIX}/api/v1?`))) {
        api(req, res);
        return;
      }
      if (req.method === 'GET' && req.url?.startsWith(REMEMBERED_PATH)) {
        const id = req.url.slice(REMEMBERED_PATH.length);
        const c = /^\d{1,5}$/.test(id) ? this.contributions.of(id) : undefined;
        if (c) res.writeHead(200, { 'Content-Type': 'application/json' }).end(encodeSnapshot(id, c.families, c.atMs));
        else res.writeHead(404).end();
        return;
      }
      if ((req.method !== 'GET' && req.method !== 'POST') || req.url !== PEER_PATH) {
        res.writeHead(404).end();
        return;
      }
      const answer = (): void => {
        this.collectLocal().then(
          (snap) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(encodeSnapshot(this.instance, snap.families)),
          (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
        );
      };
      if (req.method === 'GET') {
        answer();
        return;
      }
      // POST: the asking peer's own contribution comes with the question.
      readBounded(req, MAX_CONTRIBUTION_BYTES).then(
        (body) => {
          this.hearPushed(body);
          answer();
        },
        (err: Error) => res.writeHead(413, { 'Content-Type': 'text/plain' }).end(err.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cluster: instance ${this.instance} cannot listen on ${this.host}:${port} (cluster.port-base ${this.options.portBase} + ${this.instance}): ${err.code ?? err.message}`)));
      server.listen(port, this.host, () => resolve());
    });
    server.unref();
    this.server = server;
  }

  /** Closes the peer endpoint. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Keeps what an asking peer pushed (its own monotonic families); a malformed push is ignored. */
  private hearPushed(body: string): void {
    try {
      const snap = decodeSnapshot(body);
      const id = Number(snap.instance);
      if (snap.atMs === undefined || !Number.isSafeInteger(id) || id < 0 || id >= this.options.instances || snap.instance !== String(id) || snap.instance === this.instance) return;
      if (this.fromTheFuture(snap.atMs)) return;
      this.contributions.offer(snap.instance, { atMs: snap.atMs, families: snap.families });
    } catch {
      // not a contribution: answer anyway, remember nothing
    }
  }

  /** A time too far ahead of this clock would pin a memory forever (newest wins): refused. */
  private fromTheFuture(atMs: number): boolean {
    return atMs > this.now() + 60_000;
  }

  private peerUrl(id: number, path: string): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.options.portBase + id}${path}`;
  }

  /** Peer `id`'s snapshot; `push` (this instance's contribution) goes with the question. */
  private async fetchPeer(id: number, push: string | undefined): Promise<InstanceFamilies> {
    const signal = AbortSignal.timeout(this.options.timeout);
    const res = await fetch(this.peerUrl(id, PEER_PATH), push === undefined ? { signal } : { signal, method: 'POST', body: push, headers: { 'Content-Type': 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const snap = decodeSnapshot(await res.text());
    if (snap.instance !== String(id)) throw new Error(`answered as instance ${snap.instance}`);
    return snap;
  }

  /** Peer `from`'s memory of instance `of`, if it has one; undefined on any failure. */
  private async fetchRemembered(from: number, of: string, timeoutMs: number): Promise<Contribution | undefined> {
    try {
      const res = await fetch(this.peerUrl(from, `${REMEMBERED_PATH}${of}`), { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) return undefined;
      const snap = decodeSnapshot(await res.text());
      return snap.instance === of && snap.atMs !== undefined && !this.fromTheFuture(snap.atMs) ? { atMs: snap.atMs, families: snap.families } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The newest known contribution of each missing instance: this instance's memory, or
   * an answering peer's (asked in parallel, for at most min(timeout, 1 s)).
   */
  private async rememberedOf(missing: readonly string[], answered: readonly number[]): Promise<Map<string, Contribution>> {
    const wait = Math.min(this.options.timeout, 1000);
    await Promise.all(
      missing.flatMap((of) =>
        answered.map(async (from) => {
          const c = await this.fetchRemembered(from, of, wait);
          if (c) this.contributions.offer(of, c);
        }),
      ),
    );
    const out = new Map<string, Contribution>();
    for (const id of missing) {
      const c = this.contributions.of(id);
      if (c) out.set(id, c);
    }
    return out;
  }

  /** Own snapshot merged with every peer that answers within the timeout. Never rejects because of a peer. */
  async collect(include?: (name: string) => boolean): Promise<ClusterSnapshot> {
    const peers: number[] = [];
    for (let i = 0; i < this.options.instances; i++) if (i !== this.options.instanceId) peers.push(i);
    // This instance's own values first: they go to every peer with the question, so a
    // peer answering a later scrape knows them even if this instance is then missing.
    const local = await this.collectLocal(include);
    const push = include ? undefined : encodeSnapshot(this.instance, monotonicFamilies(local.families, this.options.aggregation ?? {}), this.now());
    const answers = await Promise.all(peers.map((id) => this.fetchPeer(id, push).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }))));
    const heardAt = this.now();
    const instances: InstanceFamilies[] = [{ instance: this.instance, families: local.families }];
    const missing: { instance: string; reason: string }[] = [];
    const up: { labels: Record<string, string>; value: number; name: string }[] = [{ name: 'larder_cluster_instance_up', labels: { [this.options.label]: this.instance }, value: 1 }];
    answers.forEach((a, i) => {
      const id = String(peers[i]);
      if (a.ok) {
        this.contributions.heard(id, a.v.families, heardAt);
        instances.push({ instance: id, families: include ? a.v.families.filter((f) => include(f.name)) : a.v.families });
      } else {
        const err = a.e as Error;
        missing.push({ instance: id, reason: err.name === 'TimeoutError' ? `no answer within ${this.options.timeout} ms` : (err.cause as Error | undefined)?.message ?? err.message });
      }
      up.push({ name: 'larder_cluster_instance_up', labels: { [this.options.label]: id }, value: a.ok ? 1 : 0 });
    });
    if (missing.length > 0) {
      const remembered = await this.rememberedOf(
        missing.map((m) => m.instance),
        peers.filter((_, i) => answers[i]!.ok),
      );
      for (const [id, c] of remembered) instances.push({ instance: id, families: include ? c.families.filter((f) => include(f.name)) : c.families });
    }
    instances.sort((a, b) => Number(a.instance) - Number(b.instance));
    const families: MetricFamily[] = mergeInstances(instances, { label: this.options.label, modes: this.options.aggregation ?? {} });
    if (!include || include('larder_cluster_instance_up')) {
      families.push({ name: 'larder_cluster_instance_up', help: 'Whether an instance of the cluster answered this scrape (1) or was left out of it (0).', type: 'gauge', samples: up });
    }
    return { families, errors: local.errors, missing };
  }
}

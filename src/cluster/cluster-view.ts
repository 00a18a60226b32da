/**
 * One coherent view of a service run as several instances (PM2 cluster mode, node
 * `cluster` workers, worker threads), without PM2 or IPC: instance N serves its own
 * registry as JSON on 127.0.0.1:(portBase + N), and whichever instance receives a
 * scrape collects its own snapshot, asks every peer in parallel with a bounded wait,
 * and merges. A peer that does not answer in time is left out and named
 * (`larder_cluster_instance_up{app_instance="2"} 0`), so the scrape is partial, not failed.
 */
import { createServer, type Server } from 'node:http';
import type { MetricFamily } from '../../exporters/metric-family.js';
import type { Snapshot } from '../exposition/snapshot.js';
import { mergeInstances, type AggregationMode, type InstanceFamilies } from './aggregate.js';
import { decodeSnapshot, encodeSnapshot } from './wire.js';

/** Path of the peer endpoint. */
export const PEER_PATH = '/larder/cluster/snapshot';

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

/** The cluster view of one instance. */
export class ClusterView {
  private server: Server | undefined;
  private readonly host: string;

  constructor(
    /** Collects this instance's own registry. */
    private readonly collectLocal: (include?: (name: string) => boolean) => Promise<Snapshot>,
    readonly options: ClusterOptions,
  ) {
    validateClusterOptions(options);
    this.host = options.host ?? '127.0.0.1';
  }

  /** This instance's id as a label value. */
  get instance(): string {
    return String(this.options.instanceId);
  }

  /** Starts the peer endpoint; fails (naming the port) when the port is taken. */
  async start(): Promise<void> {
    if (this.server) return;
    const port = this.options.portBase + this.options.instanceId;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== PEER_PATH) {
        res.writeHead(404).end();
        return;
      }
      this.collectLocal().then(
        (snap) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(encodeSnapshot(this.instance, snap.families)),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
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

  private async fetchPeer(id: number): Promise<InstanceFamilies> {
    const url = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.options.portBase + id}${PEER_PATH}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeout) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const snap = decodeSnapshot(await res.text());
    if (snap.instance !== String(id)) throw new Error(`answered as instance ${snap.instance}`);
    return snap;
  }

  /** Own snapshot merged with every peer that answers within the timeout. Never rejects because of a peer. */
  async collect(include?: (name: string) => boolean): Promise<ClusterSnapshot> {
    const peers: number[] = [];
    for (let i = 0; i < this.options.instances; i++) if (i !== this.options.instanceId) peers.push(i);
    const [local, ...answers] = await Promise.all([this.collectLocal(include), ...peers.map((id) => this.fetchPeer(id).then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })))]);
    const instances: InstanceFamilies[] = [{ instance: this.instance, families: local.families }];
    const missing: { instance: string; reason: string }[] = [];
    const up: { labels: Record<string, string>; value: number; name: string }[] = [{ name: 'larder_cluster_instance_up', labels: { [this.options.label]: this.instance }, value: 1 }];
    answers.forEach((a, i) => {
      const id = String(peers[i]);
      if (a.ok) {
        instances.push({ instance: id, families: include ? a.v.families.filter((f) => include(f.name)) : a.v.families });
      } else {
        const err = a.e as Error;
        missing.push({ instance: id, reason: err.name === 'TimeoutError' ? `no answer within ${this.options.timeout} ms` : (err.cause as Error | undefined)?.message ?? err.message });
      }
      up.push({ name: 'larder_cluster_instance_up', labels: { [this.options.label]: id }, value: a.ok ? 1 : 0 });
    });
    instances.sort((a, b) => Number(a.instance) - Number(b.instance));
    const families: MetricFamily[] = mergeInstances(instances, { label: this.options.label, modes: this.options.aggregation ?? {} });
    if (!include || include('larder_cluster_instance_up')) {
      families.push({ name: 'larder_cluster_instance_up', help: 'Whether an instance of the cluster answered this scrape (1) or was left out of it (0).', type: 'gauge', samples: up });
    }
    return { families, errors: local.errors, missing };
  }
}

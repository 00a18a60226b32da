/**
 * A loopback TCP proxy in front of a real server that a test switches between four
 * behaviours: forward, refuse (nothing listens, open connections closed), reset
 * (every connection, open or new, reset) and stall (connections stay open but no
 * byte moves either way, as with a paused proxy or a dead network path; held bytes
 * are delivered in order when forwarding resumes).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** What the proxy does with traffic. */
export type ProxyMode = 'forward' | 'refuse' | 'reset' | 'stall';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes held while stalled, per direction, in arrival order. */
  readonly toUpstream: Buffer[];
  readonly toClient: Buffer[];
}

/** The proxy; `start()` picks a free port that stays the same across modes. */
export class FaultProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private current: ProxyMode = 'forward';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** The current mode. */
  get mode(): ProxyMode {
    return this.current;
  }

  /** Connections open through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Listens (forwarding) on `port`, or on a free port the first time. */
  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    if (this.current === 'reset') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.pairs.add(pair);
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', close);
    }
    client.on('data', (b: Buffer) => (this.current === 'stall' ? pair.toUpstream.push(b) : upstream.write(b)));
    upstream.on('data', (b: Buffer) => (this.current === 'stall' ? pair.toClient.push(b) : client.write(b)));
  }

  /** Switches behaviour; leaving a stall delivers what was held. */
  async set(mode: ProxyMode): Promise<void> {
    const was = this.current;
    this.current = mode;
    if (mode === 'refuse') {
      for (const p of this.pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await this.close();
      return;
    }
    if (was === 'refuse') await this.start();
    if (mode === 'reset') {
      for (const p of this.pairs) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
    }
    if (mode === 'forward') {
      for (const p of this.pairs) {
        for (const b of p.toUpstream.splice(0)) p.upstream.write(b);
        for (const b of p.toClient.splice(0)) p.client.write(b);
      }
    }
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Closes everything. */
  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await this.close();
  }
}

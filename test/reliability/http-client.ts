/** A minimal HTTP GET for the reliability tests: one keep-alive connection per agent, the status and the time taken. */
import { Agent, request } from 'node:http';

/** The outcome of one request. */
export interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly bytes: number;
  /** The body, when asked for (`keepBody`). */
  readonly body?: string;
}

/** A client holding exactly one connection, as one scraper or one attacker would. */
export function connection(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

/** GETs `url`; status 0 for a connection error or the timeout. */
export function get(url: string, opts: { agent?: Agent; headers?: Record<string, string>; method?: string; timeoutMs?: number; keepBody?: boolean } = {}): Promise<Answer> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { agent: opts.agent, headers: opts.headers, method: opts.method ?? 'GET', timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (opts.keepBody) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start, bytes, ...(opts.keepBody ? { body: Buffer.concat(chunks).toString('utf8') } : {}) }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - start, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - start, bytes: 0 }));
    req.end();
  });
}

/** The q-quantile (0-1) of a list of numbers. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Resident set size of a process in bytes, from /proc (0 when it is gone). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * A small client for the Grafana HTTP API endpoints `make grafana-import` uses (the
 * legacy `/api` ones, which Grafana 10.4 to 13 all serve). Every request has a timeout
 * and a bounded answer; errors say which request failed and never echo the credentials.
 */

/** How to authenticate: a service-account token, or a user and password (basic auth). */
export type GrafanaAuth = { readonly token: string } | { readonly user: string; readonly password: string };

/** An answer: HTTP status and the parsed JSON body (undefined when not JSON). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A request that did not get an HTTP answer (refused, timed out, bad URL). */
export class GrafanaUnreachableError extends Error {
  override readonly name = 'GrafanaUnreachableError';
}

const MAX_BODY = 16 * 1024 * 1024;

/** The Grafana HTTP API at one base URL. */
export class GrafanaApi {
  private readonly base: string;
  private readonly authHeader: string;
  private readonly timeoutMs: number;

  constructor(url: string, auth: GrafanaAuth, timeoutMs = 15_000) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`GRAFANA_URL ${JSON.stringify(url)} is not a URL (expected e.g. http://localhost:3000)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`GRAFANA_URL must be http or https, not ${u.protocol}`);
    if (u.username !== '' || u.password !== '') throw new Error('GRAFANA_URL must not hold credentials: use GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD');
    this.base = u.href.replace(/\/+$/, '');
    this.authHeader = 'token' in auth ? `Bearer ${auth.token}` : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    this.timeoutMs = timeoutMs;
  }

  /** The base URL (no credentials in it). */
  get url(): string {
    return this.base;
  }

  /** Sends one request; resolves with any HTTP answer, rejects only when there is none. */
  async request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: this.authHeader };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : cause?.code ?? cause?.message ?? (err as Error).message;
      throw new GrafanaUnreachableError(`cannot reach Grafana at ${this.base} (${method} ${path}): ${why}`);
    }
    const text = await readBounded(res, `${method} ${path}`);
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed };
  }
}

async function readBounded(res: Response, what: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_BODY) throw new Error(`Grafana's answer to ${what} is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `message` field of a Grafana error body, if any. */
export function messageOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : '';
}

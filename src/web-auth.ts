/**
 * Request authentication as Prometheus' exporter web config does it: HTTP basic auth
 * against bcrypt hashes, or a bearer token. Successful bcrypt checks are cached
 * (keyed by a SHA-256 of the credentials) because bcrypt costs ~50-100 ms by design
 * and a scraper sends the same credentials every few seconds.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { WebAuthConfig } from './options/web-auth.js';

/** Decides whether a request's Authorization header is accepted. */
export class Authenticator {
  private readonly verified = new Set<string>();

  constructor(
    private readonly auth: WebAuthConfig,
    private readonly bearerToken: string | undefined,
  ) {}

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

  /** Checks an Authorization header value. */
  async check(header: string | undefined): Promise<boolean> {
    if (this.open) return true;
    if (!header) return false;
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    const token = this.token;
    if (scheme === 'bearer' && token !== undefined) return safeEqual(value, token);
    if (scheme !== 'basic') return false;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const hash = this.auth.basicAuthUsers[user];
    if (hash === undefined) return false;
    const key = createHash('sha256').update(`${hash}\0${decoded}`).digest('hex');
    if (this.verified.has(key)) return true;
    const ok = await bcrypt.compare(decoded.slice(colon + 1), hash);
    if (ok && this.verified.size < 1000) this.verified.add(key);
    return ok;
  }
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * One bounded HTTP request for the notifiers: a timeout, a capped request body, a
 * capped read of the answer, and errors that name the failure but never the URL
 * (a Slack or Discord webhook URL, a Telegram bot token in the path, are secrets).
 */
import { redactSecrets } from '../../redact.js';

/** Bodies above this are refused before sending: a notification is a few KB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** At most this much of an answer is read (the rest is dropped). */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** At most this much of an error answer is quoted in a message. */
const MAX_QUOTED = 200;

/** A delivery failure; `retryable` is false for answers a retry cannot fix (4xx but 408/429). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

/** What one request needs. */
export interface HttpRequest {
  readonly url: string;
  readonly method?: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Values that must never appear in a message (tokens, webhook URLs, passwords). */
  readonly secrets: readonly string[];
}

/** Replaces every secret in `text` with `***`, then applies the generic redaction. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return redactSecrets(out);
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  const code = e.cause?.code;
  if (code) return `connection failed (${code})`;
  return e.cause?.message ?? e.message;
}

/**
 * Sends the request; resolves with the answer's body (capped) on a 2xx status, throws a
 * DeliveryError otherwise. The error message holds the status and a short excerpt of the
 * answer with every secret masked, never the URL.
 */
export async function httpPost(req: HttpRequest): Promise<string> {
  if (Buffer.byteLength(req.body) > MAX_REQUEST_BYTES) throw new DeliveryError(`request body over ${MAX_REQUEST_BYTES} bytes`, false);
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method ?? 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(req.timeoutMs), redirect: 'error' });
  } catch (err) {
    throw new DeliveryError(scrub(causeOf(err), req.secrets), true);
  }
  let text: string;
  try {
    text = await readCapped(res);
  } catch (err) {
    throw new DeliveryError(scrub(`reading the answer: ${causeOf(err)}`, req.secrets), true);
  }
  if (res.status >= 200 && res.status < 300) return text;
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, MAX_QUOTED);
  const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
  throw new DeliveryError(scrub(`HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, req.secrets), retryable);
}

/** The Authorization header for basic auth or a bearer token, if any. */
export function authHeader(auth: HttpAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.bearerToken !== undefined) return { authorization: `Bearer ${auth.bearerToken}` };
  if (auth.username !== undefined) return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}` };
  return {};
}

/** Credentials for an HTTP receiver, read from the config (files already read). */
export interface HttpAuth {
  readonly username?: string;
  readonly password?: string;
  readonly bearerToken?: string;
}

/** The secrets of an HttpAuth, for scrub(). */
export function authSecrets(auth: HttpAuth | undefined): string[] {
  if (!auth) return [];
  const out: string[] = [];
  if (auth.password) out.push(auth.password, Buffer.from(`${auth.username ?? ''}:${auth.password}`).toString('base64'));
  if (auth.bearerToken) out.push(auth.bearerToken);
  return out;
}

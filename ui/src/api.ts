/**
 * The page's client of Larder's Prometheus API (/api/v1). Paths are relative to the
 * page, so Larder behind a reverse proxy at a sub-path still works.
 */

/** A series of a range query: its labels and [epoch seconds, value string] points. */
export interface MatrixSeries {
  readonly metric: Record<string, string>;
  readonly values: [number, string][];
}

/** A sample of an instant query. */
export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** What an instant query answers. */
export type InstantResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

/** An error answer of the API, with its type (`bad_data`, `execution`, …) and message. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Envelope<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** Calls an API path with form parameters (POST, so long queries fit) and unwraps the envelope. */
export async function call<T>(path: string, params: Record<string, string | number>, signal?: AbortSignal): Promise<T> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) body.set(k, String(v));
  const res = await fetch(`api/v1/${path}`, { method: 'POST', body, signal, credentials: 'same-origin' });
  let env: Envelope<T>;
  try {
    env = (await res.json()) as Envelope<T>;
  } catch {
    throw new ApiError('http', `HTTP ${res.status} from api/v1/${path}`, res.status);
  }
  if (env.status !== 'success' || env.data === undefined) throw new ApiError(env.errorType ?? 'http', env.error ?? `HTTP ${res.status}`, res.status);
  return env.data;
}

/** Calls a GET-only API path. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`api/v1/${path}`, { signal, credentials: 'same-origin' });
  const env = (await res.json()) as Envelope<T>;
  if (env.status !== 'success' || env.data === undefined) throw new ApiError(env.errorType ?? 'http', env.error ?? `HTTP ${res.status}`, res.status);
  return env.data;
}

/** A range query. */
export function queryRange(query: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<{ resultType: 'matrix'; result: MatrixSeries[] }> {
  return call('query_range', { query, start, end, step }, signal);
}

/** An instant query at `time` (epoch seconds). */
export function queryInstant(query: string, time: number, signal?: AbortSignal): Promise<InstantResult> {
  return call('query', { query, time }, signal);
}

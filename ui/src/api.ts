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

/** Unwraps the API's envelope; an answer that is not one (a proxy's page, a plain 404) is an ApiError of type `http`. */
async function unwrap<T>(res: Response, path: string): Promise<T> {
  let env: Envelope<T>;
  try {
    env = (await res.json()) as Envelope<T>;
  } catch {
    throw new ApiError('http', `HTTP ${res.status} from api/v1/${path}`, res.status);
  }
  if (env.status !== 'success' || env.data === undefined) throw new ApiError(env.errorType ?? 'http', env.error ?? `HTTP ${res.status}`, res.status);
  return env.data;
}

/** Calls an API path with form parameters (POST, so long queries fit) and unwraps the envelope. */
export async function call<T>(path: string, params: Record<string, string | number>, signal?: AbortSignal): Promise<T> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) body.set(k, String(v));
  return unwrap<T>(await fetch(`api/v1/${path}`, { method: 'POST', body, signal, credentials: 'same-origin' }), path);
}

/** Calls a GET-only API path. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return unwrap<T>(await fetch(`api/v1/${path}`, { signal, credentials: 'same-origin' }), path);
}

/** A range query. */
export function queryRange(query: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<{ resultType: 'matrix'; result: MatrixSeries[] }> {
  return call('query_range', { query, start, end, step }, signal);
}

/** An instant query at `time` (epoch seconds). */
export function queryInstant(query: string, time: number, signal?: AbortSignal): Promise<InstantResult> {
  return call('query', { query, time }, signal);
}

/** An alert of /api/v1/alerts (Prometheus' shape). */
export interface ApiAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly activeAt: string;
  readonly value: string;
}

/** A rule of /api/v1/rules. */
export interface ApiRule {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly query: string;
  readonly health: string;
  readonly lastError?: string;
  readonly lastEvaluation: string;
  /** Alerting rules: inactive, pending or firing. */
  readonly state?: string;
  readonly alerts?: readonly ApiAlert[];
}

/** A group of /api/v1/rules. */
export interface ApiRuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly ApiRule[];
}

/** A row of /api/v1/alerts/history (src/api/alert-history-api.ts). */
export interface HistoryEntry {
  readonly id: number;
  readonly name: string;
  readonly severity: string;
  readonly message: string;
  readonly value?: string;
  readonly labels: Record<string, string>;
  readonly status: 'firing' | 'resolved';
  readonly firedAt: string;
  readonly resolvedAt?: string;
}

/** The alerting rules' groups, or undefined when the API has no rules path (Larder without a store). */
export async function ruleGroups(query: string, signal?: AbortSignal): Promise<ApiRuleGroup[] | undefined> {
  try {
    return (await get<{ groups: ApiRuleGroup[] }>(`rules${query}`, signal)).groups;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

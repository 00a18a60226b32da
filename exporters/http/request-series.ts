/**
 * The HTTP metrics' storage, built for the request path: one record per label set
 * holding the request count and the three histograms as plain arrays, found with two
 * Map lookups per request (route pattern, then a number made of status and method: no
 * key string to build and hash), and turned into prom-client's shape only when collected.
 * (Four prom-client metrics cost four label hashes per request, several µs: a large
 * share of a small express handler's own time.)
 */
import type { Metric, Registry } from 'prom-client';
import type { SeriesGroup, TrackedSeries } from '../guard/series-guard.js';

type Names = 'method' | 'route' | 'status_code';
type Labels = Readonly<Partial<Record<Names, string>>>;

/** One label set's accumulated observations. */
interface Accumulated {
  readonly tracked: TrackedSeries;
  count: number;
  /** Non-cumulative bucket counts; the last slot is +Inf. */
  readonly duration: Float64Array;
  durationSum: number;
  readonly requestSize: Float64Array;
  requestSizeSum: number;
  readonly responseSize: Float64Array;
  responseSizeSum: number;
}

interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

function bucketIndex(bounds: readonly number[], v: number): number {
  let i = 0;
  while (i < bounds.length && v > bounds[i]!) i++;
  return i;
}

/** The methods recorded by name; the middleware records any other as `OTHER`. */
export const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

/** Each known method gets a slot of its own in the per-route key; any other method string shares the last. */
const METHOD_SLOTS = new Map<string, number>(KNOWN_METHODS.map((m, i) => [m, i]));
const SLOTS = 16;

/** The per-route key of a method and status code. */
function slotKey(method: string, status: number): number {
  return status * SLOTS + (METHOD_SLOTS.get(method) ?? SLOTS - 1);
}

/** A prom-client-compatible collectable (prom-client's Registry needs name, help, type, get(), reset()). */
class View {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram' | 'gauge',
    private readonly values: () => Value[],
    readonly reset: () => void,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Value[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}

/** Count, duration and sizes by method, route and status code, plus requests in flight. */
export class RequestSeries {
  /** route → (status, method) key → record; the route strings come from a cache, so their hash is computed once. */
  private readonly byRoute = new Map<string, Map<number, Accumulated>>();
  /** Requests being served now. */
  inFlight = 0;

  constructor(
    registry: Registry,
    private readonly group: SeriesGroup<Names>,
    private readonly durationBuckets: readonly number[],
    private readonly sizeBuckets: readonly number[],
  ) {
    // the guard hands back the very labels object it tracked: found by identity, under its route first
    group.onRemove((l) => {
      const route = l.route ?? '';
      if (!this.removeTracked(route, l)) for (const r of this.byRoute.keys()) if (this.removeTracked(r, l)) break;
    });
    const reset = (): void => this.byRoute.clear();
    const views = [
      new View('http_requests_total', 'HTTP requests served, by method, route pattern and status code.', 'counter', () => [...this.all()].map((a) => ({ value: a.count, labels: a.tracked.labels })), reset),
      new View('http_request_duration_seconds', 'Time from receiving an HTTP request to finishing its response.', 'histogram', () => this.histogram('http_request_duration_seconds', durationBuckets, (a) => [a.duration, a.durationSum]), reset),
      new View('http_request_size_bytes', 'Size of HTTP request bodies (from Content-Length; 0 when absent).', 'histogram', () => this.histogram('http_request_size_bytes', sizeBuckets, (a) => [a.requestSize, a.requestSizeSum]), reset),
      new View('http_response_size_bytes', 'Size of HTTP response bodies as sent.', 'histogram', () => this.histogram('http_response_size_bytes', sizeBuckets, (a) => [a.responseSize, a.responseSizeSum]), reset),
      new View('http_requests_in_flight', 'HTTP requests being served now.', 'gauge', () => [{ value: this.inFlight, labels: {} }], () => undefined),
    ];
    for (const v of views) registry.registerMetric(v as unknown as Metric);
  }

  /** Records one finished request; dropped (and counted by the guard) past the cardinality limit. */
  record(method: string, route: string, status: number, seconds: number, requestBytes: number, responseBytes: number): void {
    let inner = this.byRoute.get(route);
    const k = slotKey(method, status);
    let a = inner?.get(k);
    if (a) {
      a.tracked.last = this.group.now();
    } else {
      const tracked = this.group.admitEntry({ method, route, status_code: String(status) });
      if (!tracked) return;
      a = {
        tracked,
        count: 0,
        duration: new Float64Array(this.durationBuckets.length + 1),
        durationSum: 0,
        requestSize: new Float64Array(this.sizeBuckets.length + 1),
        requestSizeSum: 0,
        responseSize: new Float64Array(this.sizeBuckets.length + 1),
        responseSizeSum: 0,
      };
      if (!inner) {
        inner = new Map();
        this.byRoute.set(route, inner);
      }
      inner.set(k, a);
    }
    a.count++;
    a.duration[bucketIndex(this.durationBuckets, seconds)]!++;
    a.durationSum += seconds;
    a.requestSize[bucketIndex(this.sizeBuckets, requestBytes)]!++;
    a.requestSizeSum += requestBytes;
    a.responseSize[bucketIndex(this.sizeBuckets, responseBytes)]!++;
    a.responseSizeSum += responseBytes;
  }

  private removeTracked(route: string, labels: object): boolean {
    const inner = this.byRoute.get(route);
    if (!inner) return false;
    for (const [k, a] of inner) {
      if (a.tracked.labels !== labels) continue;
      inner.delete(k);
      if (inner.size === 0) this.byRoute.delete(route);
      return true;
    }
    return false;
  }

  private *all(): IterableIterator<Accumulated> {
    for (const inner of this.byRoute.values()) yield* inner.values();
  }

  private histogram(name: string, bounds: readonly number[], pick: (a: Accumulated) => [Float64Array, number]): Value[] {
    const out: Value[] = [];
    for (const a of this.all()) {
      const [counts, sum] = pick(a);
      const labels: Labels = a.tracked.labels;
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += counts[i]!;
        out.push({ value: cumulative, labels: { ...labels, le: i < bounds.length ? bounds[i]! : '+Inf' }, metricName: `${name}_bucket` });
      }
      out.push({ value: sum, labels: { ...labels }, metricName: `${name}_sum` });
      out.push({ value: a.count, labels: { ...labels }, metricName: `${name}_count` });
    }
    return out;
  }
}

/**
 * `GET /api/v1/alerts/history`: the recent rows of the seed's `alert_history` (what the
 * rule evaluator records at each firing and resolution, src/alerting/history.ts), read
 * only, newest first, for the built-in page's Alerts tab. Prometheus has no such
 * endpoint; the answer uses its envelope and error types all the same.
 *
 * Parameters: `since` (RFC 3339 or unix seconds; default 24 h ago): episodes still
 * firing, or fired or resolved at or after it; `limit` (1..1000, default 100).
 */
import express, { type Request, type Response, type Router } from 'express';
import { readAlertHistory, type AlertHistoryRow } from '../../storage/alert-history-read.js';
import type { Labels, Store } from '../../storage/store.js';
import { goTime } from './rules-api.js';
import { formatValue } from './encode.js';
import { BadData, parseTime, STORE_MAX_MS, STORE_MIN_MS } from './params.js';

/** What the endpoint reads. */
export interface AlertHistoryApiOptions {
  /** The store; undefined while none is open. */
  readonly store: () => Store | undefined;
  /** The clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Rows one answer may hold at most. */
export const MAX_HISTORY_LIMIT = 1000;
/** Rows an answer holds when no `limit` is given. */
export const DEFAULT_HISTORY_LIMIT = 100;
/** How far back `since` reaches when not given, ms. */
export const DEFAULT_HISTORY_SPAN_MS = 86_400_000;

/** A row as the endpoint answers it. */
export interface HistoryEntry {
  readonly id: number;
  readonly name: string;
  readonly severity: string;
  readonly message: string;
  /** The value that fired it, as the API writes floats; absent when none was recorded. */
  readonly value?: string;
  readonly labels: Labels;
  readonly status: 'firing' | 'resolved';
  readonly firedAt: string;
  /** Absent while firing. */
  readonly resolvedAt?: string;
}

/** A stored row as an entry. */
function entryOf(r: AlertHistoryRow): HistoryEntry {
  return {
    id: r.id,
    name: r.name,
    severity: r.severity,
    message: r.message,
    ...(r.value !== null ? { value: formatValue(r.value) } : {}),
    labels: r.labels,
    status: r.status,
    firedAt: goTime(r.firedMs),
    ...(r.resolvedMs !== null ? { resolvedAt: goTime(r.resolvedMs) } : {}),
  };
}

/** The one value of a query parameter, or undefined; repeated or overlong is refused. */
function single(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadData(`invalid parameter ${JSON.stringify(name)}: give it once`);
  if (v.length > 64) throw new BadData(`invalid parameter ${JSON.stringify(name)}: longer than 64 characters`);
  return v;
}

/** Parses `limit`: 1..MAX_HISTORY_LIMIT, DEFAULT_HISTORY_LIMIT when absent. */
export function parseHistoryLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_HISTORY_LIMIT;
  const n = /^\d{1,7}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(n >= 1 && n <= MAX_HISTORY_LIMIT)) throw new BadData(`invalid parameter "limit": ${JSON.stringify(raw)} is not a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
  return n;
}

function sendError(res: Response, status: number, type: string, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ status: 'error', errorType: type, error: message }));
}

/** Builds the router answering `GET /alerts/history`; mount it at /api/v1 before the query API's catch-all. */
export function createAlertHistoryApi(opts: AlertHistoryApiOptions): Router {
  const now = opts.now ?? Date.now;
  const router = express.Router();
  router.get('/alerts/history', (req, res) => {
    let sinceMs: number;
    let limit: number;
    try {
      const since = single(req, 'since');
      // clamped to what the store holds, so PostgreSQL's timestamptz never overflows
      sinceMs = Math.min(STORE_MAX_MS, Math.max(STORE_MIN_MS, since === undefined || since === '' ? now() - DEFAULT_HISTORY_SPAN_MS : parseTime('since', since)));
      limit = parseHistoryLimit(single(req, 'limit'));
    } catch (e) {
      if (e instanceof BadData) return sendError(res, 400, 'bad_data', e.message);
      throw e;
    }
    const store = opts.store();
    if (!store) return sendError(res, 503, 'unavailable', 'no store to read alert history from yet: the store is not open');
    // every alert still firing, and those fired or resolved since (a resolved one fired
    // since was also resolved since); one more than asked tells whether older rows were left out
    readAlertHistory(store, { firing: true, resolvedSinceMs: sinceMs, limit: limit + 1 }).then(
      (rows) => {
        const entries = rows.slice(0, limit).map(entryOf);
        res.type('application/json').send(JSON.stringify({ status: 'success', data: { history: entries, truncated: rows.length > limit } }));
      },
      (e: unknown) => sendError(res, 500, 'internal', `cannot read alert_history: ${(e as Error).message}`),
    );
  });
  return router;
}

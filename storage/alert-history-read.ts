/**
 * Reading `alert_history` (what the rule evaluator records at each firing and
 * resolution) through `Store.query`, the same statement on both dialects: the API's
 * history endpoint and `larder alerts` both read it here.
 */
import { msOf, tsOf } from './pg-sql.js';
import type { Labels, SqlValue, Store } from './store.js';

/** An `alert_history` row as both dialects give it back. */
export interface AlertHistoryRow {
  readonly id: number;
  readonly name: string;
  readonly severity: string;
  readonly message: string;
  readonly value: number | null;
  /** Keys sorted; values that are not strings are left out. */
  readonly labels: Labels;
  readonly status: 'firing' | 'resolved';
  readonly firedMs: number;
  readonly resolvedMs: number | null;
}

/** Which rows of `alert_history` to read. */
export interface AlertHistoryWindow {
  /** Firing rows: every one (`true`), those fired since an epoch-ms time, or none (`false`). */
  readonly firing: boolean | number;
  /** Resolved rows resolved since this epoch-ms time; none when undefined. */
  readonly resolvedSinceMs?: number;
  /** At most this many rows, the newest; all when undefined. */
  readonly limit?: number;
}

/** The rows of `alert_history` in the window, newest first. */
export async function readAlertHistory(store: Store, w: AlertHistoryWindow): Promise<AlertHistoryRow[]> {
  const pg = store.dialect === 'postgresql';
  const params: SqlValue[] = [];
  const param = (v: number, asTime: boolean): string => {
    params.push(v);
    return !pg ? '?' : asTime ? tsOf(`$${params.length}`) : `$${params.length}`;
  };
  const where: string[] = [];
  if (w.firing !== false) where.push(`(status = 'firing'${w.firing === true ? '' : ` AND fired_at >= ${param(w.firing, true)}`})`);
  if (w.resolvedSinceMs !== undefined) where.push(`(status = 'resolved' AND resolved_at >= ${param(w.resolvedSinceMs, true)})`);
  if (where.length === 0) return [];
  const cols = pg ? `labels::text AS labels, ${msOf('fired_at')} AS f, ${msOf('resolved_at')} AS r` : 'labels, fired_at AS f, resolved_at AS r';
  const limit = w.limit === undefined ? '' : ` LIMIT ${param(w.limit, false)}`;
  const rows = await store.query(`SELECT id, name, severity, message, value, status, ${cols} FROM alert_history WHERE ${where.join(' OR ')} ORDER BY fired_at DESC, id DESC${limit}`, params);
  return rows.map((r) => ({
    id: Number(r['id']),
    name: String(r['name']),
    severity: String(r['severity']),
    message: String(r['message']),
    value: r['value'] === null || r['value'] === undefined ? null : Number(r['value']),
    labels: labelsOf(r['labels']),
    status: r['status'] === 'firing' ? 'firing' : 'resolved',
    firedMs: Number(r['f']),
    resolvedMs: r['r'] === null || r['r'] === undefined ? null : Number(r['r']),
  }));
}

/** Stored labels (JSON text) as an object of strings, keys sorted; anything else reads as no labels. */
function labelsOf(raw: unknown): Labels {
  if (typeof raw !== 'string') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const out: Record<string, string> = {};
  for (const k of Object.keys(parsed).sort()) {
    const v = (parsed as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

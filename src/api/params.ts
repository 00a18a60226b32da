/**
 * Parameters of the Prometheus HTTP API, parsed and bounded as Prometheus parses
 * them (web/api/v1/api.go): times as RFC 3339 or unix seconds with a fraction,
 * durations as Prometheus durations or float seconds, limits as non-negative
 * integers. A bad value is a BadData error naming the parameter and the value.
 */
import { parseDuration } from '../duration.js';

/** A parameter Prometheus would refuse with `errorType: bad_data` (HTTP 400). */
export class BadData extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadData';
  }
}

/** The earliest and latest times a parameter may name (Prometheus' MinTime/MaxTime, in ms, clamped to what a Date holds). */
export const MIN_TIME_MS = -8_640_000_000_000_000;
export const MAX_TIME_MS = 8_640_000_000_000_000;

/** A span the store holds (it takes 1970 to 9999): series look-ups without start or end are clamped to it. */
export const STORE_MIN_MS = 0;
export const STORE_MAX_MS = Date.UTC(9999, 0, 1);

/** Most characters of one parameter value we look at (a query, a selector); longer is refused. */
export const MAX_PARAM_LENGTH = 64 * 1024;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Shows a value in an error message: quoted, and cut when long. */
function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/**
 * Parses a timestamp parameter into epoch ms: unix seconds (`1700000000.123`) or
 * RFC 3339 (`2026-12-03T14:00:00.5Z`). Throws BadData naming `name`.
 */
export function parseTime(name: string, value: string): number {
  const v = value.trim();
  if (FLOAT.test(v)) {
    const s = Number(v);
    const ms = Math.round(s * 1000);
    if (Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS) return ms;
  } else if (RFC3339.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new BadData(`invalid parameter ${JSON.stringify(name)}: cannot parse ${quote(value)} to a valid timestamp`);
}

/**
 * Parses an optional timestamp parameter, `fallback` when absent or empty. Its error
 * reads as Prometheus' for an optional time (`time`, and `start`/`end` of the series and
 * label look-ups): `invalid parameter "time": invalid time value for 'time': cannot parse …`.
 */
export function parseTimeOr(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  try {
    return parseTime(name, value);
  } catch {
    throw new BadData(`invalid parameter ${JSON.stringify(name)}: invalid time value for '${name}': cannot parse ${quote(value)} to a valid timestamp`);
  }
}

/**
 * Parses a duration parameter into ms: float seconds (`15`, `0.5`) or a Prometheus
 * duration (`1m30s`). Throws BadData naming `name`.
 */
export function parseDurationParam(name: string, value: string): number {
  const v = value.trim();
  if (FLOAT.test(v)) {
    const ms = Math.round(Number(v) * 1000);
    if (Number.isSafeInteger(ms)) return ms;
  } else {
    const ms = parseDuration(v);
    if (ms !== undefined) return ms;
  }
  throw new BadData(`invalid parameter ${JSON.stringify(name)}: cannot parse ${quote(value)} to a valid duration`);
}

/** Parses `limit`: absent or empty → 0 (no limit); else a non-negative integer. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const v = value.trim();
  if (!/^[+-]?\d+$/.test(v)) throw new BadData(`invalid parameter "limit": cannot parse ${quote(value)} to a valid limit`);
  const n = Number(v);
  if (n < 0) throw new BadData('limit must be non-negative');
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** A Prometheus label name (the classic character set). */
export function isLabelName(name: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name);
}

/**
 * The most points a range query may have per series, as Prometheus refuses more
 * ("exceeded maximum resolution of 11,000 points per timeseries").
 */
export const MAX_POINTS_PER_SERIES = 11_000;

/** Checks a range query's start, end and step as Prometheus does; throws BadData. */
export function checkRange(startMs: number, endMs: number, stepMs: number): void {
  if (endMs < startMs) throw new BadData('invalid parameter "end": end timestamp must not be before start time');
  if (stepMs <= 0) throw new BadData('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
    throw new BadData('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
}

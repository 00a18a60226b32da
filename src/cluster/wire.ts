/**
 * The JSON an instance sends its peers: metric families with non-finite values
 * written as strings (JSON has no NaN or Infinity), and its decoder, which checks the
 * shape so a stray answer on the port cannot corrupt the merged view.
 */
import type { MetricFamily, Sample } from '../../exporters/metric-family.js';
import type { MetricKind } from '../../exporters/const-metric.js';

/** What a peer answers. */
export interface WireSnapshot {
  readonly instance: string;
  readonly families: readonly MetricFamily[];
  /** When these values were read (epoch ms), for remembered contributions. */
  readonly atMs?: number;
}

const KINDS = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function encodeValue(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

function decodeValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  throw new Error(`bad sample value ${JSON.stringify(v)}`);
}

/** Serializes a snapshot for a peer (with the time it was read, for a remembered one). */
export function encodeSnapshot(instance: string, families: readonly MetricFamily[], atMs?: number): string {
  return JSON.stringify({
    instance,
    ...(atMs === undefined ? {} : { atMs }),
    families: families.map((f) => ({ name: f.name, help: f.help, type: f.type, samples: f.samples.map((s) => ({ name: s.name, labels: s.labels, value: encodeValue(s.value) })) })),
  });
}

/** Parses a peer's answer; throws naming what is wrong. */
export function decodeSnapshot(text: string): WireSnapshot {
  const data = JSON.parse(text) as unknown;
  if (data === null || typeof data !== 'object') throw new Error('expected an object');
  const { instance, families, atMs } = data as { instance?: unknown; families?: unknown; atMs?: unknown };
  if (typeof instance !== 'string') throw new Error('missing instance');
  if (atMs !== undefined && (typeof atMs !== 'number' || !Number.isFinite(atMs))) throw new Error('bad atMs');
  if (!Array.isArray(families)) throw new Error('missing families');
  const out: MetricFamily[] = families.map((raw: unknown, i) => {
    const f = raw as { name?: unknown; help?: unknown; type?: unknown; samples?: unknown };
    if (typeof f?.name !== 'string' || typeof f.help !== 'string' || typeof f.type !== 'string' || !KINDS.has(f.type) || !Array.isArray(f.samples)) throw new Error(`family ${i} is malformed`);
    const samples: Sample[] = f.samples.map((s: { name?: unknown; labels?: unknown; value?: unknown }) => {
      if (typeof s?.name !== 'string' || s.labels === null || typeof s.labels !== 'object') throw new Error(`family ${f.name}: malformed sample`);
      return { name: s.name, labels: s.labels as Record<string, string>, value: decodeValue(s.value) };
    });
    return { name: f.name, help: f.help, type: f.type as MetricKind, samples };
  });
  return atMs === undefined ? { instance, families: out } : { instance, families: out, atMs: atMs as number };
}

/**
 * Pure serializers of a snapshot: the Prometheus text format 0.0.4 and OpenMetrics 1.0.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
import type { MetricFamily, Sample } from './snapshot.js';

/** Content type of the Prometheus text format. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics text. */
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Formats a sample value as both formats expect (`NaN`, `+Inf`, `-Inf`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(',')}}`;
}

function sampleLine(name: string, s: Sample, openMetrics: boolean): string {
  let line = `${name}${formatLabels(s.labels)} ${formatValue(s.value)}`;
  if (s.timestampMs !== undefined) line += ` ${openMetrics ? s.timestampMs / 1000 : Math.round(s.timestampMs)}`;
  return line;
}

/** Serializes families in the Prometheus text format 0.0.4. */
export function toPrometheusText(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(sampleLine(s.name, s, false));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Serializes families as OpenMetrics 1.0 (counter families lose `_total`, their samples carry it). */
export function toOpenMetrics(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    const isCounter = f.type === 'counter';
    const family = isCounter ? f.name.replace(/_total$/, '') : f.name;
    out.push(`# TYPE ${family} ${f.type === 'untyped' ? 'unknown' : f.type}`);
    out.push(`# HELP ${family} ${escapeHelp(f.help).replace(/"/g, '\\"')}`);
    for (const s of f.samples) {
      const name = isCounter && s.name === f.name ? `${family}_total` : s.name;
      out.push(sampleLine(name, s, true));
    }
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}

/** Content negotiation lives in negotiate.ts; re-exported here where callers have always found it. */
export { negotiate } from './negotiate.js';

/**
 * The notification a receiver gets, in Alertmanager's template data shape (the webhook
 * payload is this object), and the default text every chat and mail channel renders
 * from it: a title such as `[FIRING:2] DiskFull (host-1)` and, per alert, its summary,
 * description and labels.
 */
import { createHash } from 'node:crypto';

/** An alert as a receiver sees it (Alertmanager's template Alert). */
export interface AlertData {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** `0001-01-01T00:00:00Z` while firing, as Alertmanager sends it. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** One notification (Alertmanager's webhook payload, version 4). */
export interface NotificationData {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertData[];
}

/** Alertmanager's fingerprint is a hash of the sorted label set; ours is 16 hex digits of SHA-256. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`);
  return h.digest('hex').slice(0, 16);
}

/** The labels (or annotations) every alert shares with the same value. */
export function common(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  return out;
}

function sortedValues(m: Readonly<Record<string, string>>): string[] {
  return Object.keys(m).sort().map((k) => m[k]!);
}

/** Cuts `s` to `max` characters, marking the cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** Alertmanager's default title: `[FIRING:2] <group label values> (<other common label values>)`. */
export function title(n: NotificationData): string {
  const firing = n.alerts.filter((a) => a.status === 'firing').length;
  const head = `[${n.status.toUpperCase()}${n.status === 'firing' ? `:${firing}` : ''}]`;
  const group = sortedValues(n.groupLabels).join(' ');
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(n.commonLabels)) if (!(k in n.groupLabels)) rest[k] = v;
  const extra = Object.keys(rest).length > 0 ? ` (${sortedValues(rest).join(' ')})` : '';
  return `${head} ${group}${extra}`.trim();
}

function labelList(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(', ');
}

/** The text of one alert: summary, description, labels, since, source. */
export function alertText(a: AlertData): string {
  const lines = [`${a.status === 'firing' ? 'FIRING' : 'RESOLVED'}: ${a.annotations['summary'] ?? a.labels['alertname'] ?? 'alert'}`];
  if (a.annotations['description']) lines.push(a.annotations['description']);
  lines.push(`Labels: ${labelList(a.labels)}`);
  lines.push(a.status === 'firing' ? `Since: ${a.startsAt}` : `Resolved: ${a.endsAt}`);
  if (a.generatorURL) lines.push(`Source: ${a.generatorURL}`);
  return lines.join('\n');
}

/**
 * The body of a message: every alert's text, firing first, cut to `maxChars` with a
 * line that says how many alerts were left out.
 */
export function body(n: NotificationData, maxChars: number): string {
  const ordered = [...n.alerts.filter((a) => a.status === 'firing'), ...n.alerts.filter((a) => a.status === 'resolved')];
  const parts: string[] = [];
  let used = 0;
  let left = n.truncatedAlerts;
  for (let i = 0; i < ordered.length; i++) {
    const text = alertText(ordered[i]!);
    if (used + text.length + 2 > maxChars - 40) {
      left += ordered.length - i;
      break;
    }
    parts.push(text);
    used += text.length + 2;
  }
  if (left > 0) parts.push(`… and ${left} more alert${left === 1 ? '' : 's'}`);
  if (n.externalURL) parts.push(n.externalURL);
  return truncate(parts.join('\n\n'), maxChars);
}

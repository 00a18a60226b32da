/**
 * What the rule evaluator hands to the notifiers: alerts in the shape of Alertmanager's
 * v2 API (`POST /api/v2/alerts`, `postableAlert`), so one shape serves a real
 * Alertmanager and Larder's own notifiers alike.
 */

/** One alert as Alertmanager v2 takes it; times are RFC 3339. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Set in the past for a resolved alert; for a firing one, a time a few intervals ahead (as Prometheus sends). */
  endsAt?: string;
  generatorURL?: string;
}

/**
 * Where alerts go. The evaluator calls `send` after each group evaluation with the
 * alerts that are firing and those just resolved, as Prometheus re-sends to
 * Alertmanager; `send` must return at once (delivery, retries and grouping happen
 * behind it) so that evaluation is never delayed.
 */
export interface AlertSink {
  send(alerts: PostableAlert[]): void;
  /** Flushes what can be flushed within `timeoutMs`, then stops. */
  stop(timeoutMs?: number): Promise<void>;
}

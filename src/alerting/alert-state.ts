/**
 * One alerting rule's state machine, as Prometheus' rules/alerting.go runs it: per
 * label set inactive → pending → firing, `for` and `keep_firing_for`, resolved alerts
 * kept 15 minutes so notifiers hear of the resolution, and the samples of `ALERTS` and
 * `ALERTS_FOR_STATE`. Pure: the caller hands in the query result and the time.
 */
import type { Labels } from '../../storage/store.js';
import type { InstantSample } from '../../query/types.js';
import type { AlertRuleDef } from './load.js';
import { expandTemplate, type TemplateContext } from './expand.js';

/** Prometheus' alert states. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** How long a resolved alert is kept (and re-sent) after it resolved (Prometheus' resolvedRetention). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** One alert of a rule: a label set and where it is in its life. */
export interface Alert {
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  activeAtMs: number;
  firedAtMs: number | undefined;
  resolvedAtMs: number | undefined;
  lastSentAtMs: number | undefined;
  validUntilMs: number | undefined;
  keepFiringSinceMs: number | undefined;
}

/** A change of state, for alert_history and the log. */
export interface Transition {
  readonly alert: Alert;
  readonly from: AlertState;
  readonly to: AlertState;
}

/** A sample to write (ALERTS, ALERTS_FOR_STATE, a recording rule's result). */
export interface OutSample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Identity of a label set (sorted name/value pairs). */
export function labelsId(l: Labels): string {
  return Object.keys(l)
    .sort()
    .map((k) => `${k}\u0001${l[k]}`)
    .join('\u0000');
}

/** Thrown when a rule's result breaks a rule (duplicate label sets, the group limit). */
export class RuleEvalError extends Error {}

/** The alerts of one alerting rule across evaluations. */
export class AlertingRuleState {
  /** Active (pending, firing, or resolved and retained) alerts by label-set id. */
  readonly active = new Map<string, Alert>();
  /** Whether `for` state has been restored (or needed none): ALERTS_FOR_STATE is written only then. */
  restored = false;

  constructor(readonly def: AlertRuleDef, private readonly ctx: Omit<TemplateContext, 'labels' | 'value'>) {}

  /**
   * Applies one evaluation's result at `tsMs`; returns the transitions and the
   * ALERTS / ALERTS_FOR_STATE samples. Throws RuleEvalError (and forgets every
   * alert) when the result breaks the rule or more than `limit` alerts are active.
   */
  apply(result: readonly InstantSample[], tsMs: number, limit: number): { transitions: Transition[]; samples: OutSample[] } {
    const def = this.def;
    const seen = new Map<string, Alert>();
    for (const s of result) {
      const metric: Record<string, string> = { ...s.metric };
      delete metric['__name__'];
      const tctx: TemplateContext = { ...this.ctx, labels: s.metric, value: s.value };
      const labels: Record<string, string> = { ...metric };
      for (const [k, t] of def.labelTemplates) {
        const v = expandTemplate(t, tctx, `label ${k}`);
        if (v === '') delete labels[k];
        else labels[k] = v;
      }
      labels['alertname'] = def.name;
      const annotations: Record<string, string> = {};
      for (const [k, t] of def.annotationTemplates) annotations[k] = expandTemplate(t, tctx, `annotation ${k}`);
      const id = labelsId(labels);
      if (seen.has(id)) throw new RuleEvalError('vector contains metrics with the same labelset after applying alert labels');
      seen.set(id, { labels, annotations, state: 'pending', value: s.value, activeAtMs: tsMs, firedAtMs: undefined, resolvedAtMs: undefined, lastSentAtMs: undefined, validUntilMs: undefined, keepFiringSinceMs: undefined });
    }
    const transitions: Transition[] = [];
    for (const [id, a] of seen) {
      const old = this.active.get(id);
      if (old && old.state !== 'inactive') {
        old.value = a.value;
        old.annotations = a.annotations;
        old.labels = a.labels;
        continue;
      }
      this.active.set(id, a);
      transitions.push({ alert: a, from: 'inactive', to: 'pending' });
    }
    const samples: OutSample[] = [];
    let activeCount = 0;
    for (const [id, a] of this.active) {
      if (!seen.has(id)) {
        let keepFiring = false;
        if (a.state === 'firing' && def.keepFiringForMs > 0) {
          a.keepFiringSinceMs ??= tsMs;
          if (tsMs - a.keepFiringSinceMs < def.keepFiringForMs) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAtMs !== undefined && tsMs - a.resolvedAtMs > RESOLVED_RETENTION_MS)) this.active.delete(id);
        if (a.state !== 'inactive' && !keepFiring) {
          transitions.push({ alert: a, from: a.state, to: 'inactive' });
          a.state = 'inactive';
          a.resolvedAtMs = tsMs;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSinceMs = undefined;
      }
      activeCount++;
      if (a.state === 'pending' && tsMs - a.activeAtMs >= def.forMs) {
        a.state = 'firing';
        a.firedAtMs = tsMs;
        transitions.push({ alert: a, from: 'pending', to: 'firing' });
      }
      samples.push({ name: 'ALERTS', labels: { ...a.labels, alertstate: a.state }, value: 1 });
      if (this.restored) samples.push({ name: 'ALERTS_FOR_STATE', labels: a.labels, value: Math.floor(a.activeAtMs / 1000) });
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new RuleEvalError(`exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return { transitions, samples };
  }

  /** Alerts that are pending or firing (not resolved), as the API lists them. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.resolvedAtMs === undefined);
  }

  /** The rule's state: firing if any alert fires, else pending if any is pending, else inactive. */
  state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }

  /**
   * Alerts to hand to the notifiers at `tsMs` (Prometheus' sendAlerts): firing ones not
   * sent within `resendDelayMs`, and resolved ones not sent since they resolved; each
   * valid until `tsMs + 4 × max(resendDelay, interval)`.
   */
  alertsToSend(tsMs: number, resendDelayMs: number, intervalMs: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      const due = (a.resolvedAtMs !== undefined && (a.lastSentAtMs === undefined || a.resolvedAtMs > a.lastSentAtMs)) || a.lastSentAtMs === undefined || a.lastSentAtMs + resendDelayMs < tsMs;
      if (!due) continue;
      a.lastSentAtMs = tsMs;
      a.validUntilMs = tsMs + 4 * Math.max(resendDelayMs, intervalMs);
      out.push({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } });
    }
    return out;
  }
}

/**
 * One rule group's evaluation at one timestamp (Prometheus' Group.Eval): its rules in
 * order, each query through the PromQL engine at the group's timestamp, results written
 * before the next rule runs (so a later rule reads an earlier one's output), alert state
 * advanced, and the `for` state restored from ALERTS_FOR_STATE after a restart.
 */
import type { Labels, Store } from '../../storage/store.js';
import type { InstantSample, QueryEngine } from '../../query/types.js';
import type { PostableAlert } from './types.js';
import { AlertingRuleState, RuleEvalError, labelsId, type Alert, type OutSample, type Transition } from './alert-state.js';
import type { GroupDef, RuleDef } from './load.js';
import type { SampleWriter, SeriesSet } from './sample-writer.js';
import type { SliceClock } from './slice-clock.js';

/** Rule health, as the API shows it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** A rule with what its last evaluation left. */
export interface RuleRuntime {
  readonly def: RuleDef;
  readonly alerts: AlertingRuleState | undefined;
  health: RuleHealth;
  lastError: string;
  lastEvalMs: number | undefined;
  evalDurationMs: number;
  previous: SeriesSet | undefined;
}

/** What a group evaluation needs from around it. */
export interface GroupEnv {
  readonly engine: QueryEngine;
  readonly writer: SampleWriter;
  readonly externalLabels: Labels;
  readonly externalURL: string;
  readonly resendDelayMs: number;
  /** Longest one rule's query may run. */
  readonly queryTimeoutMs: number;
  /** Told of a rule that failed (metrics, log). */
  onRuleError?(rule: RuleRuntime, err: Error): void;
  /** Times the evaluation's slices; each rule starts in a turn of the event loop of its own. */
  readonly clock?: SliceClock;
}

/** What one evaluation produced for the rest of Larder. */
export interface GroupEvalResult {
  readonly transitions: readonly Transition[];
  /** Alerts for the notifiers (firing ones due again, resolved ones). */
  readonly toSend: readonly PostableAlert[];
  readonly rulesEvaluated: number;
  readonly failures: number;
}

/** Wall time after which an evaluation yields between the phases of a rule (query, alert state, write), ms. */
const SLICE_BUDGET_MS = 2;

const ISO = (ms: number): string => new Date(ms).toISOString();

/** Prometheus' link to the expression in its graph page. */
function generatorURL(base: string, expr: string): string {
  return `${base.replace(/\/$/, '')}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
}

/** A rule group and its runtime state. */
export class Group {
  readonly rules: RuleRuntime[];
  lastEvalMs: number | undefined;
  lastDurationMs = 0;
  /** True until the `for` state was restored once (only the first load after start restores). */
  shouldRestore: boolean;

  constructor(readonly def: GroupDef, readonly intervalMs: number, env: Pick<GroupEnv, 'externalLabels' | 'externalURL'>, restore: boolean) {
    this.shouldRestore = restore;
    this.rules = def.rules.map((r) => ({
      def: r,
      alerts: r.kind === 'alert' ? new AlertingRuleState(r, { externalLabels: env.externalLabels, externalURL: env.externalURL }) : undefined,
      health: 'unknown',
      lastError: '',
      lastEvalMs: undefined,
      evalDurationMs: 0,
      previous: undefined,
    }));
    if (!restore) for (const r of this.rules) if (r.alerts) r.alerts.restored = true;
  }

  /** `file;name`, the `rule_group` label Prometheus gives a group's metrics. */
  get key(): string {
    return `${this.def.file};${this.def.name}`;
  }

  /** Takes over the state of the same group before a reload (rules matched by kind and name, in order). */
  copyStateFrom(old: Group): void {
    const pool = new Map<string, RuleRuntime[]>();
    for (const r of old.rules) {
      const k = `${r.def.kind}\u0000${r.def.name}`;
      pool.set(k, [...(pool.get(k) ?? []), r]);
    }
    for (const r of this.rules) {
      const prev = pool.get(`${r.def.kind}\u0000${r.def.name}`)?.shift();
      if (!prev) continue;
      r.previous = prev.previous;
      r.health = prev.health;
      r.lastError = prev.lastError;
      r.lastEvalMs = prev.lastEvalMs;
      r.evalDurationMs = prev.evalDurationMs;
      if (r.alerts && prev.alerts) {
        for (const [k, a] of prev.alerts.active) r.alerts.active.set(k, a);
        r.alerts.restored = prev.alerts.restored;
      }
    }
    this.lastEvalMs = old.lastEvalMs;
    this.lastDurationMs = old.lastDurationMs;
    this.shouldRestore = old.shouldRestore;
  }

  /** Evaluates every rule at `tsMs`, in order. Never rejects: a failing rule is recorded on it. */
  async evaluate(tsMs: number, env: GroupEnv): Promise<GroupEvalResult> {
    const started = performance.now();
    const transitions: Transition[] = [];
    const toSend: PostableAlert[] = [];
    let failures = 0;
    for (const [i, rule] of this.rules.entries()) {
      // each rule in a turn of its own: the loop serves requests and collectors between rules
      if (i > 0 && env.clock !== undefined) await env.clock.yield();
      const t0 = performance.now();
      if (env.clock !== undefined) env.clock.at = `rule ${rule.def.name}`;
      try {
        const result = await env.engine.instant(rule.def.expr, tsMs, { timeoutMs: env.queryTimeoutMs, rawOnly: true });
        // a long query ends its slice here, so alert state and writing start a new one
        await env.clock?.yieldAfter(SLICE_BUDGET_MS);
        const vector = toVector(result.value, tsMs);
        let samples: OutSample[];
        if (rule.alerts) {
          const out = rule.alerts.apply(vector, tsMs, this.def.limit);
          samples = out.samples;
          transitions.push(...out.transitions);
        } else {
          samples = recordingSamples(rule.def.name, rule.def.labels, vector, this.def.limit);
        }
        await env.clock?.yieldAfter(SLICE_BUDGET_MS);
        rule.previous = await env.writer.write(samples, tsMs, rule.previous, 'untyped');
        rule.health = 'ok';
        rule.lastError = '';
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        rule.health = 'err';
        rule.lastError = err.message;
        failures++;
        env.onRuleError?.(rule, err);
      }
      if (rule.alerts) {
        for (const a of rule.alerts.alertsToSend(tsMs, env.resendDelayMs, this.intervalMs)) toSend.push(postable(a, env, rule.def.expr));
      }
      rule.lastEvalMs = tsMs;
      rule.evalDurationMs = performance.now() - t0;
    }
    this.lastEvalMs = tsMs;
    this.lastDurationMs = performance.now() - started;
    return { transitions, toSend, rulesEvaluated: this.rules.length, failures };
  }

  /**
   * Prometheus' RestoreForState: for each pending alert of a rule whose `for` is at least
   * `gracePeriodMs`, the activeAt of the last ALERTS_FOR_STATE sample within
   * `outageToleranceMs` before `tsMs`, shifted by the time Larder was down.
   */
  async restoreForState(tsMs: number, store: Pick<Store, 'readSamples'>, outageToleranceMs: number, gracePeriodMs: number): Promise<number> {
    let restored = 0;
    for (const rule of this.rules) {
      const st = rule.alerts;
      if (!st) continue;
      const hold = st.def.forMs;
      if (hold >= gracePeriodMs) {
        for (const a of st.active.values()) {
          if (a.state !== 'pending') continue;
          const r = await store.readSamples({
            name: 'ALERTS_FOR_STATE',
            matchers: Object.entries(a.labels).map(([label, value]) => ({ label, op: '=' as const, value })),
            fromMs: Math.max(0, tsMs - outageToleranceMs),
            toMs: tsMs + 1,
          });
          const want = labelsId(a.labels);
          const series = r.series.find((s) => labelsId(s.labels) === want);
          if (!series) continue;
          const own = r.samples.filter((x) => x.seriesId === series.id);
          const last = own[own.length - 1];
          if (!last || Number.isNaN(last.value)) continue;
          const downAtMs = Math.floor(last.timeMs / 1000) * 1000;
          let activeAtMs = Math.floor(last.value) * 1000;
          const remaining = hold - (downAtMs - activeAtMs);
          if (remaining <= 0) {
            // it was firing when Larder went down: it fires again at the next evaluation if still true
          } else if (remaining < gracePeriodMs) {
            activeAtMs = tsMs + gracePeriodMs - hold;
          } else {
            activeAtMs += tsMs - downAtMs;
          }
          a.activeAtMs = activeAtMs;
          restored++;
        }
      }
      st.restored = true;
    }
    this.shouldRestore = false;
    return restored;
  }

  /** Firing alerts of this group now, by rule name and label set. */
  firing(): Alert[] {
    return this.rules.flatMap((r) => r.alerts?.activeAlerts().filter((a) => a.state === 'firing') ?? []);
  }
}

function postable(a: Alert, env: Pick<GroupEnv, 'externalLabels' | 'externalURL'>, expr: string): PostableAlert {
  const out: PostableAlert = {
    labels: { ...env.externalLabels, ...a.labels },
    annotations: { ...a.annotations },
    startsAt: ISO(a.firedAtMs ?? a.activeAtMs),
    endsAt: ISO(a.resolvedAtMs ?? a.validUntilMs ?? a.activeAtMs),
  };
  return env.externalURL !== '' ? { ...out, generatorURL: generatorURL(env.externalURL, expr) } : out;
}

/** A rule's query value as a vector: a scalar is one sample without labels; anything else is an error. */
function toVector(v: { type: string } & ({ type: 'vector'; samples: readonly InstantSample[] } | { type: 'scalar'; value: number } | { type: 'string' } | { type: 'matrix' }), tsMs: number): readonly InstantSample[] {
  if (v.type === 'vector') return v.samples;
  if (v.type === 'scalar') return [{ metric: {}, timeMs: tsMs, value: v.value }];
  throw new RuleEvalError('rule result is not a vector or scalar');
}

/** A recording rule's output: the metric renamed, the rule's labels applied (an empty value removes one). */
function recordingSamples(name: string, labels: Readonly<Record<string, string>>, vector: readonly InstantSample[], limit: number): OutSample[] {
  const out: OutSample[] = [];
  const seen = new Set<string>();
  for (const s of vector) {
    const l: Record<string, string> = { ...s.metric };
    delete l['__name__'];
    for (const [k, v] of Object.entries(labels)) {
      if (v === '') delete l[k];
      else l[k] = v;
    }
    const id = labelsId(l);
    if (seen.has(id)) throw new RuleEvalError('vector contains metrics with the same labelset after applying rule labels');
    seen.add(id);
    out.push({ name, labels: l, value: s.value });
  }
  if (limit > 0 && out.length > limit) throw new RuleEvalError(`exceeded limit of ${limit} with ${out.length} series`);
  return out;
}

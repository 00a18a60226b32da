/**
 * The rule manager: loads rule files, runs each group on its own interval (groups
 * independent, never overlapping themselves; a late evaluation skips the missed ones
 * and counts them), writes ALERTS / ALERTS_FOR_STATE and recording results into the
 * store, records every firing and resolution in alert_history, hands alerts to the
 * sinks, and reloads on request keeping the old rules when the new ones are bad.
 */
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { AlertRecord, Labels, Store } from '../../storage/store.js';
import type { QueryEngine } from '../../query/types.js';
import { ConstMetric } from '../../exporters/const-metric.js';
import type { Logger } from '../log.js';
import type { AlertSink, PostableAlert } from './types.js';
import type { Transition } from './alert-state.js';
import { labelsId } from './alert-state.js';
import { Group, type GroupEnv } from './group.js';
import { HistoryWriter } from './history.js';
import { loadRules, RuleLoadError, type GroupDef, type RuleFileSource } from './load.js';
import { SampleWriter } from './sample-writer.js';
import { inScope } from './scope.js';
import { GroupReads } from './group-reads.js';
import { SliceClock, timedStore } from './slice-clock.js';

/** Options of the rule manager (the `rules.*` options, and what it plugs into). */
export interface RuleManagerOptions {
  readonly registry: Registry;
  readonly log: Logger;
  /** The store rules read and write; undefined while none is open. */
  readonly store: () => Store | undefined;
  /** The PromQL engine over a store. @default createQueryEngine(store) (raw samples) */
  readonly createEngine?: (store: Store) => QueryEngine;
  /** Rule files: paths or globs (`--rules.file`). */
  readonly files: readonly string[];
  /** More rule files given as objects (the bundled rules). @default none */
  readonly extra?: () => readonly RuleFileSource[];
  /** Interval of a group without its own. @default 60_000 */
  readonly evaluationIntervalMs?: number;
  /** @default 60_000 */
  readonly resendDelayMs?: number;
  /** @default 3_600_000 */
  readonly outageToleranceMs?: number;
  /** @default 600_000 */
  readonly gracePeriodMs?: number;
  /** Where alerts go. @default none */
  readonly sinks?: readonly AlertSink[];
  /** Added to alerts sent to sinks (not to stored series), as Prometheus' external_labels. @default {} */
  readonly externalLabels?: Labels;
  /** Base of alerts' generatorURL and `$externalURL`. @default '' (no generatorURL) */
  readonly externalURL?: string;
  /** Longest one rule query may run. @default 120_000 */
  readonly queryTimeoutMs?: number;
  /** The clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** No timers: groups run only through `evaluateAll` (tests, `larder test rules`). @default false */
  readonly manual?: boolean;
}

/** A group as the API lists it. */
export type GroupView = Group;

/** Prometheus' EvalTimestamp offset: a stable spread of groups across the interval (FNV-1a 64 of file;name). */
function groupOffset(key: string, intervalMs: number): number {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(h % BigInt(intervalMs));
}

/** The latest evaluation time of a group at or before `nowMs`. */
export function evalTimestamp(key: string, intervalMs: number, nowMs: number): number {
  const offset = groupOffset(key, intervalMs);
  const adj = nowMs - offset;
  return adj - (((adj % intervalMs) + intervalMs) % intervalMs) + offset;
}

interface Running {
  group: Group;
  /** The group's reads through one prefetch per evaluation, the engine over them, and its writer, all timed by `clock`. */
  reads: { view: GroupReads; engine: QueryEngine; writer: SampleWriter; store: Store } | undefined;
  /** Times the slices of this group's evaluations (slice-clock.ts). */
  readonly clock: SliceClock;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  lastScheduledMs: number | undefined;
  evaluations: number;
}

/** The store the rules use, and the factory of engines over it (or a view of it). */
interface EngineContext {
  readonly store: Store;
  readonly create: (store: Store) => QueryEngine;
}

/** A slice longer than this is logged (debug) with what the evaluation was doing, ms. */
const SLICE_LOG_MS = 5;

/** Severity of an alert for alert_history: its `severity` label when it is one the seed knows. */
function severityOf(labels: Labels): 'info' | 'warning' | 'critical' {
  const s = labels['severity'];
  return s === 'info' || s === 'critical' || s === 'warning' ? s : s === 'page' ? 'critical' : 'warning';
}

function sortedLabels(l: Labels): Labels {
  return Object.fromEntries(Object.keys(l).sort().map((k) => [k, l[k]!]));
}

/** Evaluates rule groups on their intervals. */
export class RuleManager {
  private readonly opts: Required<Omit<RuleManagerOptions, 'createEngine' | 'extra'>> & Pick<RuleManagerOptions, 'createEngine' | 'extra'>;
  private running = new Map<string, Running>();
  private started = false;
  private engineOf: EngineContext | undefined;
  private readonly history: HistoryWriter;
  private readonly alertsMetric: ConstMetric;
  private readonly forStateMetric: ConstMetric;
  private readonly m: {
    evaluations: Counter<'rule_group'>;
    failures: Counter<'rule_group'>;
    missed: Counter<'rule_group'>;
    iterations: Counter<'rule_group'>;
    lastDuration: Gauge<'rule_group'>;
    longestSlice: Gauge<'rule_group'>;
    lastEval: Gauge<'rule_group'>;
    interval: Gauge<'rule_group'>;
    rules: Gauge<'rule_group'>;
    reloadOk: Gauge;
    reloadTime: Gauge;
    notificationsSent: Counter;
  };
  private loadedEngine: Promise<(store: Store) => QueryEngine> | undefined;

  constructor(opts: RuleManagerOptions) {
    this.opts = {
      evaluationIntervalMs: 60_000,
      resendDelayMs: 60_000,
      outageToleranceMs: 3_600_000,
      gracePeriodMs: 600_000,
      sinks: [],
      externalLabels: {},
      externalURL: '',
      queryTimeoutMs: 120_000,
      now: Date.now,
      manual: false,
      ...opts,
    };
    const registers = [opts.registry];
    const labelNames = ['rule_group'] as const;
    this.m = {
      evaluations: new Counter({ name: 'larder_rule_evaluations_total', help: 'Rule evaluations, by rule group.', labelNames, registers }),
      failures: new Counter({ name: 'larder_rule_evaluation_failures_total', help: 'Rule evaluations that failed, by rule group.', labelNames, registers }),
      missed: new Counter({ name: 'larder_rule_group_iterations_missed_total', help: 'Group evaluations skipped because the previous one was still running or late.', labelNames, registers }),
      iterations: new Counter({ name: 'larder_rule_group_iterations_total', help: 'Group evaluations scheduled (run or missed).', labelNames, registers }),
      lastDuration: new Gauge({ name: 'larder_rule_group_last_duration_seconds', help: 'Duration of the last evaluation of the rule group.', labelNames, registers }),
      longestSlice: new Gauge({
        name: 'larder_rule_evaluation_longest_slice_seconds',
        help: "Longest stretch the last evaluation of the rule group held the event loop (time on a CPU of its longest synchronous slice; on Linux, time the thread waited for a CPU held by other processes is not counted).",
        labelNames,
        registers,
      }),
      lastEval: new Gauge({ name: 'larder_rule_group_last_evaluation_timestamp_seconds', help: 'Time of the last evaluation of the rule group (its evaluation timestamp).', labelNames, registers }),
      interval: new Gauge({ name: 'larder_rule_group_interval_seconds', help: 'Evaluation interval of the rule group.', labelNames, registers }),
      rules: new Gauge({ name: 'larder_rule_group_rules', help: 'Rules in the rule group.', labelNames, registers }),
      reloadOk: new Gauge({ name: 'larder_rules_last_reload_successful', help: 'Whether the last rule load or reload succeeded (1) or kept the old rules (0).', registers }),
      reloadTime: new Gauge({ name: 'larder_rules_last_reload_success_timestamp_seconds', help: 'Time of the last successful rule load or reload.', registers }),
      notificationsSent: new Counter({ name: 'larder_rule_alerts_sent_total', help: 'Alerts handed to the notifiers (firing and resolved, re-sends included).', registers }),
    };
    this.alertsMetric = new ConstMetric(opts.registry, { name: 'ALERTS', help: 'Alerts that are pending or firing, by their labels and alertstate.' });
    this.forStateMetric = new ConstMetric(opts.registry, { name: 'ALERTS_FOR_STATE', help: 'When each pending or firing alert became active, Unix seconds.' });
    this.history = new HistoryWriter(() => this.opts.store(), opts.log);
  }

  /** The groups now loaded, in file and name order. */
  groups(): Group[] {
    return [...this.running.values()].map((r) => r.group);
  }

  /**
   * Loads the rules and starts evaluating. Throws RuleLoadError (every problem as
   * `file:line: reason`) when a file is bad: the caller refuses to start.
   */
  async start(): Promise<void> {
    if (this.started) return;
    const defs = this.load();
    this.started = true;
    this.install(defs, true);
    this.m.reloadOk.set(1);
    this.m.reloadTime.set(this.opts.now() / 1000);
  }

  /**
   * Loads the rule files again. Good ones replace the running groups (keeping the state
   * of groups and rules that stay); bad ones are logged and the old rules keep running.
   * Resolves with the error, or undefined when the reload succeeded.
   */
  async reload(): Promise<RuleLoadError | undefined> {
    let defs: GroupDef[];
    try {
      defs = this.load();
    } catch (e) {
      if (!(e instanceof RuleLoadError)) throw e;
      this.m.reloadOk.set(0);
      this.opts.log.error('rule reload failed; keeping the rules loaded before', { err: e.message });
      return e;
    }
    this.install(defs, false);
    this.m.reloadOk.set(1);
    this.m.reloadTime.set(this.opts.now() / 1000);
    this.opts.log.info('rules reloaded', { groups: defs.length, rules: defs.reduce((n, g) => n + g.rules.length, 0) });
    return undefined;
  }

  /** Stops every group (waiting for running evaluations) and flushes the history queue. */
  async stop(): Promise<void> {
    this.started = false;
    const old = [...this.running.values()];
    this.running.clear();
    for (const r of old) clearTimeout(r.timer);
    await Promise.all(old.map((r) => r.running));
    await this.history.flush();
  }

  /** Evaluates every group once at `tsMs` and writes the history rows it made (tests, and `larder test rules`). */
  async evaluateAll(tsMs: number): Promise<void> {
    for (const r of this.running.values()) await this.runOnce(r, tsMs);
    await this.history.flush();
  }

  private load(): GroupDef[] {
    return loadRules(this.opts.files, this.opts.extra?.() ?? []);
  }

  private install(defs: readonly GroupDef[], first: boolean): void {
    const next = new Map<string, Running>();
    for (const d of defs) {
      const group = new Group(d, d.intervalMs ?? this.opts.evaluationIntervalMs, this.opts, first);
      const old = this.running.get(group.key);
      if (old) group.copyStateFrom(old.group);
      next.set(group.key, { group, reads: undefined, clock: new SliceClock(), timer: undefined, running: undefined, lastScheduledMs: old?.lastScheduledMs, evaluations: old?.evaluations ?? 0 });
    }
    for (const [key, r] of this.running) {
      clearTimeout(r.timer);
      const n = next.get(key);
      // an evaluation still running finishes on the old group; the new one waits for it
      if (n && r.running) {
        const carried: Promise<void> = r.running.finally(() => {
          if (n.running === carried) n.running = undefined;
        });
        n.running = carried;
      }
      if (!n) {
        this.m.rules.remove({ rule_group: key });
        this.m.longestSlice.remove({ rule_group: key });
      }
    }
    this.running = next;
    for (const [key, r] of next) {
      this.m.interval.set({ rule_group: key }, r.group.intervalMs / 1000);
      this.m.rules.set({ rule_group: key }, r.group.rules.length);
      this.schedule(r);
    }
    this.publishAlerts();
  }

  private schedule(r: Running): void {
    if (!this.started || this.opts.manual || this.running.get(r.group.key) !== r) return;
    const now = this.opts.now();
    const next = evalTimestamp(r.group.key, r.group.intervalMs, now) + r.group.intervalMs;
    r.timer = setTimeout(() => void this.tick(r), Math.max(0, next - now));
    r.timer.unref();
  }

  private async tick(r: Running): Promise<void> {
    if (!this.started || this.running.get(r.group.key) !== r) return;
    if (r.running) {
      // the previous evaluation (of this group, before a reload) is still on: skip this one
      this.m.missed.inc({ rule_group: r.group.key });
      this.m.iterations.inc({ rule_group: r.group.key });
      this.schedule(r);
      return;
    }
    const ts = evalTimestamp(r.group.key, r.group.intervalMs, this.opts.now());
    if (r.lastScheduledMs !== undefined) {
      const missed = Math.round((ts - r.lastScheduledMs) / r.group.intervalMs) - 1;
      if (missed > 0) {
        this.m.missed.inc({ rule_group: r.group.key }, missed);
        this.m.iterations.inc({ rule_group: r.group.key }, missed);
      }
      if (ts <= r.lastScheduledMs) return this.schedule(r);
    }
    r.lastScheduledMs = ts;
    await this.runOnce(r, ts);
    this.schedule(r);
  }

  private engine(): EngineContext | undefined {
    const store = this.opts.store();
    if (!store) return undefined;
    if (this.engineOf?.store !== store) return undefined;
    return this.engineOf;
  }

  private async prepareEngine(): Promise<EngineContext | undefined> {
    const ready = this.engine();
    if (ready) return ready;
    const store = this.opts.store();
    if (!store) return undefined;
    const create = this.opts.createEngine ?? (await (this.loadedEngine ??= import('../../query/engine.js').then((m) => (s: Store) => m.createQueryEngine(s, { timeoutMs: this.opts.queryTimeoutMs }))));
    this.engineOf = { store, create };
    return this.engineOf;
  }

  /** One evaluation of one group at `ts`, with everything that follows it. Never rejects. */
  private async runOnce(r: Running, ts: number): Promise<void> {
    const clock = r.clock;
    clock.reset();
    clock.at = 'start';
    clock.begin();
    const work = (async () => {
      const ctx = this.engine() ?? (await clock.wait(this.prepareEngine()));
      const key = r.group.key;
      this.m.iterations.inc({ rule_group: key });
      if (!ctx) {
        this.opts.log.once('rules-no-store', 'warn', 'rule evaluation skipped: no store is open');
        this.m.missed.inc({ rule_group: key });
        return;
      }
      this.opts.log.clearOnce('rules-no-store');
      // the group's reads in one store call (group-reads.ts), its engine reading through them
      if (r.reads?.store !== ctx.store) {
        // every store call of the evaluation goes through the clock: where it waits, the slice ends
        const timed = timedStore(ctx.store, clock);
        const view = new GroupReads(timed);
        r.reads = { view, engine: ctx.create(timedStore(view.store, clock)), writer: new SampleWriter(timed), store: ctx.store };
      }
      const reads = r.reads;
      clock.at = 'prefetch';
      try {
        await reads.view.prefetch(r.group.def, ts);
      } catch (e) {
        reads.view.clear(); // every rule reads the store itself, and meets the problem there
        this.opts.log.once(`rules-prefetch:${key}`, 'warn', 'rule group prefetch failed; rules read the store one by one', { group: key, err: (e as Error).message });
      }
      const env: GroupEnv = {
        engine: reads.engine,
        writer: reads.writer,
        clock,
        externalLabels: this.opts.externalLabels,
        externalURL: this.opts.externalURL,
        resendDelayMs: this.opts.resendDelayMs,
        queryTimeoutMs: this.opts.queryTimeoutMs,
        onRuleError: (rule, err) => this.opts.log.once(`rule:${key}:${rule.def.name}:${err.message}`, 'warn', 'rule evaluation failed', { group: key, rule: rule.def.name, err: err.message }),
      };
      let res: Awaited<ReturnType<Group['evaluate']>>;
      try {
        res = await r.group.evaluate(ts, env);
      } finally {
        reads.view.clear(); // the snapshot is this evaluation's only
      }
      r.evaluations++;
      this.m.evaluations.inc({ rule_group: key }, res.rulesEvaluated);
      if (res.failures > 0) this.m.failures.inc({ rule_group: key }, res.failures);
      this.m.lastDuration.set({ rule_group: key }, r.group.lastDurationMs / 1000);
      await clock.yield(); // the hand-off below in a turn of its own
      clock.at = 'history, notifications, ALERTS';
      this.m.lastEval.set({ rule_group: key }, ts / 1000);
      this.recordTransitions(res.transitions);
      this.send(res.toSend);
      // as Prometheus: restore `for` state after the second evaluation since start, once
      // recording rules have had a chance to fill in what alerts depend on
      if (r.group.shouldRestore && r.evaluations >= 2) {
        clock.at = 'restore';
        try {
          await r.group.restoreForState(ts, reads.view.base, this.opts.outageToleranceMs, this.opts.gracePeriodMs);
        } catch (e) {
          r.group.shouldRestore = false;
          for (const rule of r.group.rules) if (rule.alerts) rule.alerts.restored = true;
          this.opts.log.warn('restoring alert for-state failed', { group: key, err: (e as Error).message });
        }
        await this.resolveStaleHistory(r.group, reads.view.base, clock);
      }
      this.publishAlerts();
    })()
      .catch((e: unknown) => this.opts.log.error('rule group evaluation failed', { group: r.group.key, err: e as Error }))
      .finally(() => {
        clock.end();
        if (clock.slices === 0 || this.running.get(r.group.key) !== r) return;
        this.m.longestSlice.set({ rule_group: r.group.key }, clock.longestMs / 1000);
        if (clock.longestMs > SLICE_LOG_MS) this.opts.log.debug('rule evaluation held the event loop', { group: r.group.key, ms: Math.round(clock.longestMs * 100) / 100, at: clock.longestAt, slices: clock.slices });
      });
    r.running = work;
    try {
      await work;
    } finally {
      if (r.running === work) r.running = undefined;
    }
  }

  /** Firing transitions insert an alert_history row, resolutions close it (pending is not a row: the seed's statuses are firing and resolved). */
  private recordTransitions(ts: readonly Transition[]): void {
    for (const t of ts) {
      if (t.to === 'pending') continue;
      if (t.from === 'pending' && t.to === 'inactive') continue;
      const a = t.alert;
      const name = a.labels['alertname'] ?? '';
      const message = a.annotations['summary'] ?? a.annotations['description'] ?? name;
      this.history.push({
        name,
        severity: severityOf(a.labels),
        message,
        value: Number.isFinite(a.value) ? a.value : null,
        labels: a.labels,
        status: t.to === 'firing' ? 'firing' : 'resolved',
        firedMs: a.firedAtMs ?? a.activeAtMs,
        resolvedMs: t.to === 'inactive' ? (a.resolvedAtMs ?? this.opts.now()) : null,
      });
    }
  }

  /**
   * After a restart: alert_history rows still open for this group's alerting rules whose
   * alert does not fire now are closed, so active_alerts shows only what fires.
   */
  private async resolveStaleHistory(group: Group, store: Store, clock: SliceClock): Promise<void> {
    await clock.wait(this.history.flush());
    let open: AlertRecord[];
    try {
      open = await store.getActiveAlerts();
    } catch (e) {
      this.opts.log.warn('cannot read active alerts', { err: (e as Error).message });
      return;
    }
    const names = new Set(group.rules.filter((r) => r.alerts).map((r) => r.def.name));
    const firing = new Set(group.firing().map((a) => labelsId(a.labels)));
    for (const row of open) {
      // a scoped group's rows carry its scope; the others are another Larder's on a shared database
      if (!names.has(row.name) || firing.has(labelsId(row.labels)) || !inScope(row.labels, group.def.scope)) continue;
      this.history.push({ name: row.name, severity: row.severity, message: row.message, value: row.value, labels: row.labels, status: 'resolved', firedMs: row.firedMs, resolvedMs: this.opts.now() });
    }
  }

  private send(alerts: readonly PostableAlert[]): void {
    if (alerts.length === 0) return;
    this.m.notificationsSent.inc(alerts.length);
    for (const sink of this.opts.sinks) {
      try {
        sink.send(alerts.map((a) => ({ ...a, labels: { ...a.labels }, annotations: { ...a.annotations } })));
      } catch (e) {
        this.opts.log.once(`sink-send:${(e as Error).message}`, 'error', 'a notifier refused alerts', { err: (e as Error).message });
      }
    }
  }

  /** ALERTS and ALERTS_FOR_STATE on /metrics: every pending and firing alert now. */
  private publishAlerts(): void {
    const alerts: { labels: Labels; value: number }[] = [];
    const forState: { labels: Labels; value: number }[] = [];
    for (const r of this.running.values()) {
      for (const rule of r.group.rules) {
        for (const a of rule.alerts?.activeAlerts() ?? []) {
          if (a.state === 'inactive') continue;
          alerts.push({ labels: sortedLabels({ ...a.labels, alertstate: a.state }), value: 1 });
          // only once restored: the recorder stores /metrics too, and an activeAt of "now" written
          // before the restore would be what the restore then reads
          if (rule.alerts?.restored === true) forState.push({ labels: sortedLabels(a.labels), value: Math.floor(a.activeAtMs / 1000) });
        }
      }
    }
    this.alertsMetric.set(alerts);
    this.forStateMetric.set(forState);
  }
}

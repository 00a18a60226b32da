/**
 * Named background jobs on node-schedule (cron expressions, seconds allowed). A job
 * never overlaps itself: a trigger while it runs is skipped and counted. A job never
 * rejects into the event loop; its failures are logged once and counted.
 */
import { createRequire } from 'node:module';
import type schedule from 'node-schedule';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { parseSimpleCron, scheduleSimpleCron, type Trigger } from './simple-cron.js';

/** node-schedule, loaded on first use: Larder's default schedules do without it (simple-cron.ts). */
let nodeSchedule: typeof schedule | undefined;
function loadNodeSchedule(): typeof schedule {
  nodeSchedule ??= createRequire(import.meta.url)('node-schedule') as typeof schedule;
  return nodeSchedule;
}

/** A job's function. */
export type JobFn = () => Promise<unknown>;

interface Entry {
  readonly name: string;
  readonly fn: JobFn;
  job: Trigger | undefined;
  running: Promise<void> | undefined;
}

/** A set of jobs. */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly runs: Counter;
  private readonly skipped: Counter;
  private readonly duration: Histogram;
  private readonly lastSuccess: Gauge;
  private stopped = false;

  constructor(
    registry: Registry,
    private readonly log: Logger,
  ) {
    const registers = [registry];
    this.runs = new Counter({ name: 'larder_job_runs_total', help: 'Background job runs by outcome.', labelNames: ['job', 'result'], registers });
    this.skipped = new Counter({ name: 'larder_job_skipped_total', help: 'Job triggers skipped because the previous run was still going.', labelNames: ['job'], registers });
    this.duration = new Histogram({ name: 'larder_job_duration_seconds', help: 'Duration of background job runs.', labelNames: ['job'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300], registers });
    this.lastSuccess = new Gauge({ name: 'larder_job_last_success_timestamp_seconds', help: 'When each background job last succeeded.', labelNames: ['job'], registers });
  }

  /**
   * Adds a job. `when` is a cron expression (5 or 6 fields) or a node-schedule rule;
   * undefined adds a job that only runs through `run()`. Throws on a bad expression.
   * An expression whose seconds, minutes and hours are `*`, numbers, lists or `*\/N`
   * steps, every day, runs on one timer of its own (simple-cron.ts); the rest on
   * node-schedule.
   */
  add(name: string, when: string | schedule.RecurrenceRule | undefined, fn: JobFn): void {
    if (this.entries.has(name)) throw new Error(`job "${name}" is already scheduled`);
    const entry: Entry = { name, fn, job: undefined, running: undefined };
    if (when !== undefined) {
      const simple = typeof when === 'string' ? parseSimpleCron(when) : undefined;
      const job = simple ? scheduleSimpleCron(simple, () => void this.run(name)) : loadNodeSchedule().scheduleJob(name, when, () => void this.run(name));
      if (!job) throw new Error(`job "${name}": invalid schedule ${typeof when === 'string' ? JSON.stringify(when) : 'rule'}`);
      entry.job = job;
    }
    this.entries.set(name, entry);
  }

  /** Runs a job now unless it is running (then waits for that run). Never rejects. */
  run(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.reject(new Error(`no job named "${name}"`));
    if (entry.running) {
      this.skipped.inc({ job: name });
      return entry.running;
    }
    if (this.stopped) return Promise.resolve();
    const end = this.duration.startTimer({ job: name });
    const run = (async () => {
      try {
        await entry.fn();
        this.runs.inc({ job: name, result: 'success' });
        this.lastSuccess.set({ job: name }, Date.now() / 1000);
        if (this.log.clearOnce(`job:${name}`)) this.log.info('job succeeds again', { job: name });
      } catch (err) {
        this.runs.inc({ job: name, result: 'error' });
        this.log.once(`job:${name}`, 'error', 'job failed', { job: name, error: err as Error });
      } finally {
        end();
      }
    })().finally(() => {
      entry.running = undefined;
    });
    entry.running = run;
    return run;
  }

  /** When a job fires next (undefined when it has no schedule). */
  nextRun(name: string): Date | undefined {
    const d = this.entries.get(name)?.job?.nextInvocation();
    return d ? new Date(d.getTime()) : undefined;
  }

  /** Names of the jobs. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  /** Cancels every schedule and waits for runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) e.job?.cancel();
    await Promise.all([...this.entries.values()].map((e) => e.running));
  }
}

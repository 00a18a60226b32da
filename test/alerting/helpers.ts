/** Shared pieces of the alerting tests: a store in a temp folder, series writing, a sink that records. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { openSqliteStore } from '../../storage/sqlite-store.js';
import type { Labels, Store } from '../../storage/store.js';
import type { AlertSink, PostableAlert } from '../../src/alerting/types.js';
import { RuleManager, type RuleManagerOptions } from '../../src/alerting/manager.js';
import { Logger } from '../../src/log.js';

export const T0 = Date.UTC(2026, 0, 1);
export const MIN = 60_000;

/** A sink that keeps every batch it is sent. */
export class RecordingSink implements AlertSink {
  readonly batches: PostableAlert[][] = [];
  send(alerts: PostableAlert[]): void {
    this.batches.push(alerts);
  }
  async stop(): Promise<void> {}
  /** Every alert sent, in order. */
  get all(): PostableAlert[] {
    return this.batches.flat();
  }
}

/** A temp folder with a SQLite store and a settable clock. */
export async function sqliteFixture(t: Test, name: string): Promise<{ dir: string; store: Store; clock: { now: number }; reopen(): Promise<Store> }> {
  const dir = mkdtempSync(join(tmpdir(), `larder-${name}-`));
  const clock = { now: T0 };
  const path = join(dir, 'alerts.db');
  let store = await openSqliteStore({ path, now: () => clock.now });
  const fixture = {
    dir,
    store,
    clock,
    async reopen(): Promise<Store> {
      await store.close();
      store = await openSqliteStore({ path, now: () => clock.now });
      fixture.store = store;
      return store;
    },
  };
  t.teardown(async () => {
    await fixture.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}

/** Writes one series' values, one per `stepMs` from `startMs` (null = no sample). */
export async function writeSeries(store: Store, name: string, labels: Labels, startMs: number, stepMs: number, values: readonly (number | null)[]): Promise<void> {
  const [id] = await store.resolveSeries([{ name, labels, type: 'gauge' }]);
  const samples = values.flatMap((v, i) => (v === null ? [] : [{ seriesId: id!, timeMs: startMs + i * stepMs, value: v }]));
  await store.writeSamples(samples);
}

/** Writes a rule file into `dir` and returns its path. */
export function ruleFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Log lines captured by a test. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger('info', (l) => void lines.push(l)), lines };
}

/** A manager over `store` with a fixed clock, for evaluating at chosen times. */
export function manager(store: () => Store | undefined, files: readonly string[], clock: { now: number }, extra: Partial<RuleManagerOptions> = {}): { mgr: RuleManager; registry: Registry; sink: RecordingSink; lines: string[] } {
  const registry = new Registry();
  const sink = new RecordingSink();
  const { log, lines } = capturingLogger();
  const mgr = new RuleManager({ registry, log, store, files, sinks: [sink], now: () => clock.now, ...extra });
  return { mgr, registry, sink, lines };
}

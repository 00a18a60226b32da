/** Shared by the host-collector tests: run collectors on a fresh Registry and read what they exposed. */
import { Registry } from 'prom-client';
import { fileURLToPath } from 'node:url';
import type { CollectorDefinition, HostCollectorOptions } from '../../exporters/collector.js';
import { CollectorSet } from '../../exporters/collector-set.js';
import type { MetricFamily, Sample } from '../../exporters/metric-family.js';
import { loadConfig } from '../../src/config.js';
import { collectSnapshot } from '../../src/exposition/snapshot.js';

/** Absolute path of a fixture tree under test/fixtures. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** The default collector options (as `larder serve` would have them) with overrides. */
export function collectorOptions(over: Partial<HostCollectorOptions> = {}): HostCollectorOptions {
  return { ...loadConfig({ argv: [], env: {} }).config.collectors, ...over };
}

/** Log lines a run produced. */
export interface Captured {
  readonly warnings: string[];
  readonly infos: string[];
}

/** Collectors on their own registry, updated on demand. */
export interface Harness {
  readonly registry: Registry;
  readonly set: CollectorSet;
  readonly log: Captured;
  /** Runs every collector once and returns the families by name. */
  collect(): Promise<Map<string, MetricFamily>>;
  stop(): void;
}

/** Builds a CollectorSet of `defs` with `options` and a fixed or real clock. */
export function harness(defs: readonly CollectorDefinition[], options: Partial<HostCollectorOptions> = {}, now: () => number = Date.now): Harness {
  const registry = new Registry();
  const log: Captured = { warnings: [], infos: [] };
  const set = new CollectorSet(
    { registry, options: collectorOptions(options), log: { warn: (m, f) => log.warnings.push(`${m} ${JSON.stringify(f ?? {})}`), info: (m, f) => log.infos.push(`${m} ${JSON.stringify(f ?? {})}`) }, now },
    defs,
    { interval: 60_000, slowInterval: 60_000, timeout: 10_000 },
  );
  return {
    registry,
    set,
    log,
    async collect() {
      await set.updateAll();
      const snap = await collectSnapshot(registry);
      return new Map(snap.families.map((f) => [f.name, f]));
    },
    stop: () => set.stop(),
  };
}

/** The samples of `name` matching `labels` (a subset). */
export function samples(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): Sample[] {
  const f = families.get(name);
  if (!f) return [];
  return f.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one value of `name{labels}`; undefined when absent, throws when ambiguous. */
export function value(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(families, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

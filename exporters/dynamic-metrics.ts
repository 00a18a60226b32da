/**
 * Families a collector learns only by reading (every /proc/meminfo field, the
 * families of textfiles): registered on first sight, re-registered when their HELP or
 * type changes, unregistered when they disappear, so /metrics mirrors the source.
 */
import type { Registry } from 'prom-client';
import { ConstFamily } from './const-family.js';
import type { MetricFamily } from './metric-family.js';

/** The dynamic families of one collector. */
export class DynamicFamilies {
  private readonly families = new Map<string, ConstFamily>();

  constructor(private readonly registry: Registry) {}

  /**
   * Makes the registered set exactly `families`. Throws (leaving the families
   * registered so far in place) when a name clashes with a metric registered elsewhere.
   */
  replace(families: readonly MetricFamily[]): void {
    const wanted = new Set(families.map((f) => f.name));
    for (const name of [...this.families.keys()]) {
      if (!wanted.has(name)) {
        this.registry.removeSingleMetric(name);
        this.families.delete(name);
      }
    }
    for (const fam of families) {
      let f = this.families.get(fam.name);
      if (f && (f.help !== fam.help || f.type !== fam.type)) {
        this.registry.removeSingleMetric(fam.name);
        this.families.delete(fam.name);
        f = undefined;
      }
      if (!f) {
        f = new ConstFamily(this.registry, fam);
        this.families.set(fam.name, f);
      }
      f.set(fam.samples);
    }
  }

  /** Names registered now. */
  names(): string[] {
    return [...this.families.keys()];
  }
}

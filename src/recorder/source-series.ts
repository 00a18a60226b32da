/**
 * The series of one source (the registry's snapshots, or one scrape target's reports),
 * kept from one report to the next so that a steady source costs no per-sample
 * objects: flattenFamilies builds, for every sample of every tick, the stored label
 * set (the sample's labels with job, instance and the external labels merged in), its
 * sorted key string and a definition, and the staleness tracker a map of every key;
 * an idle Larder's main thread spent about a third of its time in the garbage
 * collector (docs/cost.md). Here a sample is matched to the series it was last time
 * by its family and position, checked label by label without allocating; only a
 * sample seen for the first time (or moved) builds its key and definition.
 *
 * Stale markers, as Prometheus' scrape loop writes them: a series of the previous
 * report missing from this one gets a stale marker at this report's time, so queries
 * stop drawing its last value for the 5-minute lookback. A target that is down reports
 * only `up` and the scrape series, so every other series of it goes stale at once.
 * Series with a timestamp of their own (a target's honoured timestamps) are not
 * tracked, as Prometheus does not stale them either. A series absent from a report is
 * forgotten (its id stays in the recorder's SeriesCache).
 */
import type { MetricFamily, Sample as ExposedSample } from '../../exporters/metric-family.js';
import type { Labels, SeriesDef } from '../../storage/store.js';
import { seriesKey, storedLabels } from './series-cache.js';

/** One series of a source. */
export interface SourceSeriesEntry {
  /** seriesKey of the stored name and labels. */
  readonly key: string;
  readonly def: SeriesDef;
  /** Its id in the store, once resolved. */
  id: number | undefined;
  /** The sample's name and labels as the source reported them (matched against the next report). */
  readonly sampleName: string;
  readonly rawLabels: Readonly<Record<string, string>>;
  readonly rawCount: number;
  /** The last report that had it, and the last that had it without a timestamp of its own. */
  touched: number;
  tracked: number;
  /** False once forgotten: a family slot still pointing at it no longer matches. */
  alive: boolean;
}

/** One report of a source: its samples as parallel columns. */
export interface SourceReport {
  readonly entries: SourceSeriesEntry[];
  readonly values: number[];
  /** Own timestamps (epoch ms) by index, only where a sample carried one; undefined when none did. */
  times: (number | undefined)[] | undefined;
}

/** Whether `s` is the sample `e` was made from: same name, same labels (any order). */
function sameSample(e: SourceSeriesEntry, s: ExposedSample): boolean {
  if (e.sampleName !== s.name) return false;
  let n = 0;
  for (const k in s.labels) {
    if (e.rawLabels[k] !== s.labels[k]) return false;
    n++;
  }
  return n === e.rawCount;
}

/** Key of a sample as reported (labels in the order given): a second chance when its position moved. */
function rawKey(s: ExposedSample): string {
  let out = s.name;
  for (const k in s.labels) out += `\u0000${k}\u0001${s.labels[k]}`;
  return out;
}

/** The series of one source across its reports. */
export class SourceSeries {
  private readonly byKey = new Map<string, SourceSeriesEntry>();
  private readonly byRaw = new Map<string, SourceSeriesEntry>();
  /** Family name → the entry of each sample position in the last report that had the family. */
  private readonly slots = new Map<string, { gen: number; readonly at: (SourceSeriesEntry | undefined)[] }>();
  private gen = 0;
  private busy: Promise<void> | undefined;

  /**
   * @param extraLabels job and instance of the source, winning over a sample's own (see flattenFamilies)
   * @param externalLabels added where a series lacks them
   */
  constructor(
    private readonly extraLabels: Labels | undefined,
    private readonly externalLabels: Labels | undefined,
  ) {}

  /** Series known (tracked or not). */
  get size(): number {
    return this.byKey.size;
  }

  /**
   * Waits for the report in progress of this source, if any, and takes the turn; call the
   * function returned when done. A report is cut in slices with the event loop let run
   * between them, and two reports of one source interleaved would mix their generations.
   */
  async turn(): Promise<() => void> {
    while (this.busy !== undefined) await this.busy;
    let release!: () => void;
    this.busy = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.busy = undefined;
      release();
    };
  }

  /** Starts a report: the samples added until `end()` are one report. */
  begin(): SourceReport {
    this.gen++;
    return { entries: [], values: [], times: undefined };
  }

  /** Adds the samples of `families` to `report` (OpenMetrics `_created` samples left out, as flattenFamilies does). */
  add(report: SourceReport, families: readonly MetricFamily[]): void {
    for (const f of families) {
      let family = this.slots.get(f.name);
      if (family === undefined) this.slots.set(f.name, (family = { gen: 0, at: [] }));
      family.gen = this.gen;
      const slots = family.at;
      slots.length = f.samples.length;
      for (let i = 0; i < f.samples.length; i++) {
        const s = f.samples[i]!;
        if (s.name.endsWith('_created') && s.name !== f.name) continue;
        let e = slots[i];
        if (e === undefined || !e.alive || !sameSample(e, s)) slots[i] = e = this.entryOf(f, s);
        e.touched = this.gen;
        if (s.timestampMs === undefined) e.tracked = this.gen;
        else (report.times ??= [])[report.entries.length] = s.timestampMs;
        report.entries.push(e);
        report.values.push(s.value);
      }
    }
  }

  /**
   * Ends the report: the series tracked in the previous report and not in this one,
   * each to get a stale marker; every series absent from this report is forgotten.
   */
  end(): SourceSeriesEntry[] {
    const vanished: SourceSeriesEntry[] = [];
    let forgotten = 0;
    for (const [key, e] of this.byKey) {
      if (e.tracked === this.gen - 1) vanished.push(e);
      if (e.touched !== this.gen) {
        e.alive = false;
        this.byKey.delete(key);
        forgotten++;
      }
    }
    if (forgotten > 0) for (const [k, e] of this.byRaw) if (!e.alive) this.byRaw.delete(k);
    for (const [name, family] of this.slots) if (family.gen !== this.gen) this.slots.delete(name);
    return vanished;
  }

  /** The series tracked in the last report (they get a marker when the source ends), and nothing kept. */
  endAll(): SourceSeriesEntry[] {
    const out: SourceSeriesEntry[] = [];
    for (const e of this.byKey.values()) {
      if (e.tracked === this.gen) out.push(e);
      e.alive = false;
    }
    this.byKey.clear();
    this.byRaw.clear();
    this.slots.clear();
    return out;
  }

  /** The entry of a sample whose position did not match: by its labels as given, else by its stored key, else new. */
  private entryOf(f: MetricFamily, s: ExposedSample): SourceSeriesEntry {
    const raw = rawKey(s);
    const known = this.byRaw.get(raw);
    if (known !== undefined) return known;
    const labels = storedLabels(s.labels, this.extraLabels, this.externalLabels);
    const key = seriesKey(s.name, labels);
    let e = this.byKey.get(key);
    if (e === undefined) {
      let rawCount = 0;
      for (const _ in s.labels) rawCount++;
      e = { key, def: { name: s.name, labels, type: f.type, help: f.help }, id: undefined, sampleName: s.name, rawLabels: s.labels, rawCount, touched: this.gen, tracked: -1, alive: true };
      this.byKey.set(key, e);
    }
    this.byRaw.set(raw, e);
    return e;
  }
}

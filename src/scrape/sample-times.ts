/**
 * A scrape's samples made ready to store, as Prometheus does it: each sample at the
 * timestamp its target exposed (`honor_timestamps: true`, the default) or at the
 * scrape time; a timestamp too far from the scrape time dropped; and of samples of
 * one series at one time only the first kept. Prometheus keeps such a scrape and
 * counts what it dropped (prometheus_target_scrapes_sample_duplicate_timestamp_total,
 * …_out_of_bounds_total); so does Larder, per target.
 */
import type { MetricFamily, Sample } from '../../exporters/metric-family.js';

/** How the samples' times are settled. */
export interface TimestampPolicy {
  /** Keep the timestamps the target exposed (else every sample is at the scrape time). */
  readonly honor: boolean;
  /** The scrape time, epoch ms. */
  readonly scrapeTimeMs: number;
  /** Oldest honoured timestamp, as an age at scrape time (ms); older samples are dropped. */
  readonly maxAgeMs: number;
  /** Newest honoured timestamp, as a time ahead of the scrape time (ms). */
  readonly maxAheadMs: number;
}

/** The samples to store, and what was dropped. */
export interface SettledSamples {
  readonly families: MetricFamily[];
  /** Samples of a series and time already seen in this scrape. */
  readonly duplicates: number;
  /** Samples whose exposed timestamp was outside the policy's window. */
  readonly outOfBounds: number;
}

/** Name and labels (in sorted order) and the time ('' for the scrape time). */
function sampleKey(s: Sample, timeMs: number | undefined): string {
  const keys = Object.keys(s.labels);
  if (keys.length > 1) keys.sort();
  let key = s.name;
  for (const k of keys) key += `\u0000${k}\u0001${s.labels[k]}`;
  return `${key}\u0002${timeMs ?? ''}`;
}

/** Settles the samples of one scrape (see the module comment). Pure. */
export function settleSamples(families: readonly MetricFamily[], policy: TimestampPolicy): SettledSamples {
  const seen = new Set<string>();
  let duplicates = 0;
  let outOfBounds = 0;
  const from = policy.scrapeTimeMs - policy.maxAgeMs;
  const to = policy.scrapeTimeMs + policy.maxAheadMs;
  const out: MetricFamily[] = families.map((f) => {
    const samples: Sample[] = [];
    for (const s of f.samples) {
      let sample = s;
      if (s.timestampMs !== undefined && !policy.honor) sample = { name: s.name, labels: s.labels, value: s.value };
      const ts = sample.timestampMs;
      if (ts !== undefined && (ts < from || ts > to)) {
        outOfBounds++;
        continue;
      }
      const key = sampleKey(sample, ts);
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      samples.push(sample);
    }
    return { ...f, samples };
  });
  return { families: out, duplicates, outOfBounds };
}

/**
 * Larder's own pack: its collectors, recorder, store and scrape targets
 * (src/recorder, src/recording-step.ts, src/scrape, exporters/collector-set.ts).
 */
import { alert, num, pct, secs, type RulePack } from '../model.js';

export const larderPack: RulePack = {
  name: 'larder',
  group: 'larder-self',
  title: 'Larder itself',
  about: 'Whether Larder measures and keeps what it should: collectors, the recorder, the store and its size cap, the PostgreSQL spool, scrape targets.',
  alerts: [
    alert({
      name: 'LarderCollectorFailing',
      severity: 'warning',
      for: '10m',
      params: {},
      expr: () => 'larder_collector_success == 0',
      summary: () => 'Larder\'s {{ $labels.collector }} collector on {{ $labels.instance }} fails.',
      description: (_p, f) => `The {{ $labels.collector }} collector of Larder on {{ $labels.instance }} has failed or timed out on every update for ${f}; its metrics keep their last values.`,
      meaning: 'A collector cannot read what it measures (a missing /proc or /sys file, a permission, a hung NFS mount) or takes longer than --collect-timeout: its metrics are stale, and rules on them see old values.',
      action: 'Larder logs the reason once per collector (`journalctl -u larder | grep <collector>`); fix the cause, or turn the collector off with `--no-collector.<name>`.',
    }),
    alert({
      name: 'LarderRecorderLagging',
      severity: 'warning',
      for: '5m',
      params: { threshold: { default: 300, unit: 'seconds', help: 'age of the oldest unwritten snapshot above which it fires', min: 1, max: 86400 } },
      expr: (p) => `larder_recorder_lag_seconds > ${num(p.threshold)}`,
      summary: () => 'Larder on {{ $labels.instance }} is not writing its samples to the store.',
      description: (p) => `The oldest snapshot Larder on {{ $labels.instance }} has not yet written is {{ $value | humanizeDuration }} old (threshold ${secs(p.threshold)}); writes fail or are too slow.`,
      meaning: 'Samples pile up in memory instead of reaching the store: the store refuses writes (disk full, locked, PostgreSQL down without a spool), and past the buffer\'s bound samples are dropped (`larder_recorder_samples_dropped_total`).',
      action: 'Look at `larder_recorder_errors_total` and Larder\'s log for the write error; check the disk (HostFilesystemAlmostOutOfSpace) and PostgreSQL.',
    }),
    alert({
      name: 'LarderStoreNearSizeCap',
      severity: 'warning',
      for: '15m',
      params: { threshold: { default: 0.9, unit: 'ratio', help: 'share of --storage.max-bytes used above which it fires', min: 0, max: 1 } },
      expr: (p) => `larder_store_size_bytes / (larder_store_max_bytes > 0) > ${num(p.threshold)}`,
      summary: () => 'Larder\'s store on {{ $labels.instance }} is near its size cap.',
      description: (p) => `Larder's store on {{ $labels.instance }} is at {{ $value | humanizePercentage }} of its size cap (threshold ${pct(p.threshold)}); at the cap Larder drops the oldest chunks, those already rolled up first.`,
      meaning: 'The store has grown close to --storage.max-bytes. At the cap the size-cap job (every 10 s) drops the oldest chunks, those already rolled up first, so history gets shorter than --storage.retention-days promises; the alert keeps firing while the store lives at its cap. Never fires without a cap.',
      action: '`larder_store_size_cap_dropped_chunks_total` shows whether chunks are dropped already. Raise --storage.max-bytes if the disk allows, shorten --storage.retention-days, or drop series you do not need (`larder_dropped_series_total`, the cardinality limit).',
    }),
    alert({
      name: 'LarderSpoolGrowing',
      severity: 'warning',
      for: '10m',
      params: {},
      expr: () => 'larder_store_spool_depth > 0 and deriv(larder_store_spool_depth[10m]) > 0',
      summary: () => 'Larder on {{ $labels.instance }} is spooling samples: PostgreSQL is unreachable or stalls.',
      description: (_p, f) => `Larder on {{ $labels.instance }} keeps {{ $value | humanize }} samples in its local spool and the number has grown for ${f}: PostgreSQL is not taking writes.`,
      meaning: 'PostgreSQL is unreachable or too slow, so Larder writes to its local SQLite spool; nothing is lost yet, but queries of the PostgreSQL store miss the recent data and the spool fills the local disk.',
      action: 'Check PostgreSQL (`pg_isready`, its log, disk, connection limit) and the network; once it answers Larder forwards the spool by itself.',
    }),
    alert({
      name: 'LarderScrapeTargetDown',
      severity: 'warning',
      for: '5m',
      params: {},
      expr: () => 'larder_scrape_target_up == 0',
      summary: () => 'Larder cannot scrape {{ $labels.job }} at {{ $labels.instance }}.',
      description: (_p, f) => `The scrape target {{ $labels.instance }} (job {{ $labels.job }}) configured in Larder's targets has failed every scrape for ${f}.`,
      meaning: 'A process whose /metrics Larder records is down, unreachable, too slow, or answers something that is not Prometheus text: its series stop. (A Prometheus that scrapes Larder without `honor_labels: true` renames the target\'s labels to exported_job and exported_instance; the summary then shows Larder\'s own.)',
      action: '`curl <url>` from the Larder host; `larder_scrape_target_failures_total` and Larder\'s log give the reason (timeout, size or sample limit, parse error).',
    }),
  ],
};

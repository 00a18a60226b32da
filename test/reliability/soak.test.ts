/**
 * Soak: a real `larder serve` recording into SQLite every second, rolling up every
 * second (a compressed clock for the rollup schedules: the 1m tier closes a bucket a
 * minute), checking a size cap every 10 s, while this test scrapes /metrics four times
 * a second. RSS (/proc/<pid>/status VmRSS) and open file descriptors (/proc/<pid>/fd)
 * are sampled over time; their slopes (least squares over per-minute peaks, after a
 * warm-up: the garbage collectors make RSS a saw-tooth of about ±10 MiB with a period
 * near 100 s, which a fit over raw samples would read as a slope) and the longest
 * scrape are reported. The child runs without tap's NODE_OPTIONS (its process-info
 * hook), as a user starts it. Quick form (~30 s): generous bounds only. RELIABILITY=long runs
 * SOAK_SECONDS (default 1800: over 10 minutes the first minutes' warm-up reads as growth) and asserts RSS flat within ±30 MiB/h and the fewest
 * open fds of the last window no more than 2 above the fewest of the first after the
 * warm-up (the fd slope is reported, not bounded: one fd opened or closed for good over
 * ten minutes already reads as ±7/h).
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLarderProcess } from '../helpers/larder-process.js';
import { freePort } from '../helpers/prometheus.js';
import { tempDir } from '../storage/fixtures/stores.js';
import { LONG, figure } from './figures.js';

const SECONDS = LONG ? Number(process.env.SOAK_SECONDS ?? 1800) : 30;
const WARMUP_S = LONG ? 60 : 8;
const SAMPLE_MS = 1000;
const WINDOW_S = LONG ? 60 : 5;
const SCRAPE_MS = 250;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Slope of y over x by least squares. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** The highest y in each `windowS`-wide window of x, at the window's middle. */
function peaks(points: readonly (readonly [number, number])[], windowS: number): [number, number][] {
  const byWindow = new Map<number, number>();
  for (const [x, y] of points) {
    const w = Math.floor(x / windowS);
    byWindow.set(w, Math.max(byWindow.get(w) ?? -Infinity, y));
  }
  const all = [...byWindow].map(([w, y]): [number, number] => [(w + 0.5) * windowS, y]);
  // The first and last windows may be partly sampled: left out when there are enough others.
  return all.length > 4 ? all.slice(1, -1) : all;
}

const metric = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);

t.test(`soak: serving, recording every second and rolling up for ${SECONDS} s`, { timeout: (SECONDS + 120) * 1000 }, async (t) => {
  if (!Number.isFinite(SECONDS) || SECONDS < 10) throw new Error(`SOAK_SECONDS must be a number of seconds >= 10, got ${process.env.SOAK_SECONDS}`);
  const dir = tempDir(t);
  const larder = await startLarderProcess(
    await freePort(),
    ['--record-interval=1s', '--collect-interval=1s', '--rollup.cron=* * * * * *', '--rollup.hourly-cron=*/10 * * * * *', '--storage.max-bytes=1GiB'],
    { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'monitoring.db'), LARDER_SPOOL_PATH: '', NODE_OPTIONS: '' },
  );
  t.teardown(() => larder.stop('SIGKILL'));
  const pid = larder.child.pid!;

  const start = Date.now();
  const end = start + SECONDS * 1000;
  const rss: [number, number][] = [];
  const fds: [number, number][] = [];
  let scrapes = 0;
  let failed = 0;
  let longest = 0;
  let last = '';

  const scraper = (async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${larder.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
        last = await res.text();
        if (!res.ok) failed++;
      } catch {
        failed++;
      }
      longest = Math.max(longest, performance.now() - t0);
      scrapes++;
      await sleep(SCRAPE_MS);
    }
  })();
  while (Date.now() < end) {
    const s = (Date.now() - start) / 1000;
    if (s >= WARMUP_S) {
      rss.push([s, rssBytes(pid)]);
      fds.push([s, openFds(pid)]);
    }
    await sleep(SAMPLE_MS);
  }
  await scraper;

  t.equal(larder.child.exitCode, null, 'larder is still running');
  const rssPerHour = (slope(peaks(rss, WINDOW_S)) * 3600) / 2 ** 20;
  const fdPerHour = slope(peaks(fds, WINDOW_S)) * 3600;
  const maxRss = Math.max(...rss.map((p) => p[1])) / 2 ** 20;
  // The fewest open in the first and the last window: a collection in flight holds files
  // open for a moment (netclass reads 9 sysfs attributes of every device at once, 36 on a
  // 4-device host), a leak raises the floor.
  const floor = (points: [number, number][]): number => (points.length > 0 ? Math.min(...points.map((p) => p[1])) : 0);
  const perWindow = Math.max(1, Math.round((WINDOW_S * 1000) / SAMPLE_MS));
  const fdFirst = floor(fds.slice(0, perWindow));
  const fdLast = floor(fds.slice(-perWindow));
  figure(t, `soak ${SECONDS}s: rss slope`, rssPerHour.toFixed(1), 'MiB/h');
  figure(t, `soak ${SECONDS}s: rss max`, maxRss.toFixed(1), 'MiB');
  figure(t, `soak ${SECONDS}s: open fds slope`, fdPerHour.toFixed(1), 'fds/h');
  figure(t, `soak ${SECONDS}s: open fds first / last (fewest in a window)`, `${fdFirst} / ${fdLast}`);
  figure(t, `soak ${SECONDS}s: open fds most`, String(Math.max(...fds.map((p) => p[1]))));
  figure(t, `soak ${SECONDS}s: scrapes / failed`, `${scrapes} / ${failed}`);
  figure(t, `soak ${SECONDS}s: longest scrape`, longest.toFixed(0), 'ms');

  const batches = metric(last, /^larder_recorder_batches_total (\S+)$/m);
  const skipped = metric(last, /^larder_recorder_skipped_ticks_total (\S+)$/m);
  const rollups = metric(last, /^larder_job_runs_total\{job="rollup",result="success"\} (\S+)$/m);
  const rollupErrors = metric(last, /^larder_job_runs_total\{job="rollup",result="error"\} (\S+)$/m) || 0;
  figure(t, `soak ${SECONDS}s: record batches / skipped ticks`, `${batches} / ${skipped}`);
  figure(t, `soak ${SECONDS}s: rollup runs / errors`, `${rollups} / ${rollupErrors}`);

  t.equal(failed, 0, 'every scrape answered 200');
  t.ok(batches >= SECONDS * 0.6, `recorded about every second (${batches} batches in ${SECONDS} s)`);
  t.ok(rollups >= SECONDS * 0.5, `rolled up about every second (${rollups} runs)`);
  t.equal(rollupErrors, 0, 'no rollup run failed');
  t.ok(longest < 2000, `no scrape took 2 s or more (longest ${longest.toFixed(0)} ms)`);
  t.ok(maxRss < 400, `RSS stays under 400 MiB (max ${maxRss.toFixed(0)} MiB)`);
  t.ok(fdLast < 100, `fewer than 100 open fds in the last ${WINDOW_S} s (${fdLast} at the fewest)`);
  if (LONG) {
    t.ok(Math.abs(rssPerHour) <= 30, `RSS flat: slope ${rssPerHour.toFixed(1)} MiB/h within ±30`);
    t.ok(fdLast - fdFirst <= 2, `open fds at the end no more than 2 above the start (${fdFirst} → ${fdLast})`);
  }
  const code = await larder.stop('SIGTERM');
  // on failure, what Larder said last (a shutdown over its 10 s bound, a failed close)
  t.equal(code, 0, 'SIGTERM stops it cleanly', code === 0 ? {} : { stderr: larder.stderr().split('\n').slice(-15).join('\n') });
});

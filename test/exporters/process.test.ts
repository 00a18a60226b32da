/** The process collector: prom-client's default metrics, refreshed by update() and not by a scrape. */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { processCollector } from '../../exporters/process.js';
import { harness, samples } from './helpers.js';

t.test('default metrics keep their names and are refreshed by update(), not by a scrape', async (t) => {
  const h = harness([processCollector]);
  t.teardown(() => h.stop());
  const first = await h.collect();
  for (const name of ['process_cpu_user_seconds_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_start_time_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info', 'nodejs_gc_duration_seconds']) {
    t.ok(first.has(name), `${name} is exposed`);
  }
  const fds = samples(first, 'process_open_fds')[0]?.value ?? NaN;
  t.ok(Math.abs(fds - readdirSync('/proc/self/fd').length) <= 3, `process_open_fds ${fds} counts /proc/self/fd`);
  const rss = samples(first, 'process_resident_memory_bytes')[0]?.value ?? 0;
  t.ok(rss > 10e6, `resident memory ${rss} B`);

  // Burn CPU: a scrape alone must not see it, the next update must.
  const cpu = (): Promise<string> => h.registry.getSingleMetricAsString('process_cpu_seconds_total');
  const before = await cpu();
  const end = process.cpuUsage().user + 50_000;
  while (process.cpuUsage().user < end) Math.sqrt(Math.random());
  t.equal(await cpu(), before, 'a scrape serializes the last values');
  await h.set.updateAll();
  const after = samples(await h.collect(), 'process_cpu_seconds_total')[0]?.value ?? 0;
  const was = samples(first, 'process_cpu_seconds_total')[0]?.value ?? 0;
  t.ok(after >= was + 0.05, `the next update counts the CPU spent (${was} → ${after} s)`);
});

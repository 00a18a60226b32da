/**
 * The wrong-password flood against a real `larder serve` with basic auth (a cost-10
 * bcrypt hash, as `htpasswd -nBC 10` makes): attackers on their own connections send
 * a new wrong password each time, as fast as answers come, while a scraper with
 * good credentials scrapes /metrics. The scraper's p99 must stay under 50 ms (on a
 * machine whose baseline shows it already contended, its median), and
 * an unknown user must cost what a known user with a wrong password costs.
 * Quick form: 5 attackers for 5 s; long form (RELIABILITY=long): 50 for 30 s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { startLarderProcess } from '../helpers/larder-process.js';
import { figure, LONG } from './figures.js';
import { connection, get, quantile } from './http-client.js';

const ATTACKERS = LONG ? 50 : 5;
const SECONDS = LONG ? 30 : 5;
const PORT = 19_000 + (process.pid % 1000);

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

t.test(`${ATTACKERS} connections flooding wrong passwords; valid scrapes stay fast`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-auth-flood-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'larder.yml');
  writeFileSync(config, `web:\n  basic_auth_users:\n    prometheus: "${bcrypt.hashSync('scrape-pass', 10)}"\n`);
  const good = basic('prometheus', 'scrape-pass');
  const larder = await startLarderProcess(PORT, [`--config.file=${config}`, '--collect-interval=5s'], {}, good);
  t.teardown(() => larder.stop('SIGKILL'));
  const url = `${larder.url}/metrics`;

  t.equal((await get(url)).status, 401, 'no credentials: 401');
  t.equal((await get(url, { headers: good })).status, 200, 'the scraper was verified once (and is cached)');

  // Timing oracle: the unknown user must cost the bcrypt work of a known one.
  const scraper = connection();
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 8; i++) {
    known.push((await get(url, { agent: scraper, headers: basic('prometheus', `wrong-${i}`) })).ms);
    unknown.push((await get(url, { agent: scraper, headers: basic(`nobody-${i}`, `wrong-${i}`) })).ms);
  }
  const knownMs = quantile(known, 0.5);
  const unknownMs = quantile(unknown, 0.5);
  figure(t, 'auth: known user, wrong password, median', knownMs.toFixed(1), 'ms');
  figure(t, 'auth: unknown user, median', unknownMs.toFixed(1), 'ms');
  // before: 1.2 ms against 84 ms (a ratio of 0.014); the bounds leave room for a noisy, shared machine
  t.ok(unknownMs > knownMs / 4 && unknownMs < knownMs * 4, `comparable (${unknownMs.toFixed(1)} vs ${knownMs.toFixed(1)} ms)`);

  /** Scrapes with good credentials every 20 ms for SECONDS; the latencies of those served. */
  const scrapes = async (): Promise<{ ms: number[]; failed: number }> => {
    const ms: number[] = [];
    let failed = 0;
    const until = Date.now() + SECONDS * 1000;
    while (Date.now() < until) {
      const r = await get(url, { agent: scraper, headers: good });
      if (r.status === 200 && r.bytes > 1000) ms.push(r.ms);
      else failed++;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { ms, failed };
  };
  // The baseline: the same scrapes without the flood, on this machine under its current load.
  const base = await scrapes();
  const baseP99 = quantile(base.ms, 0.99);
  figure(t, 'auth flood: valid scrape p50 without flood', quantile(base.ms, 0.5).toFixed(1), 'ms');
  figure(t, 'auth flood: valid scrape p99 without flood', baseP99.toFixed(1), 'ms');

  // The flood, from another process; the scraper starts once the attackers are at work.
  const flood = fork(fileURLToPath(new URL('./flood-client.ts', import.meta.url)), [url, String(ATTACKERS), String(SECONDS + 1)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
  });
  t.teardown(() => void flood.kill('SIGKILL'));
  let report = '';
  flood.stdout?.on('data', (d: Buffer) => (report += d.toString()));
  const flooded = new Promise<void>((resolve) => flood.once('exit', () => resolve()));
  const started = Date.now();
  while (Date.now() - started < 10_000 && (await get(url, { agent: scraper, headers: basic('prometheus', 'probe') })).status !== 429) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const { ms: valid, failed } = await scrapes();
  await flooded;
  scraper.destroy();
  const codes = new Map(Object.entries((JSON.parse(report || '{"codes":{}}') as { codes: Record<string, number> }).codes).map(([c, k]) => [Number(c), k]));

  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  const p50 = quantile(valid, 0.5);
  const p99 = quantile(valid, 0.99);
  figure(t, `auth flood: attackers`, ATTACKERS);
  figure(t, `auth flood: attacker requests answered`, `${total} in ${SECONDS + 1} s (${Math.round(total / (SECONDS + 1))}/s; 401: ${codes.get(401) ?? 0}, 429: ${codes.get(429) ?? 0}, other: ${total - (codes.get(401) ?? 0) - (codes.get(429) ?? 0)})`);
  figure(t, 'auth flood: valid scrapes', valid.length);
  figure(t, 'auth flood: valid scrape p50', p50.toFixed(1), 'ms');
  figure(t, 'auth flood: valid scrape p99', p99.toFixed(1), 'ms');
  t.equal(failed, 0, 'every valid scrape was served');
  t.ok(valid.length > SECONDS * 10, `scrapes kept coming (${valid.length})`);
  // Before the fix the median was 1.7 s with 10 attackers. The 50 ms p99 target holds
  // on a quiet machine; where the baseline alone shows the CPU is contended (a shared
  // CI box), the run queue, not Larder, sets the tail, so only the median is held to 50 ms there.
  const quiet = baseP99 < 15;
  figure(t, 'auth flood: machine quiet (baseline p99 < 15 ms)', quiet ? 'yes' : 'no');
  t.ok(p50 < 50, `valid scrape p50 ${p50.toFixed(1)} ms < 50 ms`);
  if (quiet) t.ok(p99 < 50, `valid scrape p99 ${p99.toFixed(1)} ms < 50 ms`);
  else t.ok(p99 < 250, `valid scrape p99 ${p99.toFixed(1)} ms < 250 ms (loaded machine: baseline p99 ${baseP99.toFixed(1)} ms)`);
  t.ok((codes.get(429) ?? 0) > 0, 'excess password checks were refused with 429');
  t.equal(total - (codes.get(401) ?? 0) - (codes.get(429) ?? 0), 0, 'attackers only ever got 401 or 429');
  t.equal(await larder.stop('SIGTERM'), 0, 'stops cleanly after the flood');
});

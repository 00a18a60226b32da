/**
 * The built-in page in a real browser (Debian's chromium through playwright-core) against
 * a real `larder serve` recording every second into a SQLite file, with a small HTTP
 * service beside it as a scrape target so the service charts have data too.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Browser } from 'playwright-core';
import { spawn } from 'node:child_process';
import { assertBuilt, CLI, startLarderProcess, type LarderProcess } from '../helpers/larder-process.js';
import { need } from '../helpers/peers.js';
import { freePort } from '../helpers/prometheus.js';
import { defaultUiDir } from '../../src/ui-files.js';
import { PANELS } from '../../ui/src/panels.js';
import { PRESETS, stepFor } from '../../ui/src/range.js';
import { artifactDir, formOf, launch, staysLocal, watchedPage, type WatchedPage } from './browser.js';

/** A service's /metrics: requests (1 in 10 a 500) and a latency histogram, growing at each scrape. */
function startService(): Promise<{ server: Server; url: string }> {
  let scrapes = 0;
  const server = createServer((_req, res) => {
    scrapes++;
    const ok = scrapes * 9;
    const failed = scrapes;
    const total = ok + failed;
    const lines = [
      '# HELP http_requests_total HTTP requests served, by method, route pattern and status code.',
      '# TYPE http_requests_total counter',
      `http_requests_total{method="GET",route="/orders",status_code="200"} ${ok}`,
      `http_requests_total{method="GET",route="/orders",status_code="500"} ${failed}`,
      '# HELP http_request_duration_seconds Time from receiving an HTTP request to finishing its response.',
      '# TYPE http_request_duration_seconds histogram',
      `http_request_duration_seconds_bucket{le="0.05"} ${scrapes * 5}`,
      `http_request_duration_seconds_bucket{le="0.1"} ${scrapes * 8}`,
      `http_request_duration_seconds_bucket{le="0.5"} ${total}`,
      `http_request_duration_seconds_bucket{le="+Inf"} ${total}`,
      `http_request_duration_seconds_sum ${scrapes * 0.6}`,
      `http_request_duration_seconds_count ${total}`,
      '',
    ];
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(lines.join('\n'));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics` })));
}

async function instant(larder: LarderProcess, query: string, headers: Record<string, string> = {}): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${larder.url}/api/v1/query?${new URLSearchParams({ query })}`, { headers });
  const body = (await res.json()) as { data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.data?.result ?? [];
}

/** Waits until the store holds `min` samples of a minute for the host and the service. */
async function waitForRecording(larder: LarderProcess, min: number, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const host = await instant(larder, 'min(count_over_time(node_load1[1m]))', headers);
    const service = await instant(larder, 'min(count_over_time(http_requests_total[1m]))', headers);
    if (Number(host[0]?.value[1] ?? 0) >= min && Number(service[0]?.value[1] ?? 0) >= min) return;
    if (Date.now() > deadline) throw new Error(`recording too slow: ${JSON.stringify({ host, service })}\n${larder.stderr()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The panels' states once none is loading. */
async function panelStates(w: WatchedPage): Promise<Record<string, string>> {
  // browser-side code as strings: the tests' TypeScript has no DOM types
  // (selectors, not waitForFunction: the page's CSP rightly forbids the eval that would need)
  await w.page.waitForSelector('[data-panel][data-state="loading"]', { state: 'detached', timeout: 60_000 });
  await w.page.waitForSelector('body:not([data-loading])', { state: 'attached', timeout: 60_000 });
  return w.page.evaluate<Record<string, string>>("Object.fromEntries([...document.querySelectorAll('[data-panel]')].map((p) => [p.dataset.panel, p.dataset.state]))");
}

/** One alert firing at once, one pending for an hour, one that never fires, and a recording rule. */
const RULES = `groups:
- name: page-test
  interval: 1s
  rules:
  - alert: AlwaysFiring
    expr: vector(1)
    for: 0s
    labels: { severity: critical }
    annotations: { summary: "fires at once ({{ $value }})" }
  - alert: SlowToFire
    expr: vector(2)
    for: 1h
    labels: { severity: warning }
    annotations: { summary: "pending for an hour" }
  - alert: NeverFires
    expr: vector(1) > 5
  - record: job:up:count
    expr: count(up)
`;

const rangeQueries = (w: WatchedPage, from = 0): URLSearchParams[] => w.requests.slice(from).filter((r) => r.url.endsWith('/api/v1/query_range')).map((r) => formOf(r.postData));

t.test('the page against a recording larder', async (t) => {
  if (!(await need(t, 'chromium'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-ui-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const service = await startService();
  t.teardown(() => new Promise<void>((r) => service.server.close(() => r())));
  const config = join(dir, 'larder.yml');
  writeFileSync(config, `targets:\n  - url: ${service.url}\n    job: shop\n    instance: shop-1\n`);
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, RULES);
  // the bundled rules off, so what fires is only what this file says
  const larder = await startLarderProcess(await freePort(), [`--config.file=${config}`, '--record-interval=1s', '--collect-interval=1s', `--rules.file=${rules}`, '--rules.bundled=false'], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'm.db') });
  t.teardown(() => larder.stop());
  await waitForRecording(larder, 15);

  const browser: Browser = await launch();
  t.teardown(() => browser.close());
  const shots = artifactDir();
  t.comment(`screenshots in ${shots}`);
  const w = await watchedPage(browser);

  await t.test('the overview shows the host and a chart with data wherever the metric exists', async (t) => {
    const res = await w.page.goto(`${larder.url}/`);
    t.equal(res?.status(), 200);
    const states = await panelStates(w);
    t.equal(Object.keys(states).length, PANELS.length, 'every panel is on the page');
    for (const panel of PANELS) {
      const present = await Promise.all(panel.metrics.map(async (m) => (await instant(larder, `count(${m})`)).length > 0));
      if (present.every(Boolean)) t.equal(states[panel.id], 'data', `${panel.title}: has data`);
      else t.equal(states[panel.id], 'empty', `${panel.title}: no data, since this machine records none of ${panel.metrics.join(', ')}`);
    }
    for (const id of ['cpu', 'load', 'memory', 'filesystems', 'requests', 'errors', 'latency', 'eventloop', 'heap']) t.equal(states[id], 'data', `${id} has data here`);
    const canvases = await w.page.locator('[data-panel][data-state="data"] canvas').count();
    t.ok(canvases >= 9, `${canvases} charts drawn`);
    const legend = await w.page.locator('[data-panel="disk"], [data-panel="errors"]').first().innerText();
    t.ok(legend.length > 0, 'legends are shown');
    t.match(await w.page.locator('[data-panel="errors"] .u-legend').innerText(), /shop errors/, 'the legend names the series by its labels');
    const load = await w.page.locator('[data-panel="load"] .u-legend .u-label').allInnerTexts();
    t.same([...load].sort(), ['15m', '1m', '5m', 'Time'], 'load per CPU over 1, 5 and 15 minutes, from the one query');
    t.equal(await w.page.locator('[data-fact="host"] .fact-value').innerText(), hostname(), 'the host name');
    t.match(await w.page.locator('[data-fact="cpus"] .fact-value').innerText(), /^\d+$/, 'the CPU count');
    t.match(await w.page.locator('[data-fact="memory"] .fact-value').innerText(), /^\d+(\.\d+)? [KMGT]iB$/, 'the memory, in bytes units');
    t.match(await w.page.locator('[data-fact="uptime"] .fact-value').innerText(), /\d+[smhdy]/, 'the uptime');
    t.ok(await w.page.locator('footer a[href="metrics"]').count(), 'a link to /metrics');
    const firing = w.page.locator('#firing-alerts[data-firing="1"]');
    await firing.waitFor({ timeout: 20_000 });
    t.match(await firing.innerText(), /^1 firing: AlwaysFiring · 1 pending · Alerts$/, 'the firing alerts: their count, names and the pending count');
    // hovering a chart shows the values at the cursor in its legend
    const heapLegend = w.page.locator('[data-panel="heap"] .u-legend');
    t.match(await heapLegend.innerText(), /Time:?\s*latest[\s\S]*used:?\s*\d+(\.\d+)? MiB/, 'away from the chart the legend shows the latest values');
    const over = w.page.locator('[data-panel="heap"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    if (!box) throw new Error('no heap chart');
    await over.hover({ position: { x: box.width / 2, y: box.height / 2 } });
    await over.hover({ position: { x: box.width - 2, y: box.height / 2 } });
    await w.page.waitForTimeout(200);
    t.match(await heapLegend.innerText(), /Time:?\s*\d+\/\d+\/\d+,? \d+:\d+:\d+[\s\S]*used:?\s*\d+(\.\d+)? MiB/, 'hovering shows the time and the values at the cursor, in bytes units');
    await w.page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
  });

  await t.test('30 days reads a coarser step', async (t) => {
    const before = rangeQueries(w);
    const hourStep = stepFor(3600);
    t.ok(before.length > 0 && before.every((q) => Number(q.get('step')) === hourStep), `the default hour reads at ${hourStep}s`);
    const from = w.requests.length;
    const thirtyDays = PRESETS.find((r) => r.key === '30d')?.seconds ?? 0;
    await w.page.selectOption('#range', '30d');
    const perRefresh = PANELS.reduce((n, p) => n + p.queries.length, 0);
    await w.page.waitForURL(/range=30d/);
    const deadline = Date.now() + 30_000;
    while (rangeQueries(w, from).length < perRefresh && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await panelStates(w);
    const after = rangeQueries(w, from);
    t.ok(after.length >= perRefresh, `${after.length} range queries after the change`);
    const steps = new Set(after.map((q) => Number(q.get('step'))));
    t.same([...steps], [stepFor(thirtyDays)], `all at step ${stepFor(thirtyDays)}s`);
    t.ok(stepFor(thirtyDays) >= 100 * hourStep, 'much coarser than the hour');
    const step = stepFor(thirtyDays);
    for (const q of after) {
      const [start, end] = [Number(q.get('start')), Number(q.get('end'))];
      t.ok(end - start >= thirtyDays && end - start <= thirtyDays + 2 * step && start % step === 0, `over 30 days from a step edge (${start}..${end})`);
    }
    t.ok(after.some((q) => (q.get('query') ?? '').includes('rate(node_cpu_seconds_total{mode!="idle"}[3h])')), 'rate windows widen with the step');
    t.ok(after.some((q) => (q.get('query') ?? '').includes('avg_over_time(node_load1[3h])')), 'gauges are averaged over each step');
    await w.page.screenshot({ path: join(shots, 'overview-30d.png'), fullPage: true });
  });

  await t.test('a custom range, and auto-refresh', async (t) => {
    await w.page.goto(`${larder.url}/#/overview?range=1h&refresh=0`);
    await panelStates(w);
    await w.page.selectOption('#range', 'custom');
    await w.page.locator('#custom-form').waitFor({ state: 'visible' });
    // the inputs are the browser's local time, as this process's (the same TZ)
    const local = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const to = Math.floor(Date.now() / 60_000) * 60_000;
    const from = to - 2 * 3600_000;
    await w.page.fill('#from', local(from));
    await w.page.fill('#to', local(to));
    const mark = w.requests.length;
    await w.page.click('#custom-form button[type="submit"]');
    await w.page.waitForURL(/range=custom&from=\d+&to=\d+/);
    await panelStates(w);
    const step = stepFor(7200);
    // Queries of the view shown before (its step is another) may still arrive after the
    // mark on a loaded machine; the custom range's are those at its step, and they must exist.
    const custom = rangeQueries(w, mark).filter((q) => Number(q.get('step')) === step);
    t.ok(custom.length > 0, 'the custom range is read');
    for (const q of custom) {
      const [start, end] = [Number(q.get('start')), Number(q.get('end'))];
      t.ok(start <= from / 1000 && start > from / 1000 - step && end >= to / 1000 && end < to / 1000 + step, `from ${start} to ${end} at ${q.get('step')}s`);
    }

    await w.page.goto(`${larder.url}/#/overview?range=15m&refresh=10`);
    await panelStates(w);
    const first = w.requests.length;
    const perRefresh = PANELS.reduce((n, p) => n + p.queries.length, 0);
    const deadline = Date.now() + 30_000;
    while (rangeQueries(w, first).length < perRefresh && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    t.ok(rangeQueries(w, first).length >= perRefresh, 'the overview reads again by itself 10 s later');
    await w.page.selectOption('#refresh', '0');
    await panelStates(w);
  });

  await t.test('explore charts a query and tabulates it', async (t) => {
    await w.page.goto(`${larder.url}/#/explore?range=15m&refresh=0`);
    const names = w.page.locator('#metric-names option[value="node_cpu_seconds_total"]');
    await names.waitFor({ state: 'attached', timeout: 20_000 });
    t.ok(await names.count(), 'metric names to pick from');
    await w.page.locator('#label option[value="mode"]').waitFor({ state: 'attached', timeout: 20_000 });
    t.pass('label names to pick from');
    await w.page.fill('#query', 'rate(node_cpu_seconds_total[5m])');
    await w.page.click('#run');
    await w.page.waitForSelector('#explore-panel[data-state="data"]', { timeout: 30_000 });
    t.ok(await w.page.locator('#explore-chart canvas').count(), 'a chart');
    t.match(await w.page.locator('#explore-chart .u-legend').innerText(), /mode="user"/, 'the legend shows the labels');
    const rows = await w.page.locator('#result-table tbody tr').count();
    t.ok(rows >= 2, `${rows} rows in the table`);
    t.match(await w.page.locator('#result-table tbody').innerText(), /\{cpu="\d+", instance="[^"]+", job="larder", mode="idle"\}/);
    t.match(w.page.url(), /q=rate/, 'the query is in the URL');
    await w.page.fill('#query', 'node_memory_MemTotal_bytes');
    await w.page.click('#run');
    await w.page.locator('#result-table tbody td', { hasText: /^\d+(\.\d+)? [KMGT]iB \(\d+\)$/ }).first().waitFor({ timeout: 20_000 });
    t.pass('a _bytes metric is shown in bytes units');
    await w.page.fill('#query', 'rate(node_cpu_seconds_total[5m])');
    await w.page.click('#run');
    await w.page.locator('#result-table tbody td', { hasText: 'mode="user"' }).first().waitFor({ timeout: 20_000 });
    await w.page.screenshot({ path: join(shots, 'explore.png'), fullPage: true });
  });

  await t.test('explore shows a parse error inline, at its position', async (t) => {
    const before = w.errors.length;
    await w.page.fill('#query', 'rate(');
    await w.page.press('#query', 'Enter');
    const error = w.page.locator('#query-error');
    await error.waitFor({ state: 'visible', timeout: 20_000 });
    t.match(await error.innerText(), /1:6: parse error/);
    t.equal(await w.page.locator('#query-error .caret').innerText(), 'rate(\n     ^', 'a caret under column 6');
    // Chromium logs each 4xx answer to the console; the one 400 is the point of this step
    const added = w.errors.slice(before);
    t.ok(added.length <= 1 && added.every((e) => /status of 400/.test(e)), `only the 400 was logged: ${JSON.stringify(added)}`);
    w.errors.splice(before);
    await w.page.screenshot({ path: join(shots, 'explore-error.png'), fullPage: true });
  });

  await t.test('the Alerts tab lists firing and pending alerts, the rules and the history', async (t) => {
    await w.page.goto(`${larder.url}/#/overview?range=1h&refresh=0`);
    await w.page.click('nav a[data-view="alerts"]');
    await w.page.waitForURL(/#\/alerts\?/);
    await w.page.waitForSelector('.alerts-view[data-state="ready"]', { timeout: 20_000 });
    t.equal(await w.page.title(), 'Larder · Alerts');
    t.equal(await w.page.locator('nav a.active').innerText(), 'Alerts', 'the tab is marked');
    const active = w.page.locator('#alerts-table tbody tr');
    t.same(await active.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-alertname'), r.getAttribute('data-state')])), [
      ['AlwaysFiring', 'firing'],
      ['SlowToFire', 'pending'],
    ], 'firing first, then pending; the inactive rule is not an alert');
    const fires = await active.first().innerText();
    t.match(fires, /firing\s+AlwaysFiring\s+\{severity="critical"\}/, 'state, name and labels');
    t.match(fires, /\(\d+(\.\d+)? s ago\)|\(\d+m( \d+s)? ago\)/, 'active since, and how long ago');
    t.match(fires, /fires at once \(1\)/, 'the summary annotation, templated');
    t.match(await active.nth(1).innerText(), /pending\s+SlowToFire[\s\S]*\s2\s[\s\S]*pending for an hour/, 'the pending one with its value');
    const rules = w.page.locator('#rules-table tbody tr');
    t.same(await rules.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-rule'), r.getAttribute('data-health')])), [
      ['AlwaysFiring', 'ok'],
      ['SlowToFire', 'ok'],
      ['NeverFires', 'ok'],
      ['job:up:count', 'ok'],
    ], 'every rule with its health');
    t.match(await rules.nth(2).innerText(), /NeverFires\s+page-test · .*rules\.yml\s+inactive\s+ok/, 'group, file, state and health');
    t.match(await rules.nth(3).innerText(), /recording/);
    const history = w.page.locator('#history-table tbody tr[data-alertname="AlwaysFiring"]');
    await history.first().waitFor({ timeout: 20_000 });
    t.match(await history.first().innerText(), /firing\s+AlwaysFiring[\s\S]*critical[\s\S]*ago\)\s+–\s+fires at once \(1\)/, 'the history row from alert_history: firing, not resolved, its message');
    t.equal(await w.page.locator('#history-table tbody tr[data-alertname="SlowToFire"]').count(), 0, 'pending is not history');
    t.ok(w.requests.some((r) => /\/api\/v1\/alerts\/history\?since=\d+&limit=200$/.test(r.url)), 'the history is read from the chosen range on');
    await w.page.screenshot({ path: join(shots, 'alerts.png'), fullPage: true });
  });

  await t.test('on a phone and in the dark', async (t) => {
    const phone = await watchedPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    t.teardown(() => phone.context.close());
    await phone.page.goto(`${larder.url}/#/overview?range=15m&refresh=0`);
    const states = await panelStates(phone);
    t.equal(states['cpu'], 'data');
    const overflow = await phone.page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    t.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
    t.equal(await phone.page.evaluate<string>('getComputedStyle(document.body).backgroundColor'), 'rgb(15, 17, 21)', 'the dark theme');
    await phone.page.screenshot({ path: join(shots, 'phone-dark.png'), fullPage: true });
    t.same(phone.errors, [], 'no console errors');
    t.same(phone.requests.filter((r) => !staysLocal(r.url)).map((r) => r.url), [], 'no request leaves loopback');
  });

  t.same(w.errors, [], 'no console errors');
  t.ok(w.requests.length > 50, `${w.requests.length} requests seen`);
  t.same(w.requests.filter((r) => !staysLocal(r.url)).map((r) => r.url), [], 'no request leaves loopback');
});

/** Starts `larder serve` with auth on; it is up once /healthz answers at all (401 here, so the shared helper's wait for a 200 cannot serve). */
async function startProtected(t: Test, port: number, args: string[], env: Record<string, string>): Promise<string> {
  assertBuilt();
  const child = spawn(CLI, ['serve', `--listen=127.0.0.1:${port}`, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`larder exited with ${child.exitCode}: ${stderr}`);
    const status = await fetch(`${url}/healthz`).then((r) => r.status, () => 0);
    if (status !== 0) return url;
    if (Date.now() > deadline) throw new Error(`larder did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('with basic auth on, the page and its API calls need credentials', async (t) => {
  if (!(await need(t, 'chromium'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'larder-ui-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'larder.yml');
  writeFileSync(config, `web:\n  basic_auth_users:\n    admin: ${JSON.stringify(bcrypt.hashSync('s3cret pass', 4))}\n`);
  // no rule file and the bundled rules off: alerting is off, which the page says instead of erring
  const url = await startProtected(t, await freePort(), [`--config.file=${config}`, '--record-interval=1s', '--collect-interval=1s', '--rules.bundled=false'], { MONITORING_DB: 'sqlite', SQLITE_DB_PATH: join(dir, 'm.db') });
  const larder = { url };
  const browser = await launch();
  t.teardown(() => browser.close());

  const anonymous = await watchedPage(browser);
  // a browser without credentials gets the 401 and its Basic challenge, and shows nothing
  await t.rejects(anonymous.page.goto(`${larder.url}/`), /ERR_INVALID_AUTH_CREDENTIALS/, 'the browser is refused the page');
  const js = (await readdir(defaultUiDir())).find((f) => f.endsWith('.js'));
  for (const path of ['/', `/ui/${js}`, '/api/v1/query?query=up', '/api/v1/label/__name__/values', '/api/v1/query_range?query=up&start=0&end=60&step=15', '/api/v1/alerts/history']) {
    const res = await anonymous.context.request.get(`${larder.url}${path}`);
    t.equal(res.status(), 401, `${path} is refused without credentials`);
    t.match(res.headers()['www-authenticate'], /^Basic /);
    t.notMatch(await res.text(), /<script|resultType|uPlot/, 'and none of it is sent');
  }
  await anonymous.context.close();

  const signedIn = await watchedPage(browser, { httpCredentials: { username: 'admin', password: 's3cret pass' } });
  t.teardown(() => signedIn.context.close());
  const statuses: number[] = [];
  signedIn.page.on('response', (r) => {
    if (r.url().includes('/api/v1/')) statuses.push(r.status());
  });
  t.equal((await signedIn.page.goto(`${larder.url}/#/overview?range=15m&refresh=0`))?.status(), 200, 'with credentials the page loads');
  await panelStates(signedIn);
  t.ok(statuses.length > 10, `${statuses.length} API calls`);
  t.same([...new Set(statuses)], [200], 'and its API calls are answered');
  t.equal(await signedIn.page.locator('#firing-alerts').innerText(), 'Alerting is off (no alert rule loaded).', 'the overview says alerting is off');
  statuses.length = 0;
  await signedIn.page.click('nav a[data-view="alerts"]');
  await signedIn.page.waitForSelector('.alerts-view[data-state="off"]', { timeout: 20_000 });
  t.match(await signedIn.page.locator('#alerts-status').innerText(), /^Alerting is off: Larder evaluates no rules/, 'so does the Alerts tab, instead of an error');
  t.match(await signedIn.page.locator('#alert-history').innerText(), /No alert fired in this range/, 'the history (empty) is still read');
  t.same(statuses, [200, 200, 200], '/alerts, /rules (empty lists, as Prometheus answers without rules) and the history');
  t.same(signedIn.errors, [], 'no console errors');
});

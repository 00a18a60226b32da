/**
 * Libraries only some configurations use are loaded when used, not at start: pg-promise
 * (with pg) for the off-by-default `postgres` collector, nodemailer for an email
 * receiver, yaml for a config file or a user's rule file (the bundled rules are
 * TypeScript). Importing dist/src/main.js measured 80.0 MB of RSS with the first two,
 * 71.5 without; 72.0 and 70.9 with and without yaml (docs/cost.md, "Memory").
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

// ES modules are seen through a resolve hook (it runs on the loader's thread and posts each
// URL back), CommonJS ones through require's cache: nodemailer ships both.
const hook = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); port.postMessage(r.url); return r; }`;
const { port1, port2 } = new MessageChannel();
const esm: string[] = [];
port1.on('message', (url: string) => esm.push(url));
port1.unref();
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });
const cache = createRequire(import.meta.url).cache;
const loaded = (pkg: string): boolean => [...esm, ...Object.keys(cache)].some((k) => k.includes(`/node_modules/${pkg}/`));
const DIST_MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));
const DIST_BUNDLED = fileURLToPath(new URL('../../dist/rules/bundled.js', import.meta.url));
const DIST_LOAD = fileURLToPath(new URL('../../dist/src/alerting/load.js', import.meta.url));
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

t.test('pg-promise and nodemailer wait for the collector and the receiver that need them', async (t) => {
  // what `larder serve` imports: every collector, and the receivers through the rule manager
  await import('../../src/main.js');
  await import('../../exporters/postgres-server.js');
  const { emailNotifier } = await import('../../src/alerting/notify/receivers/email.js');
  await settle();
  t.ok(loaded('prom-client'), 'the hook sees what is imported');
  t.notOk(loaded('pg-promise'), 'pg-promise is not loaded at start');
  t.notOk(loaded('nodemailer'), 'nodemailer is not loaded at start');
  emailNotifier({ kind: 'email', to: ['ops@example.com'], from: 'larder@example.com', host: '127.0.0.1', port: 25, tls: 'none', insecureSkipVerify: false, sendResolved: false, timeoutMs: 1000 });
  t.ok(loaded('nodemailer'), 'an email receiver loads nodemailer');
});

t.test('yaml waits for a config file or a rule file', async (t) => {
  // In a plain Node process on dist/: tap loads yaml itself for its diagnostics.
  if (!existsSync(DIST_MAIN)) {
    t.pass('yaml', { skip: 'dist/ not built (npm run --silent build)' });
    return;
  }
  const script = `import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const yaml = () => Object.keys(cache).some((k) => k.includes('/node_modules/yaml/'));
await import(${JSON.stringify(DIST_MAIN)});
const { bundledRuleFiles } = await import(${JSON.stringify(DIST_BUNDLED)});
const { loadRules, parseRuleFileText } = await import(${JSON.stringify(DIST_LOAD)});
const groups = loadRules([], bundledRuleFiles().map((b) => ({ file: b.source, rules: b.file }))).length;
const atStart = yaml();
const parsed = parseRuleFileText('groups: [{name: g, rules: [{record: r, expr: "1"}]}]', 'r.yml').length;
console.log(JSON.stringify({ groups, atStart, parsed, afterFile: yaml() }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n').pop()!) as { groups: number; atStart: boolean; parsed: number; afterFile: boolean };
  t.ok(out.groups > 0, `the bundled rules load (${out.groups} groups)`);
  t.notOk(out.atStart, 'yaml is not loaded at start with the bundled rules');
  t.equal(out.parsed, 1, 'a rule file parses');
  t.ok(out.afterFile, 'and loads yaml');
});

/**
 * Libraries only some configurations use are loaded when used, not at start: pg-promise
 * (with pg) for the off-by-default `postgres` collector, nodemailer for an email
 * receiver. Importing dist/src/main.js measured 80.0 MB of RSS with both, 71.5 without
 * (docs/cost.md, "Memory").
 */
import t from 'tap';
import { createRequire, register } from 'node:module';
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

/** collect[] / exclude[] over the real HTTP server for every host collector name: each returns exactly its own metrics. */
import t from 'tap';
import { HOST_COLLECTORS } from '../../exporters/index.js';
import { parseExposition } from '../../exporters/text-parser.js';
import { silentLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { Authenticator } from '../../src/web-auth.js';
import { harness } from './helpers.js';

t.test('collect[]=<name> for every host collector', async (t) => {
  const h = harness(HOST_COLLECTORS);
  await h.set.updateAll();
  const server = await startServer(
    { registry: h.registry, collectors: h.set, auth: new Authenticator({ basicAuthUsers: {} }, undefined), log: silentLogger, maxRequests: 10, tls: undefined },
    { host: '127.0.0.1', port: 0 },
  );
  t.teardown(async () => {
    await server.close();
    h.stop();
  });
  const scrape = async (query: string): Promise<{ names: Set<string>; collectors: Set<string> }> => {
    const res = await fetch(`${server.url}/metrics${query}`);
    t.equal(res.status, 200, query);
    const fams = parseExposition(await res.text(), 'text');
    const collectors = new Set(fams.find((f) => f.name === 'larder_collector_success')?.samples.map((s) => s.labels['collector']!) ?? []);
    return { names: new Set(fams.map((f) => f.name).filter((n) => !n.startsWith('larder_collector_'))), collectors };
  };
  const all = await scrape('');
  const seen = new Set<string>();
  for (const c of HOST_COLLECTORS) {
    const own = h.set.metricsOf([c.name]);
    const { names } = await scrape(`?collect[]=${c.name}`);
    const served = [...names].filter((n) => own.has(n));
    // collectors whose families depend on the machine may serve nothing here (textfile without a folder)
    t.same([...names].filter((n) => !own.has(n)), [], `${c.name}: nothing of other collectors`);
    for (const n of served) {
      t.notOk(seen.has(n), `${n} belongs to one collector only`);
      seen.add(n);
    }
    const { names: rest } = await scrape(`?exclude[]=${c.name}`);
    t.same([...rest].filter((n) => own.has(n)), [], `exclude[]=${c.name} drops them all`);
    t.equal(rest.size + served.length, all.names.size, `exclude[]=${c.name} keeps everything else`);
  }
  // the server's own request metrics belong to no collector and are always served
  t.same([...all.names].filter((n) => !seen.has(n) && !n.startsWith('larder_metric_handler_')), [], 'every host metric belongs to some collector');
  const bad = await fetch(`${server.url}/metrics?collect[]=cpu&exclude[]=netdev`);
  t.equal(bad.status, 400, 'both at once is a 400');
});

/** Business metrics declared from code and from the config file, updated, visible on /metrics. */
import t from 'tap';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { createLarder } from '../../../src/larder.js';
import { need, promtoolCheckMetrics } from '../../helpers/peers.js';

const CONFIG = `
business-metrics:
  - name: recipe_ratings_total
    type: counter
    help: Ratings given to recipes.
    labels: [stars]
  - name: pantry_items
    type: gauge
    help: Items in users' pantries.
`;

async function scrape(handler: express.RequestHandler): Promise<string> {
  const app = express();
  app.get('/metrics', handler);
  const server = await new Promise<import('node:http').Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  try {
    return await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
  } finally {
    server.close();
  }
}

t.test('the seed set exists at 0 when asked for, typed metrics from code, named ones from the config file', async (t) => {
  const { config } = loadConfig({ argv: ['--config.file=larder.yml', '--business-metrics.seed'], env: {}, readFile: () => CONFIG });
  const larder = createLarder({ collectors: [], app: config.app });
  const before = await scrape(larder.metricsHandler());
  t.match(before, /^user_registrations_total 0$/m, 'seed counter exposed at 0 before first use');
  t.match(before, /^# TYPE recipes_created_total counter$/m);
  t.match(before, /^# TYPE searches_total counter$/m);
  t.match(before, /^user_engagement_score 0$/m);
  t.match(before, /^# TYPE pantry_items gauge$/m, 'config-declared gauge');

  // from code: typed handles
  const registrations = larder.business.counter('user_registrations_total', 'Users who registered.');
  const recipes = larder.business.counter('recipes_created_total', 'Recipes created.', ['category']);
  const searches = larder.business.counter('searches_total', 'Searches run.', ['kind']);
  const engagement = larder.business.gauge('user_engagement_score', 'Engagement.');
  const orders = larder.business.counter('orders_total', 'Orders placed.', ['channel']);
  registrations.inc();
  registrations.inc(undefined, 2);
  recipes.inc({ category: 'dessert' });
  recipes.inc({ category: 'soup' });
  recipes.inc({ category: 'soup' });
  searches.inc({ kind: 'text' });
  engagement.set(undefined, 0.75);
  orders.inc({ channel: 'web' });
  // from config: by name
  larder.business.inc('recipe_ratings_total', { stars: 5 });
  larder.business.inc('recipe_ratings_total', { stars: '5' });
  larder.business.set('pantry_items', undefined, 42);

  const text = await scrape(larder.metricsHandler());
  t.match(text, /^user_registrations_total 3$/m);
  t.match(text, /^recipes_created_total\{category="soup"\} 2$/m);
  t.match(text, /^recipes_created_total\{category="dessert"\} 1$/m);
  t.match(text, /^searches_total\{kind="text"\} 1$/m);
  t.match(text, /^user_engagement_score 0.75$/m);
  t.match(text, /^orders_total\{channel="web"\} 1$/m);
  t.match(text, /^recipe_ratings_total\{stars="5"\} 2$/m, 'numbers and strings are one label value');
  t.match(text, /^pantry_items 42$/m);
  t.match(text, /^# HELP recipe_ratings_total Ratings given to recipes\.$/m);
  if (await need(t, 'prometheus')) {
    const check = promtoolCheckMetrics(text);
    t.equal(check.status, 0, check.output);
  }
});

t.test("by default no business metric is declared, so a service's own searches_total is its own", async (t) => {
  const { config } = loadConfig({ argv: [], env: {} }); // what larder serve starts with
  t.equal(config.app.businessSeed, false);
  const larder = createLarder({ collectors: [], app: config.app });
  t.same(larder.business.names(), [], 'nothing declared');
  const text = await scrape(larder.metricsHandler());
  t.notMatch(text, /user_registrations_total|recipes_created_total|searches_total|user_engagement_score/, 'no recipe-site metrics at 0 on an unrelated host');
  larder.business.counter('searches_total', 'Searches by index.', ['index']).inc({ index: 'products' });
  t.match(await scrape(larder.metricsHandler()), /^searches_total\{index="products"\} 1$/m);
});

t.test('a clash with a declaration made elsewhere says where, and how to turn the seed set off', async (t) => {
  const seeded = createLarder({ collectors: [], app: { businessSeed: true } });
  t.throws(
    () => seeded.business.counter('searches_total', 'Searches.'),
    /business metric searches_total is already declared by the seed set \(--business-metrics\.seed; LARDER_BUSINESS_METRICS_SEED=false or app\.businessSeed: false turns it off\) as a counter with labels \[kind\]/,
  );
  const { config } = loadConfig({ argv: ['--config.file=larder.yml'], env: {}, readFile: () => CONFIG });
  const configured = createLarder({ collectors: [], app: config.app });
  t.throws(() => configured.business.gauge('pantry_items', 'x', ['shelf']), /pantry_items is already declared by the config file's business-metrics as a gauge with labels \[\]/);
});

t.test('misuse is refused with the metric named', async (t) => {
  const larder = createLarder({ collectors: [], app: { businessSeed: true } });
  const b = larder.business;
  t.throws(() => b.counter('signups', 'x'), /business counter "signups": counter names end in _total/);
  t.throws(() => b.gauge('user_registrations_total', 'x'), /business metric user_registrations_total is already declared by the seed set .* as a counter/);
  t.throws(() => b.counter('recipes_created_total', 'x', ['author']), /already declared by the seed set .* as a counter with labels \[category\]/);
  t.throws(() => b.inc('never_declared_total'), /business metric never_declared_total is not declared; declare it in code or under business-metrics/);
  t.throws(() => b.set('searches_total', undefined, 1), /searches_total is a counter; use inc\(\)/);
  t.throws(() => b.counter('bad-name_total', 'x'), /invalid metric name "bad-name_total"/);
  t.throws(() => b.counter('neg_total', 'x').inc(undefined, -1), /cannot add -1; counters only go up/);
  t.equal(b.counter('recipes_created_total', 'again', ['category']).name, 'recipes_created_total', 'same declaration twice is the same metric');
  t.notOk(createLarder({ collectors: [] }).business.names().includes('searches_total'), 'the seed set is off by default');
});

t.test('bad business-metrics in the config file: a ConfigError naming the entry', async (t) => {
  const load = (file: string) => loadConfig({ argv: ['--config.file=c.yml'], env: {}, readFile: () => file });
  const cases: [string, RegExp][] = [
    ['business-metrics: nope\n', /config file key "business-metrics": expected a list/],
    ['business-metrics:\n  - name: x-y_total\n    type: counter\n', /entry 0 \(x-y_total\): invalid metric name "x-y_total"/],
    ['business-metrics:\n  - name: a_total\n    type: histogram\n', /entry 0 \(a_total\): type must be counter or gauge/],
    ['business-metrics:\n  - name: a_total\n    type: counter\n    labels: [le, "b c"]\n', /invalid label name "b c"/],
    ['business-metrics:\n  - name: a\n    type: counter\n', /entry 0 \(a\): counter names end in _total/],
    ['business-metrics:\n  - name: a_total\n    type: counter\n    colour: red\n', /entry 0: unknown key "colour"/],
  ];
  for (const [file, re] of cases) {
    t.throws(() => load(file), re);
    t.throws(() => load(file), ConfigError);
  }
  t.throws(() => loadConfig({ argv: ['--business-metrics=x'], env: {} }), /business-metrics can only be set in the config file/, 'file only');
});

/**
 * Per-request overhead of Larder's express middleware: the same express app (a
 * router mounted at /api) with and without
 * `larder.middleware`, served by one child process on two ports, driven by a
 * keep-alive loopback client in this process. A third app with an empty middleware
 * is the control: it shows how far two identical-but-separate apps differ on this
 * machine (the noise floor). The variants take turns in small blocks, in rotating
 * order, so the load of a shared, noisy machine falls on all alike.
 * Two routes: `GET /api/recipes/:id`, a minimal handler (a 4-field JSON object: the
 * worst case, where express itself does almost nothing), and `GET /api/recipes`,
 * a list of 20 recipes (about 4 KB of JSON, still no I/O).
 * Target: < 5% added median latency.
 *
 *   ./scripts/run-bench.sh middleware        (BLOCKS=80 BLOCK=50 by default, per route)
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { fmt, median, printTable, quantile } from './lib/stats.js';

const BLOCKS = Number(process.env['BLOCKS'] ?? 80);
const BLOCK = Number(process.env['BLOCK'] ?? 50);
const VARIANTS = ['plain', 'control', 'larder'] as const;
type Variant = (typeof VARIANTS)[number];
const LABEL: Record<Variant, string> = { plain: 'express, no middleware', control: 'express + empty middleware (control)', larder: 'express + larder.middleware' };

async function serve(): Promise<void> {
  const express = (await import('express')).default;
  const { createLarder } = await import('../src/larder.js');
  const build = (variant: Variant) => {
    const app = express();
    app.disable('x-powered-by');
    if (variant === 'control') app.use((_req, _res, next) => next());
    const larder = variant === 'larder' ? createLarder({ collectors: [] }) : undefined;
    if (larder) app.use(larder.middleware);
    const api = express.Router();
    api.get('/recipes/:id', (req, res) => {
      res.json({ id: Number(req.params['id']), title: 'Tomato soup', category: 'soup', minutes: 25 });
    });
    const list = Array.from({ length: 20 }, (_, i) => ({ id: i, title: `Recipe number ${i}`, category: 'main', minutes: 10 + i, author: { id: i % 7, name: `cook ${i % 7}` }, tags: ['quick', 'family', 'vegetarian'].slice(0, 1 + (i % 3)), rating: 3.5 + (i % 3) / 2 }));
    api.get('/recipes', (_req, res) => {
      res.json(list);
    });
    app.use('/api', api);
    // after the API, so the comparison measures the middleware, not one more route to match
    if (larder) app.get('/metrics', larder.metricsHandler());
    return app;
  };
  const ports: Record<string, number> = {};
  for (const variant of VARIANTS) {
    const server = build(variant).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    server.keepAliveTimeout = 60_000;
    ports[variant] = (server.address() as AddressInfo).port;
  }
  process.send?.(ports);
  process.on('disconnect', () => process.exit(0));
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, path: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - start));
    })
      .on('error', reject)
      .end();
  });
}

const ROUTES = {
  'GET /api/recipes/:id (minimal)': (i: number) => `/api/recipes/${i % 500}`,
  'GET /api/recipes (20-item list)': () => '/api/recipes',
} as const;
type RouteName = keyof typeof ROUTES;

async function run(port: number, n: number, offset: number, route: RouteName = 'GET /api/recipes/:id (minimal)'): Promise<number[]> {
  const times: number[] = [];
  const path = ROUTES[route];
  for (let i = 0; i < n; i++) times.push(await get(port, path(offset + i)));
  return times;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'server' }, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<Record<Variant, number>>((resolve) => child.once('message', (m) => resolve(m as Record<Variant, number>)));
  try {
    // warm up (JIT, route pattern cache, series creation)
    for (const v of VARIANTS) await run(ports[v], 2000, 0);
    for (const route of Object.keys(ROUTES) as RouteName[]) {
      for (const v of VARIANTS) await run(ports[v], 300, 0, route);
      const all: Record<Variant, number[]> = { plain: [], control: [], larder: [] };
      const blockRatios: Record<'control' | 'larder', number[]> = { control: [], larder: [] };
      for (let b = 0; b < BLOCKS; b++) {
        const medians = {} as Record<Variant, number>;
        for (let i = 0; i < VARIANTS.length; i++) {
          const v = VARIANTS[(b + i) % VARIANTS.length]!;
          const times = await run(ports[v], BLOCK, b * BLOCK, route);
          all[v].push(...times);
          medians[v] = median(times);
        }
        blockRatios.control.push(medians.control / medians.plain);
        blockRatios.larder.push(medians.larder / medians.plain);
      }
      console.log(`\n${route}`);
      printTable([
        ['variant', 'requests', 'median µs', 'p90 µs', 'p99 µs', 'median / plain', 'median of block ratios'],
        ...VARIANTS.map((v) => [
          LABEL[v],
          String(all[v].length),
          fmt(median(all[v]) * 1000, 1),
          fmt(quantile(all[v], 0.9) * 1000, 1),
          fmt(quantile(all[v], 0.99) * 1000, 1),
          fmt(median(all[v]) / median(all.plain), 3),
          v === 'plain' ? '1' : fmt(median(blockRatios[v]), 3),
        ]),
      ]);
      const ratio = median(all.larder) / median(all.plain);
      const control = median(all.control) / median(all.plain);
      console.log(`larder.middleware adds ${fmt((median(all.larder) - median(all.plain)) * 1000, 1)} µs at the median (ratio ${fmt(ratio, 3)}, +${fmt((ratio - 1) * 100, 1)}%); the empty control differs by ${fmt((control - 1) * 100, 1)}% (noise floor of this run)`);
      console.log(`target < 5% added median latency: ${ratio < 1.05 ? 'met' : 'NOT met'}`);
    }
    const scrape = await get(ports.larder, '/metrics');
    console.log(`\none /metrics scrape of the instrumented app: ${fmt(scrape, 2)} ms`);
  } finally {
    agent.destroy();
    child.disconnect();
  }
}

if (process.env['BENCH_ROLE'] === 'server') await serve();
else await main();

/**
 * Per-request overhead of Larder's express middleware: the same express app (a
 * router mounted at /api with `GET /recipes/:id` answering JSON) with and without
 * `larder.middleware`, served by one child process on two ports, driven by a
 * keep-alive loopback client in this process. A third app with an empty middleware
 * is the control: it shows how far two identical-but-separate apps differ on this
 * machine (the noise floor). The variants take turns in small blocks, in rotating
 * order, so the load of a shared, noisy machine falls on all alike.
 * Target: < 5% added median latency.
 *
 *   ./scripts/run-bench.sh middleware        (BLOCKS=150 BLOCK=50 by default)
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { fmt, median, printTable, quantile } from './lib/stats.js';

const BLOCKS = Number(process.env['BLOCKS'] ?? 150);
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

async function run(port: number, n: number, offset: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await get(port, `/api/recipes/${(offset + i) % 500}`));
  return times;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'server' }, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<Record<Variant, number>>((resolve) => child.once('message', (m) => resolve(m as Record<Variant, number>)));
  try {
    // warm up (JIT, route pattern cache, series creation)
    for (const v of VARIANTS) await run(ports[v], 2000, 0);
    const all: Record<Variant, number[]> = { plain: [], control: [], larder: [] };
    const blockRatios: Record<'control' | 'larder', number[]> = { control: [], larder: [] };
    for (let b = 0; b < BLOCKS; b++) {
      const medians = {} as Record<Variant, number>;
      for (let i = 0; i < VARIANTS.length; i++) {
        const v = VARIANTS[(b + i) % VARIANTS.length]!;
        const times = await run(ports[v], BLOCK, b * BLOCK);
        all[v].push(...times);
        medians[v] = median(times);
      }
      blockRatios.control.push(medians.control / medians.plain);
      blockRatios.larder.push(medians.larder / medians.plain);
    }
    const scrape = await get(ports.larder, '/metrics');
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
    console.log(`one /metrics scrape of the instrumented app: ${fmt(scrape, 2)} ms`);
  } finally {
    agent.destroy();
    child.disconnect();
  }
}

if (process.env['BENCH_ROLE'] === 'server') await serve();
else await main();

/**
 * The metric reference: every metric a `larder serve` exposes, read from real registries
 * (Larder started on an ephemeral port with a SQLite store in a temporary folder), with
 * its type, label names, help, and what turns it on: a collector, a setting, or the
 * library API a service calls.
 *
 * The host collectors read the test fixtures (test/fixtures/proc-basic, sys-basic,
 * rootfs-basic) and the postgres and redis collectors watch a closed port, so the page is
 * the same on every machine; label names only, never values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { Logger } from '../../src/log.js';
import { startLarder, type Larder } from '../../src/main.js';
import { COLLECTORS } from '../../exporters/index.js';
import { code, table } from './markdown.js';

/** What the registry says of one metric. */
interface Family {
  readonly type: string;
  readonly help: string;
  /** Label names, or undefined when the metric holds no sample to read them from. */
  readonly labels: readonly string[] | undefined;
}

/** Settings beyond the defaults that bring metrics of their own, each tried alone. */
const FEATURES: readonly { readonly origin: string; readonly argv: readonly string[] }[] = [
  { origin: '`--alertmanager.url` (or `notifications:` in the config file)', argv: ['--alertmanager.url=http://127.0.0.1:1'] },
  { origin: '`--business-metrics.seed`', argv: ['--business-metrics.seed'] },
];

/** Bucket and quantile labels belong to the type, not to the metric. */
const TYPE_LABELS = new Set(['le', 'quantile']);

async function families(registry: Registry): Promise<Map<string, Family>> {
  const out = new Map<string, Family>();
  const declared = new Map(registry.getMetricsAsArray().map((m) => [m.name, (m as { labelNames?: unknown }).labelNames]));
  for (const m of await registry.getMetricsAsJSON()) {
    const names = declared.get(m.name);
    const seen = new Set<string>();
    for (const v of m.values) for (const l of Object.keys(v.labels)) if (!TYPE_LABELS.has(l)) seen.add(l);
    const labels = Array.isArray(names) ? (names as string[]) : m.values.length > 0 ? [...seen].sort() : undefined;
    out.set(m.name, { type: String(m.type), help: m.help, labels });
  }
  return out;
}

/** Starts a Larder with `argv` beside the fixture paths and a store in `dir`, runs `fn`, stops it. */
async function withLarder<T>(root: string, dir: string, argv: readonly string[], fn: (l: Larder) => Promise<T>): Promise<T> {
  const fixture = (name: string): string => join(root, 'test', 'fixtures', name);
  const { config } = loadConfig({
    argv: [
      '--listen=127.0.0.1:0',
      `--storage.sqlite-path=${join(dir, 'larder.db')}`,
      '--storage.spool-path=',
      `--path.procfs=${fixture('proc-basic')}`,
      `--path.sysfs=${fixture('sys-basic')}`,
      `--path.rootfs=${fixture('rootfs-basic')}`,
      // the postgres and redis collectors watch a closed port: the same metrics on every machine
      '--storage.db-host=127.0.0.1',
      '--storage.db-port=1',
      '--redis.host=127.0.0.1',
      '--redis.port=1',
      // a collector cut short on a loaded machine would leave its labels unread
      '--collect-timeout=10m',
      ...argv,
    ],
    env: {},
  });
  const larder = await startLarder(config, new Logger('error'));
  try {
    return await fn(larder);
  } finally {
    await larder.stop();
  }
}

/** Serves one request through `middleware` on an ephemeral port. */
async function oneRequestThrough(middleware: RequestHandler): Promise<void> {
  const app = express();
  app.use(middleware);
  app.get('/recipes/:id', (_req, res) => void res.send('ok'));
  const server = await new Promise<Server>((done) => {
    const s = app.listen(0, '127.0.0.1', () => done(s));
  });
  try {
    await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/recipes/1`)).text();
  } finally {
    await new Promise((done) => server.close(done));
  }
}

interface Row extends Family {
  readonly name: string;
  readonly origin: string;
  /** One per field of a kernel file: the names are the fixture's. */
  readonly dynamic: boolean;
}

/** Every metric with what turns it on, from one Larder per configuration. */
export async function metricRows(root: string): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-metric-ref-'));
  try {
    const store = (sub: string): string => join(dir, sub);
    const none = await withLarder(root, store('none'), ['--storage.engine=none'], async (l) => new Set((await families(l.registry)).keys()));
    const base = await withLarder(root, store('base'), [], async (l) => new Set((await families(l.registry)).keys()));
    const byFeature = new Map<string, string>();
    for (const f of FEATURES) {
      const names = await withLarder(root, store(f.argv[0]!.replace(/\W/g, '')), f.argv, async (l) => [...(await families(l.registry)).keys()]);
      for (const n of names) if (!base.has(n) && !byFeature.has(n)) byFeature.set(n, f.origin);
    }
    const all = COLLECTORS.map((c) => `--collector.${c.name}`);
    return await withLarder(root, store('all'), [...all, ...FEATURES.flatMap((f) => f.argv)], async (l) => {
      const owner = new Map<string, string>();
      const dynamic = new Set<string>();
      for (const c of COLLECTORS) {
        const switchText = c.defaultEnabled ? 'on by default' : `off by default: \`--collector.${c.name}\``;
        for (const n of l.collectors.metricsOf([c.name])) owner.set(n, `collector \`${c.name}\` (${switchText})`);
        for (const n of l.collectors.dynamicMetricsOf(c.name)) dynamic.add(n);
      }
      // the library's instruments register on first use
      const before = new Set((await families(l.registry)).keys());
      const library = (origin: string, use: () => unknown, names: Map<string, string>): Promise<void> =>
        (async () => {
          const had = new Set((await families(l.registry)).keys());
          use();
          for (const n of (await families(l.registry)).keys()) if (!had.has(n) && !before.has(n)) names.set(n, origin);
        })();
      const lib = new Map<string, string>();
      await library('library: `app.use(larder.middleware)`', () => l.app.middleware, lib);
      // the HTTP metrics declare their labels with the first request: serve one
      await oneRequestThrough(l.app.middleware);
      await library('library: `larder.instrumentPg()` / `instrumentPgPromise()`', () => l.app.instrumentPg({ query: () => undefined }), lib);
      await library('library: `larder.instrumentRedis(client)`', () => l.app.instrumentRedis({ sendCommand: () => undefined }), lib);
      const rows: Row[] = [];
      for (const [name, fam] of await families(l.registry)) {
        const origin = owner.get(name) ?? lib.get(name) ?? byFeature.get(name) ?? (none.has(name) ? 'always' : base.has(name) ? 'with a store (`--storage.engine` sqlite or postgresql)' : 'other settings');
        rows.push({ name, ...fam, origin, dynamic: dynamic.has(name) });
      }
      return rows;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The generated block of docs/metrics.md. */
export async function metricReference(root: string): Promise<string> {
  const rows = await metricRows(resolve(root));
  const sections = new Map<string, Row[]>();
  for (const r of rows) sections.set(r.origin, [...(sections.get(r.origin) ?? []), r]);
  const order = (o: string): string => (o === 'always' ? '0' : o.startsWith('with a store') ? '1' : o.startsWith('collector') ? '2' : o.startsWith('library') ? '4' : '3');
  const out: string[] = [`${rows.length} metrics.`, ''];
  for (const origin of [...sections.keys()].sort((a, b) => order(a).localeCompare(order(b)) || a.localeCompare(b))) {
    const list = sections.get(origin)!.sort((a, b) => a.name.localeCompare(b.name));
    out.push(`### ${origin}`, '');
    if (list.some((r) => r.dynamic)) out.push('† one metric per field the kernel reports: the names below are those of the test fixture; a host shows the fields its kernel has.', '');
    out.push(
      table(
        ['metric', 'type', 'labels', 'help'],
        list.map((r) => [`${code(r.name)}${r.dynamic ? ' †' : ''}`, r.type, r.labels === undefined ? '(set at run time)' : r.labels.length ? r.labels.join(', ') : '', r.help]),
      ),
      '',
    );
  }
  return out.join('\n');
}

/**
 * node_exporter's textfile collector: serves the metrics of the `*.prom` files in a
 * folder (written atomically by cron jobs and batch scripts: write elsewhere, rename
 * in). A file that does not parse, or is larger than the size limit (checked before
 * reading, so a runaway file costs nothing), is skipped whole and sets
 * `node_textfile_scrape_error` 1; the other files are still served.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { CollectorDefinition } from './collector.js';
import { ConstMetric } from './const-metric.js';
import { DynamicFamilies } from './dynamic-metrics.js';
import type { MetricFamily, Sample } from './metric-family.js';
import { parseExposition } from './text-parser.js';

/**
 * Largest textfile read, in bytes. Files are parsed on the thread that serves
 * /metrics, one per turn of the event loop: 1 MiB (about 25 000 samples) parses in
 * about 0.1 s; textfiles written by cron jobs are a few KB.
 */
export const DEFAULT_TEXTFILE_MAX_BYTES = 1024 * 1024;

/** What one pass over the folder found. */
export interface TextfileResult {
  readonly families: MetricFamily[];
  /** File name → modification time (seconds), for the files that were served. */
  readonly mtimes: Map<string, number>;
  /** File name (or the folder) → why it was skipped. */
  readonly errors: Map<string, string>;
}

interface MutableFamily {
  name: string;
  help: string;
  type: MetricFamily['type'];
  /** HELP as the first file wrote it ('' when none), to compare later files against. */
  declaredHelp: string;
  samples: Sample[];
}

/** A file to merge: its text, or its families when already parsed. */
export type TextfileInput = { readonly name: string; readonly text: string | Uint8Array } | { readonly name: string; readonly families: readonly MetricFamily[] };

/**
 * Merges the parsed files, in name order, into one family list. A file is refused
 * whole when it parses badly (invalid UTF-8 included), repeats a series, carries
 * timestamps (node_exporter refuses them too: the scrape time is the sample time), redeclares a family of an earlier file with
 * another type or help, or names a metric some other collector owns (`taken`).
 */
export function mergeTextfiles(files: readonly TextfileInput[], taken: (metric: string) => boolean): { families: MetricFamily[]; errors: Map<string, string>; ok: string[] } {
  const merged = new Map<string, MutableFamily>();
  // series already served, so a file repeating one of an earlier file is refused (Prometheus would reject the duplicate)
  const series = new Set<string>();
  const errors = new Map<string, string>();
  const ok: string[] = [];
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    try {
      const families = 'families' in file ? file.families : parseExposition(file.text, 'text');
      for (const f of families) {
        if (f.samples.some((s) => s.timestampMs !== undefined)) throw new Error(`metric ${f.name} has a client-side timestamp, which textfiles may not carry`);
        const prev = merged.get(f.name);
        if (prev && (prev.type !== f.type || prev.declaredHelp !== f.help)) throw new Error(`metric ${f.name} was declared differently in an earlier file`);
        if (!prev && taken(f.name)) throw new Error(`metric ${f.name} is already exported by another collector`);
      }
      const mine = new Set<string>();
      for (const f of families) {
        for (const smp of f.samples) {
          const key = seriesKey(smp);
          if (series.has(key)) throw new Error(`series ${smp.name}${JSON.stringify(smp.labels)} is already in an earlier file`);
          if (mine.has(key)) throw new Error(`series ${smp.name}${JSON.stringify(smp.labels)} appears twice`);
          mine.add(key);
        }
      }
      for (const key of mine) series.add(key);
      for (const f of families) {
        const prev = merged.get(f.name);
        if (prev) prev.samples.push(...f.samples);
        else merged.set(f.name, { name: f.name, help: f.help || `Metric read from ${file.name}`, type: f.type, declaredHelp: f.help, samples: [...f.samples] });
      }
      ok.push(file.name);
    } catch (err) {
      errors.set(file.name, (err as Error).message);
    }
  }
  return { families: [...merged.values()].map(({ name, help, type, samples }) => ({ name, help, type, samples })), errors, ok };
}

function seriesKey(s: Sample): string {
  return `${s.name}${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/**
 * Reads a regular file of at most `maxBytes` (0 = any size): the size is checked before
 * reading, and a file that grows while read (a writer that does not rename) is refused
 * rather than read past what was checked. Undefined for something other than a file.
 */
async function readBounded(path: string, maxBytes: number): Promise<{ text: Uint8Array; mtimeMs: number } | undefined> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    if (maxBytes > 0 && st.size > maxBytes) throw new Error(`file is ${st.size} bytes, over the ${maxBytes}-byte limit (--collector.textfile.max-bytes); not read`);
    // one byte more than the size, to notice growth
    const buf = Buffer.allocUnsafe(st.size + 1);
    let len = 0;
    while (len < buf.length) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    if (len > st.size) throw new Error('file grew while being read; write textfiles to a temporary file and rename them in');
    return { text: buf.subarray(0, len), mtimeMs: st.mtimeMs };
  } finally {
    await fh.close();
  }
}

/** Reads and merges every `*.prom` file of `dir`; files over `maxBytes` (0 = no limit) are skipped unread. */
export async function readTextfiles(dir: string, taken: (metric: string) => boolean, maxBytes: number = DEFAULT_TEXTFILE_MAX_BYTES): Promise<TextfileResult> {
  const errors = new Map<string, string>();
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.prom'));
  } catch (err) {
    errors.set(dir, (err as Error).message);
    return { families: [], mtimes: new Map(), errors };
  }
  // bytes, not text: the parser refuses invalid UTF-8 rather than reading U+FFFD
  const files: { name: string; text: Uint8Array }[] = [];
  const mtimes = new Map<string, number>();
  await Promise.all(
    names.map(async (name) => {
      try {
        const read = await readBounded(join(dir, name), maxBytes);
        if (!read) return;
        files.push({ name, text: read.text });
        mtimes.set(name, read.mtimeMs / 1000);
      } catch (err) {
        errors.set(name, (err as Error).message); // too large, removed between readdir and read, or unreadable
      }
    }),
  );
  // Parsed one file per turn of the event loop, so that many files at the size limit
  // never hold /metrics or /healthz for more than one file's parse.
  const parsed: TextfileInput[] = [];
  for (const file of files) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      parsed.push({ name: file.name, families: parseExposition(file.text, 'text') });
    } catch (err) {
      errors.set(file.name, (err as Error).message);
      mtimes.delete(file.name);
    }
  }
  const merged = mergeTextfiles(parsed, taken);
  for (const [name, why] of merged.errors) {
    errors.set(name, why);
    mtimes.delete(name);
  }
  return { families: merged.families, mtimes, errors };
}

function ownedElsewhere(registry: Registry, mine: DynamicFamilies): (metric: string) => boolean {
  return (metric) => registry.getSingleMetric(metric) !== undefined && !mine.names().includes(metric);
}

/** The `textfile` collector; idle (scrape error 0, no families) while no directory is set. */
export const textfileCollector: CollectorDefinition = {
  name: 'textfile',
  defaultEnabled: true,
  create(ctx) {
    const mtime = new ConstMetric(ctx.registry, { name: 'node_textfile_mtime_seconds', help: 'Unixtime mtime of textfiles successfully read.' });
    const scrapeError = new ConstMetric(ctx.registry, { name: 'node_textfile_scrape_error', help: '1 if there was an error opening or reading a file, 0 otherwise' });
    const families = new DynamicFamilies(ctx.registry);
    // "file: cause" lines already logged, so a broken file is logged once, not every interval
    let logged = new Set<string>();
    return {
      async update() {
        const dir = ctx.options.textfileDirectory;
        if (dir === '') {
          scrapeError.setValue(0);
          return;
        }
        const result = await readTextfiles(dir, ownedElsewhere(ctx.registry, families), ctx.options.textfileMaxBytes ?? DEFAULT_TEXTFILE_MAX_BYTES);
        families.replace(result.families);
        mtime.set([...result.mtimes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([file, t]) => ({ labels: { file }, value: t })));
        scrapeError.setValue(result.errors.size > 0 ? 1 : 0);
        const now = new Set<string>();
        for (const [file, why] of result.errors) {
          const key = `${file}: ${why}`;
          now.add(key);
          if (!logged.has(key)) ctx.log.warn('textfile skipped', { file, err: why });
        }
        logged = now;
      },
      dynamicMetrics: () => families.names(),
    };
  },
};

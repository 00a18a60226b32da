/**
 * Host identity: the `instance` label every series this Larder records carries (its own
 * registry's; a scrape target's series carry the target's), and the external labels added
 * to every stored series, as Prometheus' `external_labels` are. /metrics is not changed:
 * a Prometheus scraping it sets `instance` and `job` itself.
 */
import { hostname } from 'node:os';
import { defineOptions } from './option.js';

/** Label names as Prometheus allows them; `__`-prefixed names are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Bounds: external labels are on every stored series, so a few short ones. */
export const MAX_EXTERNAL_LABELS = 16;
export const MAX_LABEL_VALUE_LENGTH = 256;
/** Labels set by --instance and the recorder, not by external labels. */
const RESERVED = new Set(['instance', 'job']);

/** The `instance` value: non-empty, printable, bounded. */
function parseInstance(raw: unknown): string {
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error('expected a string');
  const s = String(raw).trim();
  if (s === '') throw new Error('expected a non-empty name, e.g. web1 or web1:9464');
  if (s.length > MAX_LABEL_VALUE_LENGTH) throw new Error(`expected at most ${MAX_LABEL_VALUE_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new Error('expected no control characters');
  return s;
}

/** One external label, checked; `at` says which entry in a message. */
function checkLabel(name: string, value: unknown, at: string): [string, string] {
  if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${at}: invalid label name ${JSON.stringify(name.slice(0, 100))}: expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __`);
  if (RESERVED.has(name)) throw new Error(`${at}: ${name} is set by --instance and the recorder (job), not as an external label`);
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${at}: the value of ${name} must be a string`);
  const v = String(value);
  if (v === '') throw new Error(`${at}: the value of ${name} is empty (an empty label is no label)`);
  if (v.length > MAX_LABEL_VALUE_LENGTH) throw new Error(`${at}: the value of ${name} is over ${MAX_LABEL_VALUE_LENGTH} characters`);
  return [name, v];
}

/**
 * External labels from a flag or the environment (`k=v`, several comma-separated or the
 * flag repeated: the config mechanism hands repeated flags over as an array), or from the
 * config file (a mapping `{k: v}`). Names unique; at most MAX_EXTERNAL_LABELS.
 */
export function parseExternalLabels(raw: unknown): Readonly<Record<string, string>> {
  const pairs: [string, string][] = [];
  const fromText = (s: string, at: string): void => {
    for (const part of s.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq <= 0) throw new Error(`${at}: expected name=value, got ${JSON.stringify(item.slice(0, 100))}`);
      pairs.push(checkLabel(item.slice(0, eq).trim(), item.slice(eq + 1).trim(), at));
    }
  };
  if (typeof raw === 'string') fromText(raw, 'external label');
  else if (Array.isArray(raw)) {
    raw.forEach((r: unknown, i) => {
      if (typeof r !== 'string') throw new Error(`external label ${i + 1}: expected name=value`);
      fromText(r, `external label ${i + 1}`);
    });
  }
  else if (raw !== null && typeof raw === 'object') for (const [k, v] of Object.entries(raw as Record<string, unknown>)) pairs.push(checkLabel(k, v, `external label ${k.slice(0, 100)}`));
  else throw new Error('expected name=value (repeatable), or in the config file a mapping of name: value');
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (k in out) throw new Error(`external label ${k} is given twice`);
    out[k] = v;
  }
  if (Object.keys(out).length > MAX_EXTERNAL_LABELS) throw new Error(`at most ${MAX_EXTERNAL_LABELS} external labels`);
  return Object.freeze(out);
}

export const identityOptions = defineOptions({
  instance: {
    flag: 'instance',
    env: ['LARDER_INSTANCE'],
    default: hostname(),
    // the generated configuration reference must not depend on the machine it is made on
    show: () => 'the host name',
    help: "the instance label of the series this Larder records from its own registry (and the owner of its rollups on a shared PostgreSQL); unique per Larder sharing a database; default: the host name",
    parse: parseInstance,
  },
  externalLabels: {
    flag: 'external-label',
    env: ['LARDER_EXTERNAL_LABELS'],
    default: Object.freeze({}) as Readonly<Record<string, string>>,
    help: 'name=value added to every stored series that lacks that label, as Prometheus external_labels (repeatable; the environment takes a comma-separated list; config file: a mapping)',
    parse: parseExternalLabels,
    show: (v: Readonly<Record<string, string>>) => (Object.keys(v).length ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join(',') : 'none'),
    repeatable: true,
  },
});

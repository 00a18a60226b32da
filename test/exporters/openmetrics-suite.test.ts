/**
 * The OpenMetrics project's own parser conformance suite, run case by case against
 * Larder's OpenMetrics parser: every `parsers/<case>/test.json` says whether a
 * conforming parser must accept (`shouldParse: true`) or refuse its `metrics` file.
 * The suite lives beside the repository (`../shared/reference/openmetrics-suite/` from
 * the repo root), as CI sees it; each file is handed to the parser as bytes, as a
 * scrape's body is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ExpositionParseError, parseExposition } from '../../exporters/text-parser.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SUITE = join(REPO, '../shared/reference/openmetrics-suite/parsers');

interface CaseSpec {
  readonly type: string;
  readonly file: string;
  readonly shouldParse: boolean;
  readonly comment?: string;
}

const names = readdirSync(SUITE).sort();

t.equal(names.length, 211, 'the suite has its 211 cases');

let passed = 0;
for (const name of names) {
  const spec = JSON.parse(readFileSync(join(SUITE, name, 'test.json'), 'utf8')) as CaseSpec;
  if (spec.type !== 'text') {
    t.fail(`${name}: unknown case type ${JSON.stringify(spec.type)}`);
    continue;
  }
  const body = readFileSync(join(SUITE, name, spec.file));
  let error: unknown;
  try {
    parseExposition(new Uint8Array(body), 'openmetrics');
  } catch (err) {
    error = err;
  }
  if (error !== undefined && !(error instanceof ExpositionParseError)) {
    t.fail(`${name}: threw ${String(error)} instead of an ExpositionParseError`);
    continue;
  }
  const ok = spec.shouldParse ? error === undefined : error !== undefined;
  const what = spec.shouldParse ? `accepted${error ? ` (refused: ${(error as Error).message})` : ''}` : 'refused';
  if (ok) passed++;
  t.ok(ok, `${name}: ${what}${spec.comment ? ` — ${spec.comment}` : ''}`);
}

t.test('every case passes', async (t) => {
  t.comment(`OpenMetrics suite: ${passed}/${names.length} cases pass`);
  t.equal(passed, names.length);
});

/**
 * The generated references (make docs-reference) match the code: the configuration
 * reference the option declarations, the metric reference the registries of a real
 * Larder, the command reference the command table. Each check is also shown failing on
 * a changed copy, so a check that cannot fail would be caught. Needs dist/ (make build).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { repoDir } from '../../scripts/docs-reference.js';
import { markers, outOfDate, spliceBetweenMarkers } from '../../scripts/generated-files.js';
import { OPTION_GROUPS } from '../../src/config.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { COLLECTORS } from '../../exporters/index.js';
import type { OptionSpec } from '../../src/options/option.js';
import { assertBuilt } from '../helpers/larder-process.js';

const ROOT = repoDir();
const read = (page: string): string => readFileSync(join(ROOT, page), 'utf8');

t.test('the checked-in pages are what make docs-reference writes now', async (t) => {
  // the built generator, as make docs-reference runs it: starting Larder five times from
  // dist/ takes seconds, from the TypeScript sources minutes
  assertBuilt();
  const built = (await import(join(ROOT, 'dist/scripts/docs-reference.js'))) as typeof import('../../scripts/docs-reference.js');
  const pages = await built.generatedPages(ROOT);
  t.same([...pages.keys()].sort(), ['docs/cli-reference.md', 'docs/configuration.md', 'docs/metrics.md'], 'three generated pages');
  t.same(outOfDate(pages, ROOT), [], 'no page is out of date (run make docs-reference)');

  // the same check on a copy with one line changed in each page reports that page
  const copy = mkdtempSync(join(tmpdir(), 'larder-docs-ref-'));
  t.teardown(() => rmSync(copy, { recursive: true, force: true }));
  for (const [page, text] of pages) {
    mkdirSync(dirname(join(copy, page)), { recursive: true });
    writeFileSync(join(copy, page), text);
  }
  t.same(outOfDate(pages, copy), [], 'an exact copy is up to date');
  const config = pages.get('docs/configuration.md')!;
  writeFileSync(join(copy, 'docs/configuration.md'), config.replace('`LARDER_COLLECT_INTERVAL`', '`LARDER_INTERVAL`'));
  writeFileSync(join(copy, 'docs/metrics.md'), pages.get('docs/metrics.md')!.replace(/\n\| `node_load1` [^\n]*/, ''));
  t.same(outOfDate(pages, copy).sort(), ['docs/configuration.md', 'docs/metrics.md'], 'an edited option row and a missing metric are reported');
});

t.test('the configuration reference lists every option with its variables, key and default', async (t) => {
  const page = read('docs/configuration.md');
  const { begin, end } = markers('options');
  const block = page.slice(page.indexOf(begin), page.indexOf(end));
  for (const options of Object.values(OPTION_GROUPS)) {
    for (const spec of Object.values(options) as OptionSpec<unknown>[]) {
      const line = block.split('\n').find((l) => l.includes(`| \`${spec.flag}\` |`));
      t.ok(line, `a row for ${spec.flag}`);
      if (!line) continue;
      if (!spec.fileOnly) t.ok(line.startsWith(`| \`--${spec.flag}\``), `${spec.flag}: its flag`);
      for (const env of spec.env ?? []) t.ok(line.includes(`\`${env}\``), `${spec.flag}: ${env}`);
    }
  }
  for (const c of COLLECTORS) t.match(block, `| \`${c.name}\` | ${c.defaultEnabled ? 'on' : 'off'} |`, `collector ${c.name} and its default`);
  const instance = block.split('\n').find((l) => l.startsWith('| `--instance`')) ?? '';
  t.ok(instance.includes('| `the host name` |') && !instance.includes(`\`${hostname()}\``), 'no default taken from this machine (the host name)');
});

t.test('the metric reference names each collector and the library instruments', async (t) => {
  const page = read('docs/metrics.md');
  for (const c of COLLECTORS) t.match(page, `### collector \`${c.name}\``, `a section for collector ${c.name}`);
  for (const m of ['larder_collector_success', 'larder_recorder_samples_written_total', 'http_request_duration_seconds', 'db_queries_total', 'redis_commands_total', 'node_cpu_seconds_total']) {
    t.match(page, `| \`${m}\` |`, m);
  }
  t.match(page, /\| `node_cpu_seconds_total` \| counter \| cpu, mode \|/, 'host labels by name');
  t.match(page, /\| `http_requests_total` \| counter \| [a-z_, ]*route[a-z_, ]* \|/, 'the HTTP labels, read after one real request');
});

t.test('the command reference has every command of the table', async (t) => {
  const page = read('docs/cli-reference.md');
  for (const c of COMMANDS) t.match(page, `### larder ${c.name}\n`, c.name);
});

t.test('a page without its markers is refused, naming it', async (t) => {
  t.throws(() => spliceBetweenMarkers('# x\n', 'options', 'block', 'docs/x.md'), /docs\/x\.md: expected one "<!-- BEGIN GENERATED options/);
  const { begin, end } = markers('m');
  t.equal(spliceBetweenMarkers(`a\n${begin}\nold\n${end}\nb\n`, 'm', 'new', 'p'), `a\n${begin}\n\nnew\n\n${end}\nb\n`, 'only the text between the markers changes');
  t.throws(() => spliceBetweenMarkers(`${end}\n${begin}\n`, 'm', 'x', 'p'), /expected one/, 'markers out of order');
});

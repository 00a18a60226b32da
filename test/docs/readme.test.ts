/**
 * README.md as the manual's front page: it still opens with the two commands, links
 * every page of docs/ (and every link to docs/ leads to a page, and to a heading that
 * exists), and the options its Configuration table names are options Larder has.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { OPTION_GROUPS } from '../../src/config.js';
import type { OptionSpec } from '../../src/options/option.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

t.test('the README opens with make run and make test', async (t) => {
  const lines = README.split('\n');
  t.equal(lines[0], '# Larder');
  t.equal(lines[2], '```sh');
  t.match(lines[3], /^make run {4}# /, 'make run first');
  t.match(lines[4], /^make test {3}# /, 'make test second');
  t.equal(lines[5], '```');
});

t.test('every docs page is linked, and every docs link leads somewhere', async (t) => {
  const links = [...README.matchAll(/\]\((docs\/[^)#\s]+\.md)(?:#([^)\s]+))?\)/g)].map((m) => ({ page: m[1]!, anchor: m[2] }));
  for (const page of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
    t.ok(links.some((l) => l.page === `docs/${page}`), `docs/${page} is linked from the README`);
  }
  for (const { page, anchor } of links) {
    t.ok(existsSync(join(ROOT, page)), `${page} exists`);
    if (anchor === undefined || !existsSync(join(ROOT, page))) continue;
    const headings = [...readFileSync(join(ROOT, page), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
    t.ok(headings.includes(anchor), `${page}#${anchor} is a heading`);
  }
  t.equal(slug('migrate: SQLite → PostgreSQL'), 'migrate-sqlite--postgresql', 'anchors are made as GitHub makes them');
});

t.test("the Configuration table's flags and variables are Larder's", async (t) => {
  const at = README.indexOf('## Configuration\n');
  const section = README.slice(at, README.indexOf('\n## ', at + 1));
  const rows = section.split('\n').filter((l) => l.startsWith('| `--'));
  t.ok(rows.length >= 10, `${rows.length} rows`);
  const specs = Object.values(OPTION_GROUPS).flatMap((g) => Object.values(g) as OptionSpec<unknown>[]);
  const flags = new Set(specs.map((s) => s.flag));
  const vars = new Set(specs.flatMap((s) => s.env ?? []));
  for (const row of rows) {
    const [flagCell, varCell] = row.split(' | ');
    for (const [, flag] of flagCell!.matchAll(/`--([a-z0-9.-]+)`/g)) t.ok(flags.has(flag!), `--${flag} is an option`);
    for (const [, v] of varCell!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) t.ok(vars.has(v!), `${v} is an option's variable`);
  }
});

/**
 * Writes the generated references into their docs pages, between the markers of each
 * (the text around them is written by hand): the configuration reference
 * (docs/configuration.md, from src/options/), the metric reference (docs/metrics.md, from
 * real registries) and the `larder <command> --help` texts (docs/cli-reference.md, from
 * src/cli/commands.ts). `--check` writes nothing and exits 1 listing the pages that are
 * out of date; test/docs/reference.test.ts runs the same check.
 *
 *   make docs-reference            (or: node dist/scripts/docs-reference.js)
 *   node dist/scripts/docs-reference.js --check
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spliceBetweenMarkers, writeOrCheck } from './generated-files.js';
import { cliReference } from './reference/cli-reference.js';
import { configReference } from './reference/config-reference.js';
import { metricReference } from './reference/metric-reference.js';

/** The repository's root (this file runs from scripts/ under tests, dist/scripts/ when built). */
export function repoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return existsSync(join(here, 'run-tests.sh')) ? resolve(here, '..') : resolve(here, '../..');
}

/** The generated blocks: page (relative to the root) → marker name → block. */
async function blocks(root: string): Promise<Map<string, Map<string, string>>> {
  return new Map([
    ['docs/configuration.md', new Map([['options', configReference()]])],
    ['docs/metrics.md', new Map([['metrics', await metricReference(root)]])],
    ['docs/cli-reference.md', new Map([['commands', await cliReference()]])],
  ]);
}

/** The pages as they should be: each page on disk with its generated blocks replaced. */
export async function generatedPages(root = repoDir()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [page, named] of await blocks(root)) {
    let text = readFileSync(join(root, page), 'utf8');
    for (const [name, block] of named) text = spliceBetweenMarkers(text, name, block, page);
    out.set(page, text);
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  const root = repoDir();
  return writeOrCheck(await generatedPages(root), root, argv, 'docs reference', 'make docs-reference');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`docs-reference: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

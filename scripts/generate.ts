/**
 * Writes (or with `--check` only lists) the generated files checked into the repository
 * that are built from TypeScript definitions:
 *
 *   node dist/scripts/generate.js dashboards [--check]    grafana/dashboards/ (make grafana-dashboards)
 *   node dist/scripts/generate.js alert-rules [--check]   rules/*.rules.yml, docs/alert-rules.md (make alert-rules)
 *
 * The reference pages have their own command, scripts/docs-reference.ts (make docs-reference).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles as dashboardFiles, grafanaDir } from '../grafana/generate.js';
import { generatedFiles as ruleFiles, repoDir } from '../rules/generate.js';
import { writeOrCheck, type GeneratedFiles } from './generated-files.js';

interface Generator {
  files: () => GeneratedFiles;
  root: () => string;
  make: string;
}

const GENERATORS: Record<string, Generator> = {
  dashboards: { files: dashboardFiles, root: grafanaDir, make: 'make grafana-dashboards' },
  'alert-rules': { files: ruleFiles, root: repoDir, make: 'make alert-rules' },
};

function main(argv: readonly string[]): number {
  const name = argv.find((a) => !a.startsWith('-'));
  const generator = name === undefined ? undefined : GENERATORS[name];
  if (generator === undefined) {
    process.stderr.write(`usage: generate.js ${Object.keys(GENERATORS).join('|')} [--check]${name === undefined ? '' : ` (unknown: ${name})`}\n`);
    return 2;
  }
  return writeOrCheck(generator.files(), generator.root(), argv, name!, generator.make);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));

/**
 * Write-or-check of generated files: a generator builds a map of path → content, and
 * either writes the files that differ or (`--check`, and the drift tests) lists them.
 * Also the splice of a generated block between two markers of a hand-written page.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** Generated files: path relative to a root folder → content. */
export type GeneratedFiles = ReadonlyMap<string, string>;

/** The paths whose content on disk differs from the generated one (or that are missing). */
export function outOfDate(files: GeneratedFiles, root: string): string[] {
  const stale: string[] = [];
  for (const [rel, content] of files) {
    const path = join(root, rel);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(rel);
  }
  return stale;
}

/** Writes the files that differ, saying which on stdout. */
export function writeChanged(files: GeneratedFiles, root: string): string[] {
  const written: string[] = [];
  for (const rel of outOfDate(files, root)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, files.get(rel)!);
    process.stdout.write(`wrote ${relative(process.cwd(), path)}\n`);
    written.push(rel);
  }
  return written;
}

/**
 * A generator's command line: `--check` writes nothing and returns 1 listing the stale
 * files on stderr (`what` names the generator, `make` the target that regenerates);
 * without it the stale files are written. Returns the exit code.
 */
export function writeOrCheck(files: GeneratedFiles, root: string, argv: readonly string[], what: string, make: string): number {
  if (argv.includes('--check')) {
    const stale = outOfDate(files, root);
    if (stale.length === 0) return 0;
    process.stderr.write(`${what}: out of date (run ${make}): ${stale.join(', ')}\n`);
    return 1;
  }
  writeChanged(files, root);
  return 0;
}

/** The opening and closing markers of a generated block named `name`. */
export function markers(name: string): { begin: string; end: string } {
  return {
    begin: `<!-- BEGIN GENERATED ${name}: do not edit, run make docs-reference -->`,
    end: `<!-- END GENERATED ${name} -->`,
  };
}

/**
 * `page` with the text between the markers of `name` replaced by `block`. Throws when
 * the markers are missing, repeated or out of order, naming the page.
 */
export function spliceBetweenMarkers(page: string, name: string, block: string, pageName: string): string {
  const { begin, end } = markers(name);
  const at = page.indexOf(begin);
  const until = page.indexOf(end);
  if (at < 0 || until < at || page.indexOf(begin, at + 1) >= 0 || page.indexOf(end, until + 1) >= 0) {
    throw new Error(`${pageName}: expected one "${begin}" line followed by one "${end}" line`);
  }
  return `${page.slice(0, at + begin.length)}\n\n${block.trim()}\n\n${page.slice(until)}`;
}

/**
 * Rule-file globs as Prometheus reads them (Go's filepath.Glob): `*`, `?` and `[…]`
 * in any path component, no `**`. A plain path is returned as is (a missing one then
 * fails when read, so a typo is not silently an empty rule set).
 */
import { readdirSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

/** Most files one pattern may match. */
const MAX_MATCHES = 1000;

const MAGIC = /[*?[]/;

/** A path component pattern as an anchored RegExp. */
function componentRegex(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new Error(`bad glob ${JSON.stringify(p)}: unclosed [`);
      let body = p.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < p.length) re += `\\${p[++i]!}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The files `pattern` names, sorted as filepath.Glob sorts them. */
export function expandGlobs(pattern: string): string[] {
  if (!MAGIC.test(pattern)) return [pattern];
  const parts = pattern.split(sep);
  let bases = [isAbsolute(pattern) ? sep : '.'];
  const relative = !isAbsolute(pattern);
  parts.forEach((part, i) => {
    if (part === '' && i === 0) return;
    const next: string[] = [];
    for (const base of bases) {
      if (!MAGIC.test(part)) {
        next.push(base === '.' && relative ? part : join(base, part));
        continue;
      }
      const re = componentRegex(part);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        // as in Go, a leading dot is matched only by a pattern that starts with one
        if (n.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(n)) next.push(base === '.' && relative ? n : join(base, n));
      }
      if (next.length > MAX_MATCHES) throw new Error(`glob ${JSON.stringify(pattern)} matches more than ${MAX_MATCHES} paths`);
    }
    bases = next;
  });
  return bases.sort();
}

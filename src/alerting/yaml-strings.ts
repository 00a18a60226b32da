/**
 * Go reads `map[string]string` fields of YAML (labels, annotations) as the scalar's own
 * text: `value: 2.5e+09` is the string "2.5e+09", not the number 2500000000. This keeps
 * that text for the values of the named mappings, so Larder reads them as Prometheus does.
 */
import type { Document } from 'yaml';
import { yamlLib } from '../yaml-lib.js';

/** Turns non-string scalar values of mappings under `keys` back into their source text. */
export function keepScalarText(doc: Document, keys: ReadonlySet<string>): void {
  const { isMap, isScalar, visit } = yamlLib();
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !keys.has(String(pair.key.value)) || !isMap(pair.value)) return;
      for (const item of pair.value.items) {
        const v = item.value;
        if (isScalar(v) && typeof v.value !== 'string' && v.value !== null && typeof v.source === 'string') v.value = v.source;
      }
    },
  });
}

/** Parser of /proc/vmstat. */
import { fields } from './read.js';

/** Parses `name value` lines, keeping the names `keep` matches. */
export function parseVmstat(text: string, keep: RegExp): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const [name, value] = fields(line);
    if (!name || value === undefined || !keep.test(name)) continue;
    const n = Number(value);
    if (!Number.isNaN(n)) out.push({ name, value: n });
  }
  return out;
}

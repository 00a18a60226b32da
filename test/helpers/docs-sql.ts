/** The SQL examples of the docs pages, as printed, for the tests that run them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The ```sql block of `page` (relative to docs/) whose first line is `-- <title>`. */
export function docsSqlBlock(page: string, title: string): string {
  const doc = readFileSync(join(import.meta.dirname, '../../docs', page), 'utf8');
  const m = new RegExp('```sql\\n(-- ' + title.replace(/[()]/g, '\\$&') + '\\n[\\s\\S]*?)```').exec(doc);
  if (!m) throw new Error(`docs/${page} has no sql block "-- ${title}"`);
  return m[1]!;
}

/** Picks the output form of a command's rows: --output, or table on a terminal and TSV otherwise. */
import { choiceFlag } from './command.js';
import { renderCsv, renderJson, renderTable, renderTsv, type OutStream } from './output.js';

export type OutputForm = 'table' | 'csv' | 'json' | 'chart';

/** The --output flag of a command (`chart` only where `allowChart`). */
export function outputForm(flag: string | undefined, allowChart: boolean): OutputForm | undefined {
  if (flag === undefined) return undefined;
  const allowed: readonly OutputForm[] = allowChart ? ['table', 'csv', 'json', 'chart'] : ['table', 'csv', 'json'];
  return choiceFlag('output', flag, allowed);
}

/** Rows in the chosen form; with no --output, an aligned table on a terminal and TSV in a pipe. */
export function renderRows(form: OutputForm | undefined, stream: OutStream, columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  switch (form) {
    case 'csv':
      return renderCsv(columns, rows);
    case 'json':
      return renderJson(columns, rows);
    case 'table':
      return renderTable(columns, rows);
    default:
      return stream.isTTY ? renderTable(columns, rows) : renderTsv(columns, rows);
  }
}

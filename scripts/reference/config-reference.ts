/**
 * The configuration reference: every option of `larder serve` from its declaration
 * (src/options/), with its flag, environment variables, config-file key, default and
 * meaning, under the headings `larder serve --help` uses; then the collector switches.
 */
import { OPTION_GROUPS } from '../../src/config.js';
import { helpSection, helpSentence, shownDefault } from '../../src/options/help.js';
import type { OptionSpec } from '../../src/options/option.js';
import { COLLECTORS } from '../../exporters/index.js';
import { code, table } from './markdown.js';

/** A default as a cell: a JSON string without its quotes, the empty string as "empty". */
function defaultCell(shown: string): string {
  if (shown === '""') return 'empty';
  return code(/^".*"$/.test(shown) ? (JSON.parse(shown) as string) : shown);
}

function row(spec: OptionSpec<unknown>): string[] {
  const flag = spec.fileOnly ? 'config file only' : `${code(`--${spec.flag}`)}${spec.repeatable ? ' (repeatable)' : ''}`;
  const env = spec.env?.length ? spec.env.map(code).join(', ') : '–';
  return [flag, env, code(spec.flag), defaultCell(shownDefault(spec)), helpSentence(spec)];
}

/** The generated block of docs/configuration.md. */
export function configReference(): string {
  const sections = new Map<string, string[][]>();
  for (const [group, options] of Object.entries(OPTION_GROUPS)) {
    for (const spec of Object.values(options) as OptionSpec<unknown>[]) {
      const title = helpSection(spec.flag, group);
      sections.set(title, [...(sections.get(title) ?? []), row(spec)]);
    }
  }
  const out: string[] = [];
  for (const [title, rows] of sections) {
    out.push(`### ${title}`, '', table(['flag', 'environment', 'config-file key', 'default', 'meaning'], rows), '');
  }
  out.push(
    '### collector switches',
    '',
    'Each collector is turned on by `--collector.<name>` and off by `--no-collector.<name>`; in the config file, `collectors: {<name>: true|false}`. No environment variable. [metrics.md](metrics.md) lists each collector\'s metrics.',
    '',
    table(
      ['collector', 'default', 'interval'],
      COLLECTORS.map((c) => [code(c.name), c.defaultEnabled ? 'on' : 'off', c.slow ? 'slow (`--slow-collect-interval`)' : '`--collect-interval`']),
    ),
  );
  return out.join('\n');
}

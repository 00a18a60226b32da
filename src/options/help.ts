/**
 * The `larder serve --help` text, from the option declarations. Options are listed under
 * headings named for what they configure: mostly their group, but rollup schedules, scrape
 * targets, business metrics and the cluster view get their own heading although they share
 * a group (and a config section) with neighbours, and the collectors' settings and on/off
 * switches share one heading.
 */
import type { OptionGroup, OptionSpec } from './option.js';

/** Headings taken from the flag rather than the group, first match wins. */
const SECTION_BY_FLAG: readonly { readonly title: string; readonly test: (flag: string) => boolean }[] = [
  { title: 'rollup', test: (f) => f.startsWith('rollup.') },
  { title: 'scrape targets', test: (f) => f === 'targets' || f.startsWith('scrape.') },
  { title: 'business metrics', test: (f) => f === 'business-metrics' || f.startsWith('business-metrics.') },
  { title: 'cluster (PM2 cluster mode, workers)', test: (f) => f.startsWith('cluster.') },
  { title: 'alert rules', test: (f) => f === 'rules' || f.startsWith('rules.') },
];

/** The heading an option is listed under. */
export function helpSection(flag: string, group: string): string {
  return SECTION_BY_FLAG.find((s) => s.test(flag))?.title ?? group;
}

/** True when the help sentence already states the default, so a second "(default: …)" would repeat it. */
function statesDefault(help: string): boolean {
  return /\bdefault\b/i.test(help);
}

/** An option's default as `--help` and the configuration reference show it. */
export function shownDefault(spec: OptionSpec<unknown>): string {
  // JSON.stringify(undefined) is undefined: an option without a default shows none
  const shown = spec.show ? spec.show(spec.default) : (JSON.stringify(spec.default) ?? 'none');
  return shown === '' ? '""' : shown;
}

/** An option's help sentence, without the "config file only" prefix a file-only option's may carry. */
export function helpSentence(spec: OptionSpec<unknown>): string {
  return spec.fileOnly ? spec.help.replace(/^config file only:\s*/i, '') : spec.help;
}

function entry(spec: OptionSpec<unknown>): string[] {
  const env = spec.env?.length ? ` [${spec.env.join(', ')}]` : '';
  const name = spec.fileOnly ? `${spec.flag}: (config file only)` : `--${spec.flag}`;
  const help = helpSentence(spec);
  if (statesDefault(help)) return [`  ${name}${env}`, `      ${help}`];
  return [`  ${name}${env}`, `      ${help} (default: ${shownDefault(spec)})`];
}

/**
 * Renders the options of every group, then the collector switches under the collectors'
 * heading. `groups` in the order `--help` lists them; a heading appears once, where its
 * first option falls.
 */
export function renderOptionsHelp(groups: Readonly<Record<string, OptionGroup>>, collectorDefaults: Readonly<Record<string, boolean>>, collectorsGroup = 'collectors'): string {
  const sections = new Map<string, string[]>();
  const add = (title: string, lines: string[]): void => {
    const at = sections.get(title) ?? [];
    at.push(...lines);
    sections.set(title, at);
  };
  for (const [group, options] of Object.entries(groups)) {
    for (const spec of Object.values(options)) add(helpSection(spec.flag, group), entry(spec));
  }
  add(collectorsGroup, [
    `  each collector is turned on by --collector.<name>, off by --no-collector.<name> (config file: "collectors: {name: true|false}"):`,
    ...Object.entries(collectorDefaults).map(([name, on]) => `    --collector.${name} (default: ${on ? 'enabled' : 'disabled'})`),
  ]);
  const out: string[] = [];
  for (const [title, lines] of sections) out.push(`${title}:`, ...lines);
  return out.join('\n');
}

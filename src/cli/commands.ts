/**
 * The operator commands of `larder`, one module each under src/cli/, loaded only when
 * run (so `larder serve` loads none of them). To add one: write its module and add a
 * line here; src/cli.ts lists and dispatches from this table.
 */
import type { Command } from './command.js';

/** A command as `larder --help` lists it, and how to load it. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'stats', summary: 'rows and bytes per table and tier, sample extent, series, spool, rollup lag', load: async () => (await import('./stats.js')).statsCommand },
  { name: 'query', summary: 'PromQL (instant or range, from the right tier) or read-only SQL', load: async () => (await import('./query.js')).queryCommand },
  { name: 'latest', summary: 'the newest sample of each series, filtered by name and labels', load: async () => (await import('./latest.js')).latestCommand },
  { name: 'alerts', summary: 'alerts firing now and recent alert history, filtered by state, time, name and labels', load: async () => (await import('./alerts.js')).alertsCommand },
  { name: 'backup', summary: 'a consistent copy of the SQLite store while Larder runs (--gzip)', load: async () => (await import('./backup.js')).backupCommand },
  { name: 'restore', summary: 'put a checked backup in place of the SQLite store (Larder stopped)', load: async () => (await import('./backup.js')).restoreCommand },
  { name: 'optimize', summary: 'VACUUM and ANALYZE the store (SQLite: Larder stopped)', load: async () => (await import('./maintain.js')).optimizeCommand },
  { name: 'cleanup', summary: 'drop raw chunks older than --retention-days N (--dry-run lists them)', load: async () => (await import('./maintain.js')).cleanupCommand },
  { name: 'migrate', summary: 'copy the SQLite store into PostgreSQL (resumable, verified)', load: async () => (await import('./migrate.js')).migrateCommand },
  { name: 'check-config', summary: 'validate the config file and environment, starting nothing', load: async () => (await import('./check-config.js')).checkConfigCommand },
];

/** `larder check-config`: validates the config file and the environment, starting nothing. */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config.js';
import { checkRecordInterval } from '../recording-step.js';
import { assertDatabaseUrl } from '../store-errors.js';
import { resolveTiers, formatTiers } from '../../rollup/tiers.js';
import { UsageError, type Command } from './command.js';

/** The nearest existing folder of `path` (the store's folder is created at start). */
function existingParent(path: string): string {
  let d = dirname(resolve(path));
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate the config file and environment without starting anything',
  usage: `Usage: larder check-config [--config.file FILE] [options of larder serve]

Loads the configuration as larder serve would (defaults, --config.file, environment,
flags), checks what can be checked without starting (values, combinations, that the
SQLite folder is writable, DATABASE_URL's form) and prints a summary. Exit 0 when it is
valid, 2 with the problem otherwise.`,
  flags: [],
  async run({ words, config, stdout }) {
    if (words.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(words[0])}; check-config takes only --options`);
    try {
      checkRecordInterval(config);
      if (config.storage.engine === 'postgresql') assertDatabaseUrl(config.storage.databaseUrl);
      if ((config.web.tlsCertFile === '') !== (config.web.tlsKeyFile === '')) throw new ConfigError('--web.tls-cert-file and --web.tls-key-file must be given together');
      for (const f of [config.web.tlsCertFile, config.web.tlsKeyFile, config.web.bearerTokenFile]) {
        if (f !== '' && !existsSync(f)) throw new ConfigError(`file ${f} does not exist (named by a --web.* option)`);
      }
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    const lines = [`config file: ${config.general.configFile || '(none)'}`];
    const s = config.storage;
    if (s.engine === 'sqlite') {
      const dir = existingParent(s.sqlitePath);
      try {
        accessSync(dir, constants.W_OK);
      } catch {
        throw new UsageError(`--storage.sqlite-path ${s.sqlitePath}: Larder could not create files in ${dir}; make it writable by Larder's user or choose another path`);
      }
      lines.push(`store: sqlite ${s.sqlitePath}`);
    } else if (s.engine === 'postgresql') lines.push(`store: postgresql ${s.databaseUrl ? '(DATABASE_URL)' : `${s.dbHost}:${s.dbPort}/${s.dbName} as ${s.dbUser}`}`);
    else lines.push('store: none (exporter only)');
    if (s.engine !== 'none') lines.push(`rollup tiers: ${formatTiers(resolveTiers(config.recorder.tiers, s.recordInterval))}`);
    lines.push(`listen: ${config.web.listen.host}:${config.web.listen.port}`);
    lines.push(`collectors: ${Object.entries(config.collectorsEnabled).filter(([, on]) => on).map(([n]) => n).join(', ')}`);
    stdout.write(`${lines.join('\n')}\nconfiguration OK\n`);
    return 0;
  },
};

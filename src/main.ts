/**
 * Wiring of the standalone process: registry → collectors → HTTP server (and, as
 * later parts arrive, recorder → store). Everything is built from the config here,
 * so the pieces themselves take what they need as arguments.
 */
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { COLLECTORS } from '../exporters/index.js';
import { CollectorSet } from '../exporters/collector-set.js';
import { ConfigError, type Config } from './config.js';
import { Logger } from './log.js';
import { startServer, type RunningServer } from './server.js';
import { Authenticator } from './web-auth.js';

/** A running Larder. */
export interface Larder {
  readonly registry: Registry;
  readonly server: RunningServer;
  readonly collectors: CollectorSet;
  /** Stops collecting, closes the server; resolves when everything is flushed. */
  stop(): Promise<void>;
}

function readRequired(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${option} ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Starts collectors and the HTTP server as the config says. */
export async function startLarder(config: Config, log: Logger = new Logger(config.general.logLevel)): Promise<Larder> {
  const web = config.web;
  if ((web.tlsCertFile === '') !== (web.tlsKeyFile === '')) {
    throw new ConfigError('--web.tls-cert-file and --web.tls-key-file must be given together');
  }
  const tls = web.tlsCertFile ? { cert: readRequired(web.tlsCertFile, '--web.tls-cert-file'), key: readRequired(web.tlsKeyFile, '--web.tls-key-file') } : undefined;
  const token = web.bearerTokenFile ? readRequired(web.bearerTokenFile, '--web.bearer-token-file').toString('utf8').trim() : undefined;
  if (token !== undefined && token.length < 8) throw new ConfigError(`--web.bearer-token-file ${JSON.stringify(web.bearerTokenFile)}: the token must have at least 8 characters`);
  const auth = new Authenticator(web.auth, token);

  const registry = new Registry();
  const enabled = COLLECTORS.filter((c) => config.collectorsEnabled[c.name]);
  const collectors = new CollectorSet(
    { registry, options: config.collectors, log: log.child('collector'), now: Date.now },
    enabled,
    { interval: config.collectors.collectInterval, slowInterval: config.collectors.slowCollectInterval, timeout: config.collectors.collectTimeout },
  );
  await collectors.start();

  const server = await startServer({ registry, collectors, auth, log: log.child('http'), maxRequests: web.maxRequests, tls }, web.listen);
  log.info('larder listening', { url: server.url, collectors: enabled.map((c) => c.name).join(',') });

  return {
    registry,
    server,
    collectors,
    async stop() {
      collectors.stop();
      await server.close();
    },
  };
}

/**
 * Reads and checks the server's PEM certificate and key at start-up, so a bad file is a
 * configuration error naming the option and the file (exit code 2), not OpenSSL's bare
 * `error:0480006C:PEM routines::no start line` from deep inside the HTTPS server.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config.js';

/** Largest certificate chain or key file read (a PEM chain is a few KB). */
const MAX_PEM_BYTES = 1024 * 1024;

/** Reads a file an option names; a failure is a ConfigError naming both. */
export function readOptionFile(path: string, option: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${option} ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (data.length > MAX_PEM_BYTES) throw new ConfigError(`${option} ${JSON.stringify(path)}: file too large (${data.length} bytes; at most ${MAX_PEM_BYTES})`);
  return data;
}

/** OpenSSL's reason without its numeric prefix: `error:0480006C:PEM routines::no start line` → `PEM routines: no start line`. */
function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^error:[0-9A-Fa-f]+:/, '').replace(/::/, ': ');
}

/**
 * Loads the certificate (chain) and private key the options name and checks that each is
 * PEM of the right kind and that the key belongs to the certificate. The key's content
 * never appears in a message.
 */
export function loadTlsFiles(certFile: string, keyFile: string, names = { cert: '--web.tls-cert-file', key: '--web.tls-key-file' }): { cert: Buffer; key: Buffer } {
  const cert = readOptionFile(certFile, names.cert);
  const key = readOptionFile(keyFile, names.key);
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`${names.cert} ${JSON.stringify(certFile)} is not a PEM certificate (-----BEGIN CERTIFICATE-----): ${reason(err)}`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new ConfigError(`${names.key} ${JSON.stringify(keyFile)} is not a PEM private key (-----BEGIN PRIVATE KEY-----), or it is encrypted: ${reason(err)}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`${names.key} ${JSON.stringify(keyFile)} does not belong to the certificate in ${names.cert} ${JSON.stringify(certFile)}: ${reason(err)}`);
  }
  return { cert, key };
}

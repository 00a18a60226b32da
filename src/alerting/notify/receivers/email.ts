/**
 * Email over SMTP with nodemailer (TLS, STARTTLS, AUTH; a well-kept library with no
 * dependencies of its own). One message per notification, plain text.
 */
import { createRequire } from 'node:module';
import type nodemailerType from 'nodemailer';
import type { EmailConfig } from '../config.js';
import { DeliveryError, scrub } from '../http.js';
import { body, title, type NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

/** Mail bodies are cut here: a notification is not a report. */
const MAX_BODY = 64 * 1024;

/** The message nodemailer sends. */
export function emailMessage(c: EmailConfig, n: NotificationData): { from: string; to: string[]; subject: string; text: string } {
  return { from: c.from, to: [...c.to], subject: title(n).slice(0, 200), text: body(n, MAX_BODY) };
}

/** SMTP replies 5xx are permanent; connection problems and 4xx are worth a retry. */
function classify(err: unknown, secrets: readonly string[]): DeliveryError {
  const e = err as Error & { responseCode?: number; code?: string };
  const what = e.responseCode ? `SMTP ${e.responseCode}` : e.code ?? 'SMTP error';
  const retryable = !(e.responseCode !== undefined && e.responseCode >= 500) && e.code !== 'EAUTH';
  return new DeliveryError(scrub(`${what}: ${e.message.split('\n')[0]!.slice(0, 200)}`, secrets), retryable);
}

/** Makes an email receiver's notifier; nodemailer is loaded then (about 15 MB of RSS a Larder without one need not hold). */
export function emailNotifier(c: EmailConfig): Notifier {
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof nodemailerType;
  const transport = nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.tls === 'tls',
    requireTLS: c.tls === 'starttls',
    name: c.hello,
    auth: c.username !== undefined ? { user: c.username, pass: c.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !c.insecureSkipVerify, ...(c.ca ? { ca: c.ca } : {}) },
    connectionTimeout: c.timeoutMs,
    greetingTimeout: c.timeoutMs,
    socketTimeout: c.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const secrets = c.password ? [c.password] : [];
  return {
    integration: 'email',
    sendResolved: c.sendResolved,
    async notify(n) {
      try {
        await transport.sendMail(emailMessage(c, n));
      } catch (err) {
        throw classify(err, secrets);
      }
    },
  };
}

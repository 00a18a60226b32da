/**
 * Email to a real SMTP server in the test process (smtp-server on loopback): AUTH PLAIN
 * over STARTTLS with a self-signed certificate, the message's headers and text; and a
 * server refusing the password, whose failure is recorded without the password.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { SMTPServer } from 'smtp-server';
import { Logger } from '../../../../src/log.js';
import { parseNotifications } from '../../../../src/alerting/notify/config.js';
import { NotifierSink } from '../../../../src/alerting/notify/notifier-sink.js';
import type { FailedNotification } from '../../../../src/alerting/notify/delivery.js';

const PASSWORD = 'smtp-Pa55-word-xyz';

interface Mail { from: string; to: string[]; data: string; user: string; secure: boolean }

async function startSmtp(t: Test, dir: string): Promise<{ port: number; mails: Mail[] }> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const mails: Mail[] = [];
  const server = new SMTPServer({
    key: readFileSync(join(dir, 'key.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'larder' && auth.password === PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8'), user: String(session.user), secure: session.secure });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

t.test('email over STARTTLS with AUTH reaches the SMTP server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-smtp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const smtp = await startSmtp(t, dir);
  writeFileSync(join(dir, 'smtp-password'), `${PASSWORD}\n`);
  const lines: string[] = [];
  const config = parseNotifications({
    external_url: 'http://larder.example:9464',
    receivers: [{ name: 'mail', email_configs: [{
      to: ['ops@example.com', 'oncall@example.com'], from: 'larder@example.com', smarthost: `127.0.0.1:${smtp.port}`, hello: 'larder.example',
      auth_username: 'larder', auth_password_file: join(dir, 'smtp-password'), require_tls: true, tls_config: { ca_file: join(dir, 'cert.pem'), insecure_skip_verify: true }, send_resolved: true,
    }] }],
    route: { receiver: 'mail', group_by: ['alertname'], group_wait: '50ms', group_interval: '300ms' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('debug', (l) => lines.push(l)) });
  t.teardown(() => sink.stop(500));
  const labels = { alertname: 'DiskFull', instance: 'host-1' };
  sink.send([{ labels, annotations: { summary: 'Disk almost full', description: '/var is 97% full.' }, startsAt: '2026-12-03T10:00:00.000Z', endsAt: new Date(Date.now() + 600_000).toISOString() }]);
  const deadline = Date.now() + 10_000;
  while (smtp.mails.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(smtp.mails.length, 1, 'one mail');
  const m = smtp.mails[0]!;
  t.equal(m.from, 'larder@example.com');
  t.same(m.to, ['ops@example.com', 'oncall@example.com']);
  t.equal(m.user, 'larder', 'authenticated');
  t.equal(m.secure, true, 'upgraded with STARTTLS');
  t.match(m.data, /^Subject: \[FIRING:1\] DiskFull \(host-1\)\r?$/m);
  t.match(m.data, /^To: ops@example\.com, oncall@example\.com\r?$/m);
  t.match(m.data, /FIRING: Disk almost full/);
  t.match(m.data, /\/var is 97% full\./);
  t.match(m.data, /Labels: alertname=DiskFull, instance=host-1/);

  sink.send([{ labels, annotations: { summary: 'Disk almost full' }, startsAt: '2026-12-03T10:00:00.000Z', endsAt: new Date(Date.now() - 1000).toISOString() }]);
  while (smtp.mails.length < 2 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
  t.equal(smtp.mails.length, 2, 'the resolved mail');
  t.match(smtp.mails[1]!.data, /^Subject: \[RESOLVED\] DiskFull \(host-1\)\r?$/m);
  t.notOk(lines.join('\n').includes(PASSWORD));
});

t.test('a refused password fails for good without a retry storm, and is recorded without the password', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-smtp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const smtp = await startSmtp(t, dir);
  const lines: string[] = [];
  const failures: FailedNotification[] = [];
  const wrong = 'wrong-secret-password-123';
  const config = parseNotifications({
    receivers: [{ name: 'mail', email_configs: [{ to: 'ops@example.com', from: 'larder@example.com', smarthost: `127.0.0.1:${smtp.port}`, auth_username: 'larder', auth_password: wrong, tls_config: { insecure_skip_verify: true } }] }],
    route: { receiver: 'mail', group_wait: '10ms', group_interval: '3s' },
  })!;
  const sink = new NotifierSink({ config, registry: new Registry(), log: new Logger('debug', (l) => lines.push(l)), initialBackoffMs: 50, onFailure: (f) => failures.push(f) });
  t.teardown(() => sink.stop(500));
  sink.send([{ labels: { alertname: 'X' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() }]);
  const deadline = Date.now() + 5000;
  while (failures.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(failures.length, 1);
  t.equal(failures[0]!.attempts, 1, 'an authentication failure is not retried');
  t.match(failures[0]!.error, /EAUTH|535/);
  t.equal(smtp.mails.length, 0);
  const text = `${lines.join('\n')}\n${failures[0]!.error}`;
  t.notOk(text.includes(wrong), 'no password in the log or the record');
  t.notOk(text.includes(Buffer.from(`\u0000larder\u0000${wrong}`).toString('base64')), 'nor its AUTH PLAIN encoding');
});

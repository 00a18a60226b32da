/** ntfy: the message body as text, with Title, Priority and Tags headers (https://docs.ntfy.sh/publish/). */
import type { NtfyConfig } from '../config.js';
import { authHeader, authSecrets, httpPost } from '../http.js';
import { body, title, type NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

/** ntfy turns messages over 4096 bytes into attachments; stay under. */
const MAX_MESSAGE = 3900;

/** A header value: ASCII as is, anything else as an RFC 2047 encoded word, which ntfy decodes. */
export function headerValue(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** The headers and body ntfy receives. */
export function ntfyRequest(c: NtfyConfig, n: NotificationData): { headers: Record<string, string>; body: string } {
  const tags = [...c.tags, n.status === 'firing' ? 'rotating_light' : 'white_check_mark'];
  return {
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'user-agent': 'larder',
      title: headerValue(title(n).slice(0, 250)),
      priority: n.status === 'resolved' && c.priority !== 'min' && c.priority !== '1' ? 'default' : c.priority,
      tags: tags.join(','),
      ...(n.externalURL ? { click: n.externalURL } : {}),
      ...authHeader(c.auth),
    },
    body: body(n, MAX_MESSAGE),
  };
}

export function ntfyNotifier(c: NtfyConfig): Notifier {
  const secrets = [c.url, new URL(c.url).pathname, ...authSecrets(c.auth)];
  return {
    integration: 'ntfy',
    sendResolved: c.sendResolved,
    async notify(n) {
      const req = ntfyRequest(c, n);
      await httpPost({ url: c.url, headers: req.headers, body: req.body, timeoutMs: c.timeoutMs, secrets });
    },
  };
}

/** Discord webhooks: one embed, red while firing and green once resolved (Alertmanager's colours). */
import type { DiscordConfig } from '../config.js';
import { httpPost } from '../http.js';
import { body, title, truncate, type NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

const RED = 0x992d22;
const GREEN = 0x2ecc71;

/** The webhook JSON: embed title at most 256 characters, description at most 4096 (Discord's limits). */
export function discordPayload(c: DiscordConfig, n: NotificationData): Record<string, unknown> {
  return {
    ...(c.username ? { username: c.username } : {}),
    embeds: [{ title: truncate(title(n), 256), description: body(n, 4096), color: n.status === 'firing' ? RED : GREEN, ...(n.externalURL ? { url: n.externalURL } : {}) }],
  };
}

export function discordNotifier(c: DiscordConfig): Notifier {
  return {
    integration: 'discord',
    sendResolved: c.sendResolved,
    async notify(n) {
      await httpPost({ url: c.url, headers: { 'content-type': 'application/json', 'user-agent': 'larder' }, body: JSON.stringify(discordPayload(c, n)), timeoutMs: c.timeoutMs, secrets: [c.url] });
    },
  };
}

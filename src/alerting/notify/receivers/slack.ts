/** Slack (and Slack-compatible: Mattermost, Rocket.Chat) incoming webhooks: one attachment per notification. */
import type { SlackConfig } from '../config.js';
import { httpPost } from '../http.js';
import { body, title, truncate, type NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

/** Slack cuts an attachment's text near 8000 characters; stay under it. */
const MAX_TEXT = 7000;

/** The incoming-webhook JSON for a notification. */
export function slackPayload(c: SlackConfig, n: NotificationData): Record<string, unknown> {
  const t = truncate(title(n), 1024);
  return {
    ...(c.channel ? { channel: c.channel } : {}),
    ...(c.username ? { username: c.username } : {}),
    ...(c.iconEmoji ? { icon_emoji: c.iconEmoji } : {}),
    text: t,
    attachments: [{
      color: n.status === 'firing' ? 'danger' : 'good',
      title: t,
      ...(n.externalURL ? { title_link: n.externalURL } : {}),
      text: body(n, MAX_TEXT),
      fallback: t,
      mrkdwn_in: ['text'],
    }],
  };
}

export function slackNotifier(c: SlackConfig): Notifier {
  return {
    integration: 'slack',
    sendResolved: c.sendResolved,
    async notify(n) {
      await httpPost({ url: c.url, headers: { 'content-type': 'application/json', 'user-agent': 'larder' }, body: JSON.stringify(slackPayload(c, n)), timeoutMs: c.timeoutMs, secrets: [c.url] });
    },
  };
}

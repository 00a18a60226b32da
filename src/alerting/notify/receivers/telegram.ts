/** Telegram's Bot API `sendMessage`, plain text (no parse_mode, so label values need no escaping). */
import type { TelegramConfig } from '../config.js';
import { httpPost } from '../http.js';
import { body, title, type NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

/** Telegram refuses messages over 4096 characters. */
const MAX_MESSAGE = 4096;

/** The sendMessage JSON. */
export function telegramPayload(c: TelegramConfig, n: NotificationData): Record<string, unknown> {
  const head = title(n);
  return {
    chat_id: c.chatId,
    text: `${head}\n\n${body(n, MAX_MESSAGE - head.length - 2)}`.slice(0, MAX_MESSAGE),
    disable_notification: c.disableNotifications,
    ...(c.messageThreadId !== undefined ? { message_thread_id: c.messageThreadId } : {}),
  };
}

export function telegramNotifier(c: TelegramConfig): Notifier {
  const url = `${c.apiUrl}/bot${c.botToken}/sendMessage`;
  return {
    integration: 'telegram',
    sendResolved: c.sendResolved,
    async notify(n) {
      await httpPost({ url, headers: { 'content-type': 'application/json', 'user-agent': 'larder' }, body: JSON.stringify(telegramPayload(c, n)), timeoutMs: c.timeoutMs, secrets: [c.botToken, url] });
    },
  };
}

/** The generic webhook: Alertmanager's webhook payload (version 4) as JSON. */
import type { WebhookConfig } from '../config.js';
import { authHeader, authSecrets, httpPost } from '../http.js';
import type { NotificationData } from '../message.js';
import type { Notifier } from './notifier.js';

/** Keeps the first `max` alerts and counts the rest in truncatedAlerts, as Alertmanager does. */
export function truncateAlerts(n: NotificationData, max: number): NotificationData {
  if (n.alerts.length <= max) return n;
  return { ...n, alerts: n.alerts.slice(0, max), truncatedAlerts: n.truncatedAlerts + n.alerts.length - max };
}

export function webhookNotifier(c: WebhookConfig): Notifier {
  const secrets = [c.url, ...authSecrets(c.auth)];
  return {
    integration: 'webhook',
    sendResolved: c.sendResolved,
    async notify(n) {
      await httpPost({ url: c.url, headers: { 'content-type': 'application/json', 'user-agent': 'larder', ...authHeader(c.auth) }, body: JSON.stringify(truncateAlerts(n, c.maxAlerts)), timeoutMs: c.timeoutMs, secrets });
    },
  };
}

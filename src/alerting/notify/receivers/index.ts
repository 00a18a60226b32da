/** Builds the notifier for one configured integration. */
import type { IntegrationConfig } from '../config.js';
import { discordNotifier } from './discord.js';
import { emailNotifier } from './email.js';
import type { Notifier } from './notifier.js';
import { ntfyNotifier } from './ntfy.js';
import { slackNotifier } from './slack.js';
import { telegramNotifier } from './telegram.js';
import { webhookNotifier } from './webhook.js';

export function createNotifier(c: IntegrationConfig): Notifier {
  switch (c.kind) {
    case 'webhook': return webhookNotifier(c);
    case 'slack': return slackNotifier(c);
    case 'discord': return discordNotifier(c);
    case 'telegram': return telegramNotifier(c);
    case 'ntfy': return ntfyNotifier(c);
    case 'email': return emailNotifier(c);
  }
}

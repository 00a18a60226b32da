/** What every integration (webhook, Slack, …) implements: one delivery attempt of one notification. */
import type { NotificationData } from '../message.js';

export interface Notifier {
  /** `webhook`, `slack`, `email`, `telegram`, `discord` or `ntfy`. */
  readonly integration: string;
  /** Whether resolved alerts are sent. */
  readonly sendResolved: boolean;
  /** Sends once; throws a DeliveryError (message free of secrets) on failure. */
  notify(n: NotificationData): Promise<void>;
}

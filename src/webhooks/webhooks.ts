import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebhookConfig } from '../config/config.ts';
import { type AllowList, parseAllowList } from './allow-list.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { DeliveryStore } from './delivery-store.ts';
import { EndpointStore } from './endpoint-store.ts';

/** Everything webhooks need, for the gateway (register, history, redeliver) and the worker (dispatch, send). */
export interface Webhooks {
  endpoints: EndpointStore;
  deliveries: DeliveryStore;
  queue: DeliveryQueue;
  allowList: AllowList;
  config: WebhookConfig;
  close(): Promise<void>;
}

export function createWebhooks(redis: Redis, connection: ConnectionOptions, prefix: string, config: WebhookConfig): Webhooks {
  const queue = new DeliveryQueue(connection, prefix, { maxAttempts: config.maxAttempts, backoffMs: config.backoffMs });
  return {
    endpoints: new EndpointStore(redis, prefix),
    deliveries: new DeliveryStore(redis, { prefix, historyLength: config.historyLength, ttlSeconds: config.historyTtlSeconds }),
    queue,
    allowList: parseAllowList(config.allowedHosts),
    config,
    close: () => queue.close(),
  };
}

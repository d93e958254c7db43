import { hostname } from 'node:os';
import { HostGroupStore } from '../src/auth/host-group-store.ts';
import { loadConfig } from '../src/config/config.ts';
import { JobStore } from '../src/jobs/job-store.ts';
import { createLogger } from '../src/log/logger.ts';
import { answerScrapes } from '../src/metrics/child-process.ts';
import { listenForScrapes } from '../src/metrics/listener.ts';
import { collectProcessMetrics } from '../src/metrics/registry.ts';
import { webhookRegistry } from '../src/metrics/webhooks.ts';
import { connectRedis } from '../src/redis/connect.ts';
import { createWebhooks } from '../src/webhooks/webhooks.ts';
import { startDeliveryWorker } from './webhook-delivery.ts';
import { startWebhookDispatcher } from './webhook-dispatcher.ts';
import { sweepFailedBatches } from './webhook-sweeper.ts';

/*
 * The webhook process: the dispatcher (fleet event log → delivery jobs) and the delivery worker
 * (POSTs), and nothing else. workers/main.ts starts one as its child, at a lower CPU priority,
 * so fanning events out to many endpoints never competes with change jobs for the worker's
 * event loop and yields the CPU to them; it can also run on its own (`node workers/webhook-process.ts`).
 * Started by a worker, it ends with it: when the worker goes (the IPC channel closes), so does it.
 */

const SWEEP_EVERY_MS = 30_000;
const config = loadConfig();
const logger = createLogger('trunkline-webhooks', config.logLevel);
const redis = connectRedis(config.redisUrl, 'trunkline-webhooks-store');
const store = new JobStore(redis, { prefix: config.prefix, ttlSeconds: config.jobTtlSeconds });
const webhooks = createWebhooks(redis, { url: config.redisUrl, maxRetriesPerRequest: null }, config.prefix, config.webhooks);
const consumer = `${hostname()}:${process.pid}`;
const hostGroups = new HostGroupStore(redis, config.prefix);
const dispatcher = startWebhookDispatcher({
  redisUrl: config.redisUrl,
  prefix: config.prefix,
  store,
  webhooks,
  hostGroups,
  logger,
  consumer,
});
const deliveryWorker = startDeliveryWorker({ redisUrl: config.redisUrl, prefix: config.prefix, webhooks, logger, name: consumer });

// Metrics: a worker's child answers its worker's scrapes (no process metrics: the worker's has
// those names); on its own it serves them itself, when given a port (docs/metrics.md).
const isChild = typeof process.send === 'function';
if (isChild) answerScrapes(webhookRegistry);
else collectProcessMetrics(webhookRegistry);
const metricsListener = isChild
  ? null
  : await listenForScrapes({
      host: config.metrics.host,
      port: config.metrics.webhookPort,
      logger,
      render: () => webhookRegistry.metrics(),
    });

// Deliveries of a batch that failed for good are queued again (webhook-sweeper.ts).
const sweeper = setInterval(() => {
  sweepFailedBatches({ webhooks, logger }).catch((err: Error) =>
    logger.warn({ err: err.message }, 'webhook sweep failed; tried again next time'),
  );
}, SWEEP_EVERY_MS);
sweeper.unref();

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ why }, 'webhook process stopping');
  clearInterval(sweeper);
  // A delivery in flight finishes (or times out); BullMQ re-queues one left stalled.
  await Promise.allSettled([dispatcher.close(), deliveryWorker.close(), metricsListener?.close()]);
  await webhooks.close().catch(() => {});
  await redis.quit().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('disconnect', () => void shutdown('the worker that started it is gone'));

await Promise.all([dispatcher.ready, deliveryWorker.waitUntilReady()]);
logger.info(
  { consumer, concurrency: config.webhooks.concurrency, timeoutMs: config.webhooks.timeoutMs, allowedHosts: config.webhooks.allowedHosts },
  'webhooks ready',
);
process.send?.({ ready: true });

import { DelayedError, type Job, Worker } from 'bullmq';
import { ErrorCode } from '../src/errors/codes.ts';
import type { Logger } from '../src/log/logger.ts';
import { type DeliveryJobData, REDELIVER, retryDelayMs, WEBHOOK_QUEUE } from '../src/webhooks/delivery-queue.ts';
import { type AttemptResult, postWebhook } from '../src/webhooks/send.ts';
import { deliveryHeaders } from '../src/webhooks/signature.ts';
import type { DeliveryStatus } from '../src/webhooks/types.ts';
import type { Webhooks } from '../src/webhooks/webhooks.ts';

/*
 * The delivery worker: BullMQ jobs of the webhook queue, one per (event, endpoint). Each attempt
 * signs the stored body anew (a fresh webhook-timestamp, the same webhook-id), POSTs it within
 * TRUNKLINE_WEBHOOK_TIMEOUT_MS and records the attempt; a 2xx ends the delivery, anything else
 * throws, and BullMQ retries it with exponential backoff until TRUNKLINE_WEBHOOK_MAX_ATTEMPTS.
 * Its own queue, connections and concurrency: deliveries never take a change job's slot. One
 * endpoint holds at most TRUNKLINE_WEBHOOK_ENDPOINT_CONCURRENCY of this process's slots; more of
 * its deliveries step aside for a moment (moved to delayed, not counted as an attempt), so one
 * that hangs until every timeout cannot starve the others.
 */

/** How long a delivery steps aside when its endpoint already has its share of slots. */
const STEP_ASIDE_MS = 250;

export class DeliveryFailed extends Error {}

export interface DeliveryWorkerDeps {
  redisUrl: string;
  prefix: string;
  webhooks: Webhooks;
  logger: Logger;
  /** The process's name in BullMQ (processedBy). */
  name: string;
}

export function startDeliveryWorker(deps: DeliveryWorkerDeps): Worker<DeliveryJobData> {
  const { webhooks } = deps;
  const { config } = webhooks;
  const log = deps.logger.child({ component: 'webhook-delivery' });
  const inFlight = new Map<string, number>();

  async function attempt(job: Job<DeliveryJobData>, token: string | undefined): Promise<unknown> {
    const { deliveryId, endpointId } = job.data;
    const endpoint = await webhooks.endpoints.get(endpointId);
    // Deleted: its history went with it.
    if (!endpoint) return { skipped: 'endpoint deleted' };
    if (!endpoint.enabled) {
      await webhooks.deliveries.settle(deliveryId, 'FAILED', {
        code: ErrorCode.WEBHOOK_ENDPOINT_DISABLED,
        message: 'the endpoint was disabled before this delivery was sent',
      });
      return { skipped: 'endpoint disabled' };
    }
    const busy = inFlight.get(endpointId) ?? 0;
    if (busy >= config.endpointConcurrency) {
      await job.moveToDelayed(Date.now() + STEP_ASIDE_MS + Math.floor(Math.random() * STEP_ASIDE_MS), token);
      throw new DelayedError();
    }
    const body = await webhooks.deliveries.body(deliveryId);
    if (body === null) return { skipped: 'delivery expired' };
    inFlight.set(endpointId, busy + 1);
    const at = new Date();
    let result: AttemptResult;
    try {
      result = await postWebhook({
        url: endpoint.url,
        headers: deliveryHeaders(endpoint.secret, deliveryId, Math.floor(at.getTime() / 1000), body),
        body,
        timeoutMs: config.timeoutMs,
        allowList: webhooks.allowList,
      });
    } finally {
      const left = (inFlight.get(endpointId) ?? 1) - 1;
      if (left > 0) inFlight.set(endpointId, left);
      else inFlight.delete(endpointId);
    }
    const failedBefore = job.attemptsMade;
    const last = failedBefore + 1 >= (job.opts.attempts ?? 1);
    const status: DeliveryStatus = result.error === null ? 'SUCCEEDED' : last ? 'FAILED' : 'PENDING';
    const nextAttemptAt =
      status === 'PENDING'
        ? new Date(
            Date.now() + retryDelayMs({ maxAttempts: config.maxAttempts, backoffMs: config.backoffMs }, failedBefore + 1),
          ).toISOString()
        : null;
    const n = await webhooks.deliveries.recordAttempt(
      deliveryId,
      {
        at: at.toISOString(),
        latencyMs: result.latencyMs,
        responseCode: result.responseCode,
        error: result.error,
        redelivery: job.name === REDELIVER,
      },
      { status, nextAttemptAt },
    );
    const fields = { deliveryId, endpointId, attempt: n, responseCode: result.responseCode, latencyMs: result.latencyMs };
    if (result.error === null) {
      log.debug(fields, 'webhook delivered');
      return { responseCode: result.responseCode };
    }
    if (last) log.warn({ ...fields, error: result.error }, 'webhook delivery failed for good');
    else log.info({ ...fields, error: result.error, nextAttemptAt }, 'webhook delivery failed; will retry');
    // Thrown: BullMQ retries it (backoff) or, after the last attempt, fails the job.
    throw new DeliveryFailed(`${result.error.code}: ${result.error.message}`);
  }

  const worker = new Worker<DeliveryJobData>(WEBHOOK_QUEUE, attempt, {
    connection: { url: deps.redisUrl, maxRetriesPerRequest: null },
    prefix: deps.prefix,
    concurrency: config.concurrency,
    name: deps.name,
    // A lock outlives the longest attempt, so a slow endpoint is not taken for a dead worker.
    lockDuration: Math.max(30_000, 2 * config.timeoutMs),
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'webhook delivery worker error'));
  return worker;
}

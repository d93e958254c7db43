import { DelayedError, type Job, Worker } from 'bullmq';
import { ErrorCode } from '../src/errors/codes.ts';
import type { Logger } from '../src/log/logger.ts';
import { webhookMetrics } from '../src/metrics/webhooks.ts';
import {
  type BatchJobData,
  DELIVER_BATCH,
  type DeliveryJobData,
  REDELIVER,
  retryDelayMs,
  WEBHOOK_QUEUE,
  type WebhookJobData,
} from '../src/webhooks/delivery-queue.ts';
import { EndpointLanes } from '../src/webhooks/endpoint-lanes.ts';
import { jobOfPayload } from '../src/webhooks/payload.ts';
import { type AttemptResult, postWebhook } from '../src/webhooks/send.ts';
import { deliveryHeaders } from '../src/webhooks/signature.ts';
import type { DeliveryStatus, StoredEndpoint } from '../src/webhooks/types.ts';
import type { Webhooks } from '../src/webhooks/webhooks.ts';

/*
 * The delivery worker: the BullMQ jobs of the webhook queue. A batch job makes the first attempt
 * of each of its deliveries (one endpoint's); a delivery job makes the retries of one whose first
 * attempt failed (BullMQ's exponential backoff, until TRUNKLINE_WEBHOOK_MAX_ATTEMPTS) or a manual
 * redeliver. Each attempt signs the stored body anew (a fresh webhook-timestamp, the same
 * webhook-id), POSTs it within TRUNKLINE_WEBHOOK_TIMEOUT_MS and records the attempt.
 * Its own queue, connections and concurrency: deliveries never take a change job's slot. At most
 * TRUNKLINE_WEBHOOK_ENDPOINT_CONCURRENCY POSTs of this process go to one endpoint at a time; a job
 * that finds its endpoint at that limit steps aside for a moment (moved to delayed, not counted
 * as an attempt) rather than hold a slot, so one that hangs until every timeout cannot starve the others.
 */

/** How long a job steps aside when its endpoint already has its share of POSTs in flight. */
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

export function startDeliveryWorker(deps: DeliveryWorkerDeps): Worker<WebhookJobData> {
  const { webhooks } = deps;
  const { config } = webhooks;
  const log = deps.logger.child({ component: 'webhook-delivery' });
  const lanes = new EndpointLanes(config.endpointConcurrency);
  const policy = { maxAttempts: config.maxAttempts, backoffMs: config.backoffMs };

  /** The endpoint a job delivers to, or why the job has nothing to send. */
  async function endpointOf(endpointId: string, deliveryIds: readonly string[]): Promise<StoredEndpoint | { skipped: string }> {
    const endpoint = await webhooks.endpoints.get(endpointId);
    // Deleted: its history went with it.
    if (!endpoint) return { skipped: 'endpoint deleted' };
    if (!endpoint.enabled) {
      const error = { code: ErrorCode.WEBHOOK_ENDPOINT_DISABLED, message: 'the endpoint was disabled before this delivery was sent' };
      await Promise.all(deliveryIds.map((id) => webhooks.deliveries.settle(id, 'FAILED', error)));
      return { skipped: 'endpoint disabled' };
    }
    return endpoint;
  }

  /** Steps aside (throws DelayedError) when the endpoint has its share of POSTs in flight. */
  async function stepAsideIfBusy(job: Job<WebhookJobData>, endpointId: string, token: string | undefined): Promise<void> {
    if (lanes.inFlight(endpointId) < lanes.limit) return;
    await job.moveToDelayed(Date.now() + STEP_ASIDE_MS + Math.floor(Math.random() * STEP_ASIDE_MS), token);
    throw new DelayedError();
  }

  /** Signs and POSTs one delivery holding one of the endpoint's lanes. */
  async function send(endpoint: StoredEndpoint, deliveryId: string, body: string): Promise<{ at: Date; result: AttemptResult }> {
    return lanes.with(endpoint.id, async () => {
      const at = new Date();
      const result = await postWebhook({
        url: endpoint.url,
        headers: deliveryHeaders(endpoint.secret, deliveryId, Math.floor(at.getTime() / 1000), body),
        body,
        timeoutMs: config.timeoutMs,
        allowList: webhooks.allowList,
      });
      return { at, result };
    });
  }

  /**
   * Records an attempt and the delivery's status after it: SUCCEEDED on a 2xx, else PENDING
   * (`failedBefore + 1` failed so far: when the next comes) or, when it was the last, FAILED.
   */
  async function record(
    endpointId: string,
    deliveryId: string,
    body: string,
    sent: { at: Date; result: AttemptResult },
    o: { failedBefore: number; last: boolean; redelivery: boolean },
  ): Promise<void> {
    const { at, result } = sent;
    const status: DeliveryStatus = result.error === null ? 'SUCCEEDED' : o.last ? 'FAILED' : 'PENDING';
    const nextAttemptAt = status === 'PENDING' ? new Date(Date.now() + retryDelayMs(policy, o.failedBefore + 1)).toISOString() : null;
    const n = await webhooks.deliveries.recordAttempt(
      deliveryId,
      {
        at: at.toISOString(),
        latencyMs: result.latencyMs,
        responseCode: result.responseCode,
        error: result.error,
        redelivery: o.redelivery,
      },
      { status, nextAttemptAt },
    );
    webhookMetrics.attempts.inc({ outcome: status === 'SUCCEEDED' ? 'delivered' : status === 'FAILED' ? 'failed' : 'retrying' });
    webhookMetrics.attemptSeconds.observe(result.latencyMs / 1000);
    const fields = {
      ...jobOfPayload(body),
      deliveryId,
      endpointId,
      attempt: n,
      responseCode: result.responseCode,
      latencyMs: result.latencyMs,
    };
    if (result.error === null) log.debug(fields, 'webhook delivered');
    else if (o.last) log.warn({ ...fields, error: result.error }, 'webhook delivery failed for good');
    else log.info({ ...fields, error: result.error, nextAttemptAt }, 'webhook delivery failed; will retry');
  }

  /** First attempts of a batch's deliveries, up to the endpoint's lanes at once; the failed ones get a retry job each. */
  async function deliverBatch(job: Job<BatchJobData>, token: string | undefined): Promise<unknown> {
    const { endpointId, deliveryIds } = job.data;
    const endpoint = await endpointOf(endpointId, deliveryIds);
    if ('skipped' in endpoint) return endpoint;
    await stepAsideIfBusy(job, endpointId, token);
    const bodies = await webhooks.deliveries.claim(deliveryIds, job.id!);
    const mine = deliveryIds.flatMap((id, i) => (bodies[i] == null ? [] : [{ id, body: bodies[i]! }]));
    const last = config.maxAttempts <= 1;
    // Each delivery waits for a lane of its own: at most the endpoint's share in flight. A failed
    // one's retry job is queued before its attempt is recorded: should the recording fail, the
    // batch runs again and resends what has no attempt recorded, and the retry exists either way.
    const outcomes = await Promise.allSettled(
      mine.map(async ({ id, body }) => {
        const sent = await send(endpoint, id, body);
        const failed = sent.result.error !== null;
        if (failed && !last) await webhooks.queue.enqueueRetries([{ deliveryId: id, endpointId }]);
        await record(endpointId, id, body, sent, { failedBefore: 0, last, redelivery: false });
        return failed;
      }),
    );
    const error = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (error) throw error.reason;
    const failed = outcomes.filter((o) => o.status === 'fulfilled' && o.value).length;
    return { sent: mine.length, failed, skipped: deliveryIds.length - mine.length };
  }

  /** One attempt of one delivery: a retry (thrown on failure, so BullMQ backs off and tries again) or a redeliver. */
  async function deliverOne(job: Job<DeliveryJobData>, token: string | undefined): Promise<unknown> {
    const { deliveryId, endpointId } = job.data;
    const endpoint = await endpointOf(endpointId, [deliveryId]);
    if ('skipped' in endpoint) return endpoint;
    await stepAsideIfBusy(job, endpointId, token);
    const body = await webhooks.deliveries.body(deliveryId);
    if (body === null) return { skipped: 'delivery expired' };
    const sent = await send(endpoint, deliveryId, body);
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await record(endpointId, deliveryId, body, sent, {
      failedBefore: (job.data.priorAttempts ?? 0) + job.attemptsMade,
      last,
      redelivery: job.name === REDELIVER,
    });
    const { error, responseCode } = sent.result;
    if (error === null) return { responseCode };
    // Thrown: BullMQ retries it (backoff) or, after the last attempt, fails the job.
    throw new DeliveryFailed(`${error.code}: ${error.message}`);
  }

  const worker = new Worker<WebhookJobData>(
    WEBHOOK_QUEUE,
    (job, token) =>
      job.name === DELIVER_BATCH ? deliverBatch(job as Job<BatchJobData>, token) : deliverOne(job as Job<DeliveryJobData>, token),
    {
      connection: { url: deps.redisUrl, maxRetriesPerRequest: null },
      prefix: deps.prefix,
      concurrency: config.concurrency,
      name: deps.name,
      // A lock outlives the longest attempt, so a slow endpoint is not taken for a dead worker
      // (BullMQ renews it while a batch runs).
      lockDuration: Math.max(30_000, 2 * config.timeoutMs),
    },
  );
  worker.on('error', (err) => log.error({ err: err.message }, 'webhook delivery worker error'));
  return worker;
}

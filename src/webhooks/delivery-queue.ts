import { createHash } from 'node:crypto';
import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';

/*
 * The BullMQ queue of webhook deliveries: its own queue (`<prefix>:webhooks:*` in Redis), so a
 * slow or dead endpoint only ever fills this one, never the change queue. First attempts go in
 * batches: one BullMQ job per (endpoint, dispatch) carrying up to MAX_BATCH deliveries, each
 * still its own signed POST and attempt record; a BullMQ job costs three Lua scripts and several
 * writes, more than the delivery itself, and ten endpoints made ten of them per job event. A
 * delivery whose first attempt failed gets a job of its own, which BullMQ retries with
 * exponential backoff. A batch's id is made of its delivery ids, so a stream entry dispatched
 * twice adds no second batch of the same deliveries; a delivery is sent by the one batch that
 * claims it (delivery-store.ts), whatever batches name it. Finished jobs are removed at once (the
 * history is the records'); the last failed ones are kept for a look with BullMQ tools.
 */

export const WEBHOOK_QUEUE = 'webhooks';
/** BullMQ job names: first attempts of some deliveries to one endpoint; the automatic retries of one; a manual redeliver (one attempt). */
export const DELIVER_BATCH = 'deliver-batch';
export const DELIVER = 'deliver';
export const REDELIVER = 'redeliver';
/** Deliveries in one batch job at most: a batch holds one of a process's delivery slots while it runs. */
export const MAX_BATCH = 50;
/** Runs of a batch job: again after an error of its own (Redis); its deliveries' POSTs are not retried in it. */
const BATCH_RUNS = 3;

/** First attempts of deliveries to one endpoint. */
export interface BatchJobData {
  endpointId: string;
  deliveryIds: string[];
}

/** Attempts of one delivery: its automatic retries, or a manual redeliver. */
export interface DeliveryJobData {
  deliveryId: string;
  endpointId: string;
  /** Failed attempts before this job's first (1 for a retry job: the batch made the first). */
  priorAttempts?: number;
}

export type WebhookJobData = BatchJobData | DeliveryJobData;

export interface RetryPolicy {
  /** Attempts of an automatic delivery, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; each further one doubles it (BullMQ's exponential backoff). */
  backoffMs: number;
}

/** When a delivery is retried after `failedAttempts` failed attempts: delay × 2^(failed-1). */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number): number {
  return Math.round(2 ** (failedAttempts - 1) * policy.backoffMs);
}

/**
 * A batch's job id: the same deliveries make the same id (BullMQ adds a job whose id exists no
 * second time). `again` names a new batch of deliveries an earlier one failed to send (the sweep).
 */
export function batchJobId(deliveryIds: readonly string[], again?: string): string {
  const names = again ? [...deliveryIds, `again:${again}`] : deliveryIds;
  return `batch_${createHash('sha256').update(names.join(',')).digest('hex').slice(0, 32)}`;
}

/** Splits deliveries into batches of at most `max`, keeping their order. */
export function batchesOf(endpointId: string, deliveryIds: readonly string[], max = MAX_BATCH): BatchJobData[] {
  const out: BatchJobData[] = [];
  for (let i = 0; i < deliveryIds.length; i += max) out.push({ endpointId, deliveryIds: deliveryIds.slice(i, i + max) });
  return out;
}

export class DeliveryQueue {
  readonly queue: Queue<WebhookJobData>;
  private readonly policy: RetryPolicy;

  constructor(connection: ConnectionOptions, prefix: string, policy: RetryPolicy) {
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix });
    this.policy = policy;
  }

  private options(jobId: string, attempts: number, backoffMs: number): JobsOptions {
    return {
      jobId,
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }

  /** Queues the first attempts of deliveries, in batches per endpoint (`again`: see batchJobId). */
  async enqueueBatches(batches: readonly BatchJobData[], again?: string): Promise<void> {
    if (batches.length === 0) return;
    await this.queue.addBulk(
      batches.map((data) => ({ name: DELIVER_BATCH, data, opts: this.options(batchJobId(data.deliveryIds, again), BATCH_RUNS, 1000) })),
    );
  }

  /**
   * Queues the retries of deliveries whose first attempt failed: the second attempt after
   * retryDelayMs(1), and BullMQ's backoff from there (twice the base, doubling), so the gaps are
   * base × 1, 2, 4, … as if BullMQ had made every attempt.
   */
  async enqueueRetries(deliveries: readonly { deliveryId: string; endpointId: string }[]): Promise<void> {
    if (deliveries.length === 0 || this.policy.maxAttempts < 2) return;
    await this.queue.addBulk(
      deliveries.map(({ deliveryId, endpointId }) => ({
        name: DELIVER,
        data: { deliveryId, endpointId, priorAttempts: 1 },
        opts: {
          ...this.options(deliveryId, this.policy.maxAttempts - 1, 2 * this.policy.backoffMs),
          delay: retryDelayMs(this.policy, 1),
        },
      })),
    );
  }

  /** Queues a manual redeliver: one attempt, now. `n` numbers the redelivers of one delivery. */
  async redeliver(data: DeliveryJobData, n: number): Promise<void> {
    await this.queue.add(REDELIVER, data, this.options(`${data.deliveryId}.r${n}`, 1, this.policy.backoffMs));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

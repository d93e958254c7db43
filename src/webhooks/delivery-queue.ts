import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/*
 * The BullMQ queue of webhook deliveries: its own queue (`<prefix>:webhooks:*` in Redis), so a
 * slow or dead endpoint only ever fills this one, never the change queue. One BullMQ job per
 * (event, endpoint), its id the delivery id: a stream entry dispatched twice (a dispatcher that
 * died before XACK) adds nothing while the first job exists, and the delivery record (which
 * outlives the job) says whether it was sent at all. Finished jobs are removed at once (the
 * history is the records'); the last failed ones are kept for a look with BullMQ tools.
 */

export const WEBHOOK_QUEUE = 'webhooks';
/** BullMQ job name of a delivery (automatic retries) and of a manual redeliver (one attempt). */
export const DELIVER = 'deliver';
export const REDELIVER = 'redeliver';

export interface DeliveryJobData {
  deliveryId: string;
  endpointId: string;
}

export interface RetryPolicy {
  /** Attempts of an automatic delivery, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; each further one doubles it (BullMQ's exponential backoff). */
  backoffMs: number;
}

/** When BullMQ retries after `failedAttempts` failed attempts: delay × 2^(failed-1), as its exponential backoff computes. */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number): number {
  return Math.round(2 ** (failedAttempts - 1) * policy.backoffMs);
}

export class DeliveryQueue {
  readonly queue: Queue<DeliveryJobData>;
  private readonly policy: RetryPolicy;

  constructor(connection: ConnectionOptions, prefix: string, policy: RetryPolicy) {
    this.queue = new Queue<DeliveryJobData>(WEBHOOK_QUEUE, { connection, prefix });
    this.policy = policy;
  }

  private options(jobId: string, attempts: number): JobsOptions {
    return {
      jobId,
      attempts,
      backoff: { type: 'exponential', delay: this.policy.backoffMs },
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    };
  }

  /** Queues deliveries; one already queued (same delivery id) is not queued again. */
  async enqueue(deliveries: readonly DeliveryJobData[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.queue.addBulk(
      deliveries.map((data) => ({ name: DELIVER, data, opts: this.options(data.deliveryId, this.policy.maxAttempts) })),
    );
  }

  /** Queues a manual redeliver: one attempt, now. `n` numbers the redelivers of one delivery. */
  async redeliver(data: DeliveryJobData, n: number): Promise<void> {
    await this.queue.add(REDELIVER, data, this.options(`${data.deliveryId}.r${n}`, 1));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

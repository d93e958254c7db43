import { batchesOf, type BatchJobData, DELIVER_BATCH } from '../src/webhooks/delivery-queue.ts';
import type { Webhooks } from '../src/webhooks/webhooks.ts';
import type { Logger } from '../src/log/logger.ts';

/*
 * A first-attempt batch that fails for good (each of its runs ended by an error of its own, e.g.
 * Redis refusing writes) leaves its deliveries PENDING, claimed by it, with no job that will ever
 * send them. The sweep finds such batches among BullMQ's failed jobs, gives their claims up and
 * queues the deliveries again in new batches (ids of their own, so a second sweeper adds nothing
 * more), then removes the failed job. Deliveries attempted meanwhile are left alone.
 */

/** Failed batch jobs looked at per sweep (the oldest first). */
const PER_SWEEP = 200;

/** One sweep; returns how many deliveries were queued again. */
export async function sweepFailedBatches(deps: { webhooks: Pick<Webhooks, 'queue' | 'deliveries'>; logger: Logger }): Promise<number> {
  const { queue, deliveries } = deps.webhooks;
  let requeued = 0;
  for (const job of await queue.queue.getFailed(0, PER_SWEEP - 1)) {
    if (job.name !== DELIVER_BATCH || !job.id) continue;
    const { endpointId, deliveryIds } = job.data as BatchJobData;
    const left = await deliveries.unattempted(deliveryIds);
    // A claim of another batch means that batch sends it; unclaimed or ours: queued again.
    const again = left.filter((d) => d.claim === null || d.claim === job.id).map((d) => d.id);
    for (const id of again) await deliveries.releaseClaim(id, job.id);
    await queue.enqueueBatches(batchesOf(endpointId, again), job.id);
    await job.remove().catch(() => {}); // another sweeper removed it first
    if (again.length)
      deps.logger.warn(
        { batch: job.id, endpointId, deliveries: again.length, reason: job.failedReason },
        'webhook batch failed for good: its deliveries are queued again',
      );
    requeued += again.length;
  }
  return requeued;
}

import { randomBytes } from 'node:crypto';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log/logger.ts';
import { DELIVER_BATCH, WEBHOOK_QUEUE, type BatchJobData } from '../../src/webhooks/delivery-queue.ts';
import { createWebhooks, type Webhooks } from '../../src/webhooks/webhooks.ts';
import { sweepFailedBatches } from '../../workers/webhook-sweeper.ts';

/*
 * A webhook batch that fails for good (issue 13's gap, found by the chaos suite's fault kinds:
 * every run of it ended by a Redis error) must not leave its deliveries PENDING forever: the
 * sweep gives the batch's claims up and queues the unattempted ones again, once.
 */
const redisUrl = inject('redisUrl');
const prefix = `tl-test-${randomBytes(4).toString('hex')}`;
const endpointId = 'ep1';
let redis: Redis;
let webhooks: Webhooks;

const delivery = (id: string) => ({
  id,
  endpointId,
  sequence: `${Date.now()}-0`,
  jobId: 'job-1',
  jobEventType: 'SUCCEEDED' as const,
  type: 'job.succeeded' as const,
  body: '{"type":"job.succeeded"}',
});

beforeAll(() => {
  redis = new Redis(redisUrl);
  webhooks = createWebhooks(redis, { url: redisUrl, maxRetriesPerRequest: null }, prefix, loadConfig({}).webhooks);
});

afterAll(async () => {
  await webhooks.queue.queue.obliterate({ force: true }).catch(() => {});
  await webhooks.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('the webhook sweep', () => {
  it('re-queues the unattempted deliveries of a batch that failed for good, once; attempted ones and other batches’ claims are left alone', async () => {
    const { deliveries, queue } = webhooks;
    for (const id of ['d1', 'd2', 'd3', 'd4']) await deliveries.create(delivery(id));
    // d2 was attempted before the batch died; d3 belongs to another batch, which will send it.
    await deliveries.recordAttempt(
      'd2',
      { at: new Date().toISOString(), latencyMs: 5, responseCode: 200, error: null, redelivery: false },
      { status: 'SUCCEEDED', nextAttemptAt: null },
    );
    await deliveries.claim(['d3'], 'batch_other');
    const batch: BatchJobData = { endpointId, deliveryIds: ['d1', 'd2', 'd3', 'd4'] };
    await queue.queue.add(DELIVER_BATCH, batch, { jobId: 'batch_dead', attempts: 1 });
    // The batch claims what it may send, then fails (as when Redis refused its records).
    const failing = new Worker<BatchJobData>(
      WEBHOOK_QUEUE,
      async (job: Job<BatchJobData>) => {
        await deliveries.claim(job.data.deliveryIds, job.id!);
        throw new Error("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk");
      },
      { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix },
    );
    const failed = new Promise<void>((r) => failing.once('failed', () => r()));
    await failed;
    await failing.close();
    expect(await redis.hget(`${prefix}:webhook:delivery:d1`, 'claim')).toBe('batch_dead');

    const logger = createLogger('test', 'silent');
    expect(await sweepFailedBatches({ webhooks, logger })).toBe(2);
    expect(await redis.hget(`${prefix}:webhook:delivery:d1`, 'claim')).toBeNull();
    expect(await redis.hget(`${prefix}:webhook:delivery:d3`, 'claim')).toBe('batch_other');
    const waiting = await queue.queue.getWaiting();
    expect(waiting.map((j) => [j.name, j.data])).toEqual([[DELIVER_BATCH, { endpointId, deliveryIds: ['d1', 'd4'] }]]);
    expect(await queue.queue.getFailedCount()).toBe(0);
    // A second sweep (another webhook process) finds nothing more to do.
    expect(await sweepFailedBatches({ webhooks, logger })).toBe(0);
    expect(await queue.queue.getWaitingCount()).toBe(1);
  });
});

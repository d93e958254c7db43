import type { Queue } from 'bullmq';
import { ErrorCode } from '../src/errors/codes.ts';
import type { ChangeJobData } from '../src/jobs/change-queue.ts';
import { takesTurns, type HostOrder } from '../src/jobs/host-order.ts';
import { jobLogger } from '../src/jobs/job-log.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { cancelledBeforeStart } from '../src/jobs/host-runs.ts';
import type { Logger } from '../src/log/logger.ts';
import type { Redis } from 'ioredis';
import { ORPHAN_AFTER_MS } from './host-turn.ts';

/*
 * Repairs what a gateway leaves half-written when it dies (or Redis goes away) between writing a
 * job's record and adding its BullMQ job: a record QUEUED forever that no worker will ever run,
 * holding its place on its hosts. Such a job is ended FAILED (QUEUE_UNAVAILABLE, it never ran)
 * and its places released. One sweep at a time across workers (a Redis lock); each sweep
 * covers the records created since the last one, up to ORPHAN_AFTER_MS ago.
 */

const OVERLAP_MS = 10 * 60_000;

export interface SweepDeps {
  redis: Redis;
  prefix: string;
  store: JobStore;
  queue: Queue<ChangeJobData>;
  order: HostOrder;
  logger: Logger;
  /** How far back the first sweep of a deployment looks (the job records' lifetime). */
  ttlSeconds: number;
}

/** One sweep; returns the ids of the jobs it ended. */
export async function sweepOrphans(deps: SweepDeps, now = Date.now()): Promise<string[]> {
  const lock = `${deps.prefix}:sweep:orphans:lock`;
  const mark = `${deps.prefix}:sweep:orphans:upto`;
  if ((await deps.redis.set(lock, '1', 'PX', 30_000, 'NX')) !== 'OK') return [];
  const ended: string[] = [];
  try {
    const upTo = now - ORPHAN_AFTER_MS;
    // Each sweep looks again at the last 10 minutes before the previous one's end: a record whose
    // gateway's clock runs behind (its createdAt is the index's score) is still found.
    const last = await deps.redis.get(mark);
    const from = last ? Number(last) - OVERLAP_MS : now - deps.ttlSeconds * 1000;
    for (const id of await deps.store.idsCreatedBetween(from, upTo)) {
      const state = await deps.store.hostPartState(id, '');
      if (state?.state !== 'QUEUED') continue;
      if (await deps.queue.getJob(id)) continue;
      const job = await deps.store.get(id);
      if (job?.state !== 'QUEUED') continue;
      const message = 'accepted but never queued (its gateway stopped, or Redis failed, between recording and queueing it); nothing ran';
      const error = { code: ErrorCode.QUEUE_UNAVAILABLE, message, step: null };
      const skipped = cancelledBeforeStart(job, message);
      const failed = {
        ...skipped,
        state: 'FAILED' as const,
        error,
        hosts: skipped.hosts.map((h) => ({ ...h, state: 'FAILED' as const, error })),
      };
      await deps.store.record(failed, 'FAILED', message);
      if (takesTurns(job.kind)) await deps.order.release(id, job.hypervisors);
      jobLogger(deps.logger, job).warn({ hosts: job.hypervisors }, 'orphaned job ended: it was never queued');
      ended.push(id);
    }
    await deps.redis.set(mark, String(upTo), 'EX', deps.ttlSeconds);
  } finally {
    await deps.redis.del(lock);
  }
  return ended;
}

import { Queue, type ConnectionOptions } from 'bullmq';

/** The BullMQ queue of change jobs. Only this module and workers/ know BullMQ. */
export const CHANGE_QUEUE = 'changes';

export interface ChangeJobData {
  jobId: string;
}

export function createChangeQueue(connection: ConnectionOptions, prefix: string): Queue<ChangeJobData> {
  return new Queue<ChangeJobData>(CHANGE_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // Host failures are reported, not retried blindly: re-running is the caller's decision.
      attempts: 1,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    },
  });
}

/** Adds a change job; the BullMQ job id is the Trunkline job id, so a duplicate add is a no-op. */
export async function enqueueChange(queue: Queue<ChangeJobData>, kind: string, jobId: string): Promise<void> {
  await queue.add(kind, { jobId }, { jobId });
}

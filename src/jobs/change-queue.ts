import { Queue, type ConnectionOptions } from 'bullmq';

/** The BullMQ queue of change jobs. Only this module and workers/ know BullMQ. */
export const CHANGE_QUEUE = 'changes';

export interface ChangeJobData {
  /** The Trunkline job record this BullMQ job executes; absent for internal jobs (fleet refresh). */
  jobId?: string;
}

/** BullMQ job name of the scheduled refresh of every registered host (no job record). */
export const REFRESH_FLEET = 'refreshFleet';

/** Makes sure exactly one scheduler refreshes the fleet every `seconds` (idempotent; 0 removes it). */
export async function scheduleFleetRefresh(queue: Queue<ChangeJobData>, seconds: number): Promise<void> {
  if (seconds <= 0) {
    await queue.removeJobScheduler(REFRESH_FLEET);
    return;
  }
  await queue.upsertJobScheduler(REFRESH_FLEET, { every: seconds * 1000 }, { name: REFRESH_FLEET, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
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

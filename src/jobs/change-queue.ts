import { FlowProducer, Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { isChangeJobKind, type JobKind } from './job-kinds.ts';

/** The BullMQ queue of change jobs. Only this module and workers/ know BullMQ. */
export const CHANGE_QUEUE = 'changes';

export interface ChangeJobData {
  /** The Trunkline job record this BullMQ job executes; absent for internal jobs (fleet refresh). */
  jobId?: string;
  /** For a host part (HOST_STEPS): the hypervisor whose steps it runs. */
  host?: string;
}

/** BullMQ job name of the scheduled refresh of every registered host (no job record). */
export const REFRESH_FLEET = 'refreshFleet';

/** BullMQ job name of one hypervisor's part of a change job (a child of the job's flow). */
export const HOST_STEPS = 'hostSteps';

/**
 * Change jobs run as a flow, one child per host; the others (job-kinds.ts OTHER_JOB_KINDS) run in
 * one piece on one worker: verifyVlan pings across hosts and needs them all at once,
 * refreshHypervisor only reads.
 */
export function runsPerHost(kind: JobKind): boolean {
  return isChangeJobKind(kind);
}

/** The BullMQ id of a host part: readable in BullMQ tools, unique per job and host (`:` is not allowed). */
export function hostJobId(jobId: string, host: string): string {
  return `${jobId}.${host}`;
}

/** The host a host part's BullMQ job key or id belongs to (inverse of hostJobId). */
export function hostOfChildKey(key: string, jobId: string): string | null {
  const i = key.indexOf(`${jobId}.`);
  return i < 0 ? null : key.slice(i + jobId.length + 1);
}

const JOB_OPTIONS: DefaultJobOptions = {
  // Host failures are reported, not retried blindly: re-running is the caller's decision.
  // A worker that dies is another matter: BullMQ hands its stalled job to another worker.
  attempts: 1,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600, count: 10_000 },
};

/** Makes sure exactly one scheduler refreshes the fleet every `seconds` (idempotent; 0 removes it). */
export async function scheduleFleetRefresh(queue: Queue<ChangeJobData>, seconds: number): Promise<void> {
  if (seconds <= 0) {
    await queue.removeJobScheduler(REFRESH_FLEET);
    return;
  }
  await queue.upsertJobScheduler(
    REFRESH_FLEET,
    { every: seconds * 1000 },
    { name: REFRESH_FLEET, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
}

export function createChangeQueue(connection: ConnectionOptions, prefix: string): Queue<ChangeJobData> {
  return new Queue<ChangeJobData>(CHANGE_QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
}

/**
 * What the gateway needs of BullMQ: add a job, take back one nobody started.
 * A change job is a flow: a parent (the job, named after its kind) and one child per
 * hypervisor (HOST_STEPS), so the hosts of one job spread over every worker process. The
 * parent runs once all children are done and settles the job. A child that fails in BullMQ
 * terms (its workers stopped three times) does not block the parent (ignoreDependencyOnFailure); the
 * parent reports that host as failed.
 */
export class ChangeQueue {
  readonly queue: Queue<ChangeJobData>;
  private readonly flows: FlowProducer;

  constructor(connection: ConnectionOptions, prefix: string) {
    this.queue = createChangeQueue(connection, prefix);
    this.flows = new FlowProducer({ connection, prefix });
  }

  /** Adds the job; its BullMQ id is the Trunkline job id, so adding it twice is a no-op. */
  async add(kind: JobKind, jobId: string, hosts: readonly string[]): Promise<void> {
    if (!runsPerHost(kind)) {
      await this.queue.add(kind, { jobId }, { jobId });
      return;
    }
    await this.flows.add(
      {
        name: kind,
        queueName: CHANGE_QUEUE,
        data: { jobId },
        opts: { jobId },
        children: hosts.map((host) => ({
          name: HOST_STEPS,
          queueName: CHANGE_QUEUE,
          data: { jobId, host },
          opts: { jobId: hostJobId(jobId, host), ignoreDependencyOnFailure: true },
        })),
      },
      { queuesOptions: { [CHANGE_QUEUE]: { defaultJobOptions: JOB_OPTIONS } } },
    );
  }

  /** Removes a job (and its host parts) that no worker has started; false if one has. */
  async removeQueued(jobId: string): Promise<boolean> {
    return (await this.queue.remove(jobId, { removeChildren: true })) === 1;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.flows.close(), this.queue.close()]);
  }
}

import { inputError, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { ChangeQueue } from '../jobs/change-queue.ts';
import type { HostOrder } from '../jobs/host-order.ts';
import { cancelledBeforeStart } from '../jobs/host-runs.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { isTerminal, type JobRecord } from '../jobs/job-types.ts';
import { roleDenials } from '../auth/authorize.ts';
import type { RequestMeta } from './change-request.ts';
import { jobVisible, mayCancel, noJob, type Requester } from './requester.ts';

export interface JobRequestDeps {
  store: JobStore;
  queue: ChangeQueue;
  order: HostOrder;
}

/**
 * Cancels a job. A queued job is removed at once (CANCELLED); a running one is asked to stop
 * before its next step (it stays RUNNING until its worker stops it). An operator cancels its own
 * jobs, an admin any job it can see.
 */
export async function cancelJob(
  deps: JobRequestDeps,
  id: string,
  meta: RequestMeta,
): Promise<{ job: JobRecord | null; userErrors: UserError[] }> {
  const role = roleDenials(meta.caller, 'operator', 'cancelJob');
  if (role.length) return { job: null, userErrors: role };
  const job = await deps.store.get(id);
  if (!job || !jobVisible(await meta.scope(), job)) return { job: null, userErrors: [noJob(meta, id)] };
  if (!mayCancel(meta, job))
    return {
      job: null,
      userErrors: [
        inputError(
          'id',
          ErrorCode.FORBIDDEN,
          `an operator cancels its own jobs only; this one was asked for by ${job.requestedBy ?? 'someone else'}`,
        ),
      ],
    };
  if (isTerminal(job.state)) return { job, userErrors: [inputError('id', ErrorCode.JOB_FINISHED, `the job already ended (${job.state})`)] };
  // Removing works only while no worker holds the job; otherwise the worker is asked to stop.
  const removed = job.state === 'QUEUED' && (await deps.queue.removeQueued(id));
  if (removed) {
    const cancelled = cancelledBeforeStart(job, 'cancelled before it started');
    await deps.store.record(cancelled, 'CANCELLED', `cancelled by ${meta.caller.name} before it started`);
    // Its places in the hosts' order go: the next jobs need not wait for it.
    await deps.order.release(id, job.hypervisors);
    return { job: cancelled, userErrors: [] };
  }
  await deps.store.requestCancel(id);
  return { job: (await deps.store.get(id)) ?? job, userErrors: [] };
}

/**
 * A VLAN's last verification (the verifyVlan job that ended last with a verification of the
 * tag; src/jobs/job-store.ts) as the caller may see it: null when there is none (never verified,
 * or the job expired) and when it touches a host outside the caller's scope, as a job would be.
 */
export async function lastVerification(
  r: Requester & { store: Pick<JobStore, 'lastVerification'> },
  tag: number,
): Promise<JobRecord | null> {
  const job = await r.store.lastVerification(tag);
  return job && jobVisible(await r.scope(), job) ? job : null;
}

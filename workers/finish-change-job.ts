import { ErrorCode } from '../src/errors/codes.ts';
import { endAttempt } from '../src/jobs/host-attempts.ts';
import { jobLogger } from '../src/jobs/job-log.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { isTerminal, type HostRun, type JobRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import { handOver, type TurnDeps } from './host-turn.ts';

/**
 * The parent of a change job's flow: runs once every host part is done and settles the job
 * from what the parts recorded. A part whose worker died for good (BullMQ failed it after the
 * stalled-job retry) never recorded an end: it is reported failed, with BullMQ's reason.
 * Idempotent: a settled job is returned as it is.
 */
export async function finishChangeJob(
  deps: { store: JobStore; logger: Logger; turns: TurnDeps },
  jobId: string,
  /** BullMQ's failure reasons of host parts, by host. */
  partFailures: ReadonlyMap<string, string>,
): Promise<JobRecord> {
  const job = await deps.store.require(jobId);
  // A part BullMQ gave up on never handed its host over: the job's places go now.
  for (const host of job.hypervisors) await handOver(deps.turns, jobId, host);
  if (isTerminal(job.state)) return job;
  const cancelRequested = await deps.store.cancelRequested(jobId);
  const now = new Date().toISOString();
  for (const run of job.hosts) {
    if (isTerminal(run.state)) continue;
    const reason = partFailures.get(run.host);
    if (!reason && cancelRequested && run.state === 'PENDING') {
      Object.assign(run, {
        state: 'CANCELLED',
        finishedAt: now,
        message: `${run.host}: cancelled before it started`,
        attemptLog: endAttempt(run.attemptLog, 'CANCELLED', now),
      } satisfies Partial<HostRun>);
      continue;
    }
    const message = `${run.host}: its worker stopped before the host's part finished${reason ? ` (${reason})` : ''}; the host is as the steps above say`;
    jobLogger(deps.logger, job, run.host).warn({ code: ErrorCode.WORKER_FAILED, err: message }, 'host part failed: its worker stopped');
    Object.assign(run, {
      state: 'FAILED',
      finishedAt: now,
      message,
      error: { code: ErrorCode.WORKER_FAILED, message, step: null },
      // The attempt whose worker died never ended itself.
      attemptLog: endAttempt(run.attemptLog, 'FAILED', now, reason ? `its worker stopped: ${reason}` : 'its worker stopped'),
    } satisfies Partial<HostRun>);
  }
  for (const s of job.steps) if (s.state === 'PENDING' || s.state === 'RUNNING') s.state = 'SKIPPED';
  job.finishedAt = now;

  // The job's end is logged where it is recorded (JobStore events: workers/main.ts).
  const failed = job.hosts.filter((h) => h.state === 'FAILED');
  const changed = job.steps.filter((s) => s.changed).length;
  if (failed.length) {
    const first = failed[0]!.error!;
    job.state = 'FAILED';
    job.error = { code: first.code, message: failed.map((h) => h.error?.message ?? h.message).join(' | '), step: first.step };
    job.progress = { ...job.progress, message: job.error.message };
    await deps.store.record(job, 'FAILED', job.error.message);
  } else if (job.hosts.some((h) => h.state === 'CANCELLED')) {
    job.state = 'CANCELLED';
    const kept = job.steps.filter((s) => s.changed).map((s) => s.index + 1);
    job.progress = {
      ...job.progress,
      message: `cancelled${kept.length ? `; steps ${kept.join(', ')} had been applied and stay` : ' before any change'}`,
    };
    await deps.store.record(job, 'CANCELLED', job.progress.message);
  } else {
    job.state = 'SUCCEEDED';
    job.progress = {
      done: job.steps.length,
      total: job.steps.length,
      message: `done: ${changed} of ${job.steps.length} steps changed something`,
    };
    await deps.store.record(job, 'SUCCEEDED', job.progress.message);
  }
  return job;
}

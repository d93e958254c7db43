import { ErrorCode } from '../errors/codes.ts';
import type { JobRecord } from './job-types.ts';

/*
 * Jobs that run in one piece (verifyVlan, refreshHypervisor) keep `hosts` too, so every job
 * answers "how did each host do" the same way. Change jobs' hosts report for themselves.
 */

/** Every host of a one-piece job starts with it. */
export function startHostRuns(job: JobRecord, now = new Date().toISOString()): void {
  for (const run of job.hosts)
    Object.assign(run, {
      state: 'RUNNING',
      attempts: run.attempts + 1,
      startedAt: run.startedAt ?? now,
      finishedAt: null,
      updatedAt: now,
      message: 'running',
      error: null,
    });
}

/** A host failed if one of its steps did; otherwise it ends as the job does (cancelled or done). */
export function endHostRuns(job: JobRecord, now = new Date().toISOString()): void {
  for (const run of job.hosts) {
    const steps = job.steps.filter((s) => s.host === run.host);
    const failed = steps.find((s) => s.state === 'FAILED');
    const last = [...steps].reverse().find((s) => s.finishedAt);
    Object.assign(run, {
      state: failed ? 'FAILED' : job.state === 'CANCELLED' ? 'CANCELLED' : 'SUCCEEDED',
      finishedAt: now,
      updatedAt: now,
      message: failed
        ? `${failed.description}: ${failed.stderr ?? 'failed'}`
        : last
          ? `${last.description}: ${last.observed ?? 'done'}`
          : job.state.toLowerCase(),
      error: failed ? { code: job.error?.code ?? ErrorCode.COMMAND_FAILED, message: failed.stderr ?? 'failed', step: failed.index } : null,
    });
  }
}

/** The record of a job cancelled before any of its hosts started: every step skipped, every host cancelled. */
export function cancelledBeforeStart(job: JobRecord, message: string, now = new Date().toISOString()): JobRecord {
  return {
    ...job,
    state: 'CANCELLED',
    finishedAt: now,
    steps: job.steps.map((s) => ({ ...s, state: 'SKIPPED' })),
    hosts: job.hosts.map((h) => ({ ...h, state: 'CANCELLED', finishedAt: now, updatedAt: now, message })),
    progress: { ...job.progress, message },
  };
}

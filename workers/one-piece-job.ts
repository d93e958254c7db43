import { describeError } from '../src/errors/codes.ts';
import { isLockLost } from '../src/jobs/host-locks.ts';
import { endHostRuns, startHostRuns } from '../src/jobs/host-runs.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import type { JobError, JobRecord, StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import { noteStepEnd, noteStepFailure } from './step-telemetry.ts';

/*
 * The life of a job that runs in one piece (refreshHypervisor, verifyVlan), as opposed to a
 * change job whose host parts run and report for themselves (run-host-part.ts): start it, run
 * its steps as plain functions, end it with one outcome. Both kinds record the same events.
 */

/** Marks the job RUNNING (another attempt), starts its hosts and records STARTED. */
export async function beginOnePiece(store: JobStore, loaded: JobRecord, message: string): Promise<JobRecord> {
  const job: JobRecord = { ...loaded, state: 'RUNNING', startedAt: new Date().toISOString(), attempts: loaded.attempts + 1 };
  job.progress = { ...job.progress, message };
  startHostRuns(job);
  await store.record(job, 'STARTED', message);
  return job;
}

/**
 * Runs one step: `work` returns what it observed (it may set `step.observed` and then throw,
 * for a read that found the host unreachable). A throw fails the step with its message; the
 * job goes on. Returns whether the step succeeded.
 */
export async function runOnePieceStep(
  store: JobStore,
  job: JobRecord,
  step: StepRecord,
  work: (step: StepRecord) => Promise<string>,
  /** Whether a successful run changed the host (probes made or removed) or only looked. */
  changes: boolean,
  /** Proves the job's host lease still holds before each write (throws LOCK_LOST otherwise). */
  fence: () => Promise<void> = async () => {},
  /** The job's logger (src/jobs/job-log.ts): a failed step is logged with its host. */
  log?: Logger,
): Promise<boolean> {
  Object.assign(step, { state: 'RUNNING', startedAt: new Date().toISOString() });
  await fence();
  await store.record(job, 'STEP_STARTED', step.description, structuredClone(step));
  const started = performance.now();
  try {
    step.observed = await work(step);
    step.state = 'SUCCEEDED';
  } catch (err) {
    // Not the step's failure: this worker may no longer touch the hosts, nor write the job.
    if (isLockLost(err)) throw err;
    const { code, message } = describeError(err);
    step.state = 'FAILED';
    step.stderr = message;
    // These jobs' steps have no probe kind: the job's kind is theirs.
    noteStepFailure(log, job.kind, step, { code, message }, { host: step.host });
  }
  step.changed = step.state === 'SUCCEEDED' && changes;
  step.finishedAt = new Date().toISOString();
  step.durationMs = Math.round(performance.now() - started);
  noteStepEnd(log, job.kind, step, { host: step.host });
  job.progress = {
    done: job.steps.filter((s) => s.finishedAt).length,
    total: job.steps.length,
    message: `${step.description}: ${step.state === 'SUCCEEDED' ? step.observed : step.stderr}`,
  };
  await fence();
  await store.record(job, 'STEP_FINISHED', job.progress.message, structuredClone(step));
  return step.state === 'SUCCEEDED';
}

/** Ends the job: steps that never ran are SKIPPED, hosts end with their steps, the last event says how it went. */
export async function endOnePiece(
  store: JobStore,
  job: JobRecord,
  end: { state: 'SUCCEEDED' | 'CANCELLED'; message: string } | { state: 'FAILED'; error: JobError },
): Promise<JobRecord> {
  for (const s of job.steps) if (s.state === 'PENDING') s.state = 'SKIPPED';
  job.state = end.state;
  job.finishedAt = new Date().toISOString();
  if (end.state === 'FAILED') job.error = end.error;
  endHostRuns(job);
  const message = end.state === 'FAILED' ? end.error.message : end.message;
  job.progress = { ...job.progress, message };
  await store.record(job, end.state, message);
  return job;
}

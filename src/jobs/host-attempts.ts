import type { HostAttempt, HostAttemptOutcome, HostRun } from './job-types.ts';

/*
 * The attempts at one host's part, as `job.hosts[].attempts` reports them. Pure: the worker
 * applies these to the part it is about to record.
 */

/**
 * Opens attempt `run.attempts` (already counted) for `worker`. An attempt still open is one whose
 * worker never came back to end it: killed, or paused or cut off past its claim's lifetime, so
 * BullMQ handed the part to this worker; it is closed as TAKEN_OVER, saying so.
 */
export function beginAttempt(run: HostRun, worker: string, now: string): HostAttempt[] {
  const log = (run.attemptLog ?? []).map((a): HostAttempt => {
    if (a.endedAt !== null) return a;
    const same = a.worker === worker;
    return {
      ...a,
      endedAt: now,
      outcome: 'TAKEN_OVER',
      reason: same
        ? 'this worker restarted the part: the attempt never recorded an end (its worker restarted, or its claim expired and came back here)'
        : `worker ${a.worker} stopped renewing its claim on the part (killed, or paused or cut off from Redis past the lock's lifetime); worker ${worker} took it over`,
    };
  });
  log.push({ number: run.attempts, worker, startedAt: now, endedAt: null, outcome: 'RUNNING', reason: null });
  return log;
}

/** Closes the open attempt with the part's outcome, or with LOCK_LOST and why. */
export function endAttempt(
  log: readonly HostAttempt[] | undefined,
  outcome: Exclude<HostAttemptOutcome, 'RUNNING' | 'TAKEN_OVER'>,
  now: string,
  reason: string | null = null,
): HostAttempt[] {
  return (log ?? []).map((a) => (a.endedAt === null ? { ...a, endedAt: now, outcome, reason } : a));
}

/** The attempts of a run, for records written before they were kept: the count alone, as unknown attempts. */
export function attemptsOf(run: HostRun): HostAttempt[] {
  if (run.attemptLog?.length) return run.attemptLog;
  return Array.from({ length: run.attempts }, (_, i) => ({
    number: i + 1,
    worker: 'unknown',
    startedAt: run.startedAt ?? '',
    endedAt: i + 1 < run.attempts ? null : run.finishedAt,
    outcome: i + 1 < run.attempts ? 'TAKEN_OVER' : run.finishedAt ? (run.state as HostAttemptOutcome) : 'RUNNING',
    reason: null,
  }));
}

import { describe, expect, it } from 'vitest';
import { attemptsOf, beginAttempt, endAttempt } from '../../src/jobs/host-attempts.ts';
import { pendingHostRun } from '../../src/jobs/job-types.ts';

describe('attempts at a host part', () => {
  it('a second attempt by another worker closes the first as TAKEN_OVER, naming both workers', () => {
    const run = { ...pendingHostRun('hv1'), attempts: 1 };
    run.attemptLog = beginAttempt(run, 'a:1', 't1');
    expect(run.attemptLog).toEqual([{ number: 1, worker: 'a:1', startedAt: 't1', endedAt: null, outcome: 'RUNNING', reason: null }]);
    run.attempts = 2;
    run.attemptLog = beginAttempt(run, 'b:2', 't2');
    expect(run.attemptLog.map((a) => [a.number, a.worker, a.outcome, a.endedAt])).toEqual([
      [1, 'a:1', 'TAKEN_OVER', 't2'],
      [2, 'b:2', 'RUNNING', null],
    ]);
    expect(run.attemptLog[0]!.reason).toBe(
      "worker a:1 stopped renewing its claim on the part (killed, or paused or cut off from Redis past the lock's lifetime); worker b:2 took it over",
    );
    run.attemptLog = endAttempt(run.attemptLog, 'SUCCEEDED', 't3');
    expect(run.attemptLog.map((a) => a.outcome)).toEqual(['TAKEN_OVER', 'SUCCEEDED']);
  });

  it('an attempt that lost its lock keeps LOCK_LOST and why; the next one starts after it', () => {
    const run = { ...pendingHostRun('hv1'), attempts: 1 };
    run.attemptLog = endAttempt(beginAttempt(run, 'a:1', 't1'), 'LOCK_LOST', 't2', 'the lock of hv1 was lost');
    run.attempts = 2;
    run.attemptLog = beginAttempt(run, 'a:1', 't3');
    expect(run.attemptLog.map((a) => [a.outcome, a.reason])).toEqual([
      ['LOCK_LOST', 'the lock of hv1 was lost'],
      ['RUNNING', null],
    ]);
  });

  it('records written before attempts were kept report their count', () => {
    const old = { ...pendingHostRun('hv1'), attempts: 2, state: 'SUCCEEDED' as const, startedAt: 't1', finishedAt: 't2' };
    delete old.attemptLog;
    expect(attemptsOf(old).map((a) => [a.number, a.outcome])).toEqual([
      [1, 'TAKEN_OVER'],
      [2, 'SUCCEEDED'],
    ]);
  });
});

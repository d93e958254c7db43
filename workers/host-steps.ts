import { isLockLost } from '../src/jobs/host-locks.ts';
import { applyChanges } from './host-steps/change.ts';
import { probeAll } from './host-steps/probe.ts';
import { endAfterStop } from './host-steps/rollback.ts';
import { newRunState, type HostStepsContext, type HostStepsOutcome } from './host-steps/state.ts';
import { verifyChanges } from './host-steps/verify.ts';

export type { HostStepsContext, HostStepsOutcome } from './host-steps/state.ts';

/**
 * Runs one host's steps of a change job, in plan order, in as few round trips as their
 * dependencies allow, as four named phases over one explicit state (host-steps/state.ts):
 *   1. probe (host-steps/probe.ts): every step observed at once, in one batch of probes (the
 *      OVS snapshot the part planned from is reused);
 *   2. change (host-steps/change.ts): each step not as wanted gets its command chosen from what
 *      was observed; independent changes go out together in one batch that stops at the first
 *      failure; a step an earlier change may alter is observed again first;
 *   3. verify + re-read (host-steps/verify.ts): every change observed once more, in one batch
 *      with the host re-read;
 *   4. after a stop (host-steps/rollback.ts): a cancel keeps what was applied; a failure undoes
 *      the steps applied on this host, newest first.
 */
export async function runHostSteps(ctx: HostStepsContext): Promise<HostStepsOutcome> {
  const run = newRunState(ctx);
  try {
    await probeAll(run);
    await applyChanges(run);
    await verifyChanges(run);
    return { state: 'SUCCEEDED', applied: run.works.some((w) => w.applied), refreshed: run.refreshed, cacheAgreed: run.cacheAgreed };
  } catch (err) {
    // Another worker has the host now: nothing more is done or undone here (it plans from the host).
    if (isLockLost(err)) throw err;
    return endAfterStop(run, err);
  }
}

import { isAsWanted, stepHealth } from '../../src/changes/step-kinds.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { observe } from './probe.ts';
import { finishStep, StepFailed, type RunState, type Work } from './state.ts';

function notConverged(w: Work): StepFailed {
  const waited = w.planned.waitMs ? ` (waited ${Math.round(w.planned.waitMs / 1000)} s)` : '';
  return new StepFailed(
    w,
    ErrorCode.STEP_NOT_CONVERGED,
    `after the change the host reports ${w.read!.value}, wanted ${w.record.wanted}${waited}${w.planned.hint ? `: ${w.planned.hint}` : ''}`,
  );
}

/** As wanted but not working (OVS cannot open a port's device) fails the step; a warning is kept. */
export function checkHealthy(w: Work): void {
  const { failure, warning } = stepHealth(w.kind, w.read!, w.planned, w.before);
  if (failure) throw new StepFailed(w, failure.code, failure.message);
  w.record.warning = warning;
}

/** Checks applied steps against fresh reads, in order; finishes those that converged. */
export async function settle(run: RunState, ws: Work[]): Promise<void> {
  for (const w of ws) {
    if (!isAsWanted(w.kind, w.read!, w.planned)) throw notConverged(w);
    checkHealthy(w);
    await finishStep(run, w, true);
  }
}

/**
 * Phase 3, verify + re-read: every change not verified yet is observed once more, in one batch
 * that also carries the host re-read (`readAlong`), or while a full re-read runs alongside.
 */
export async function verifyChanges(run: RunState): Promise<void> {
  const { ctx } = run;
  const unverified = run.works.filter((w) => w.applied && !w.verified);
  if (!unverified.length) return;
  if (ctx.readAlong) {
    await observe(run, unverified, ctx.readAlong);
    await settle(run, unverified);
    return;
  }
  const verify = (async () => {
    await observe(run, unverified);
    await settle(run, unverified);
  })();
  // The refresh must not outlive the job's answer, nor hide a verification failure.
  const [v, r] = await Promise.allSettled([verify, ctx.whileVerifying?.() ?? Promise.resolve()]);
  run.refreshed = Boolean(ctx.whileVerifying) && r.status === 'fulfilled';
  if (v.status === 'rejected') throw v.reason;
}

/** Settles steps whose commands ran before a stop: converged ones are reported as changed. */
export async function verifyQuietly(run: RunState, ws: Work[]): Promise<void> {
  if (!ws.length) return;
  try {
    await observe(run, ws);
  } catch {
    return;
  }
  for (const w of ws) if (isAsWanted(w.kind, w.read!, w.planned)) await finishStep(run, w, true);
}

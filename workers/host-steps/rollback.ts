import { describeError } from '../../src/errors/codes.ts';
import type { RollbackRecord } from '../../src/jobs/job-types.ts';
import { EXCERPT_CHARS, stderrExcerpt } from '../../src/ssh/command-output.ts';
import { workerMetrics } from '../../src/metrics/worker.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';
import { Cancelled, endStep, StepFailed, type HostStepsOutcome, type RunState, type Work } from './state.ts';
import { verifyQuietly } from './verify.ts';
import { noteStepFailure } from '../step-telemetry.ts';

/**
 * Phase 4, after a stop: a cancel keeps what was applied (checked first); a failure is reported
 * on its step and every step applied on this host is undone, newest first.
 */
export async function endAfterStop(run: RunState, err: unknown): Promise<HostStepsOutcome> {
  const { ctx, works, cacheAgreed } = run;
  const applied = works.some((w) => w.applied);
  for (const w of works)
    if (w.record.state === 'RUNNING' && !w.applied && !(err instanceof StepFailed && err.work === w)) w.record.state = 'PENDING';
  if (err instanceof Cancelled) {
    // Applied but not yet verified steps are checked before the job says what stayed.
    await verifyQuietly(
      run,
      works.filter((w) => w.applied && !w.verified),
    );
    // A command that ran is a change, even when the host could not be read back (or did not show
    // it): the record says so rather than leaving the step to be skipped.
    for (const w of works.filter((x) => x.applied && !x.verified)) {
      w.record.changed = true;
      w.record.warning = 'its command ran (exit 0) before the cancel, but reading the host back did not confirm it';
      endStep(run, w, 'FAILED');
      await ctx.report(
        'STEP_FINISHED',
        `step ${w.pos}/${works.length} applied before the cancel, not verified: ${w.record.description}`,
        structuredClone(w.record),
      );
    }
    return { state: 'CANCELLED', applied, refreshed: run.refreshed, cacheAgreed };
  }
  const failedWork = err instanceof StepFailed ? err.work : undefined;
  const described = err instanceof StepFailed ? { code: err.code, message: err.message } : describeError(err);
  // A part plans from a read of the host under the lock; when the host changed after that
  // read (outside Trunkline), say so: a rerun plans from the host as it is (the cache is re-read).
  const planned = failedWork?.planned.observed;
  const seen = failedWork?.before?.value ?? failedWork?.read?.value;
  const message =
    failedWork && planned != null && seen !== undefined && seen !== planned
      ? `${described.message} (the plan was made from a read of the host that said ${planned}; the host said ${seen} when the step ran: it changed meanwhile, outside Trunkline; run the change again to plan from the host as it is)`
      : described.message;
  if (failedWork) {
    endStep(run, failedWork, 'FAILED');
    noteStepFailure(ctx.log, failedWork.planned.probe.kind, failedWork.record, { code: described.code, message });
    await ctx.report(
      'STEP_FINISHED',
      `step ${failedWork.record.index + 1} failed on ${ctx.host.name}: ${message}`,
      structuredClone(failedWork.record),
    );
  }
  await verifyQuietly(
    run,
    works.filter((w) => w.applied && !w.verified && w !== failedWork),
  );
  for (const w of works) if (w.record.state === 'RUNNING' && w.applied && w !== failedWork) endStep(run, w, 'FAILED');
  const rolled = await rollBack(run, works.filter((w) => w.applied).reverse());
  const where = failedWork
    ? `step ${failedWork.record.index + 1} (${failedWork.record.description}) on ${ctx.host.name}`
    : `${ctx.host.name}, before any step,`;
  const undone = rolled.filter((r) => r.state === 'SUCCEEDED').map((r) => r.step + 1);
  const notUndone = rolled.filter((r) => r.state !== 'SUCCEEDED').map((r) => r.step + 1);
  const note =
    (undone.length ? `; rolled back step${undone.length > 1 ? 's' : ''} ${undone.join(', ')}` : '') +
    (notUndone.length ? `; could NOT roll back step${notUndone.length > 1 ? 's' : ''} ${notUndone.join(', ')}` : '');
  return {
    state: 'FAILED',
    failure: { code: described.code, message: `${where} failed: ${message}${note}`, step: failedWork?.record.index ?? null },
    applied,
    refreshed: run.refreshed,
    cacheAgreed,
  };
}

/** Undoes applied steps, newest first; records each attempt. Never throws. */
async function rollBack(run: RunState, applied: Work[]): Promise<RollbackRecord[]> {
  const { ctx } = run;
  const done: RollbackRecord[] = [];
  for (const w of applied) {
    const base = { step: w.record.index, host: ctx.host.name, description: w.record.description };
    // Undo converges back to what was observed before: nothing to do if the host is there already
    // (e.g. a guest that ignored the shutdown is still running).
    const now = await ctx.runner
      .exec(ctx.host, w.planned.probe.argv)
      .then((r) => w.kind.read(r, w.planned).value)
      .catch(() => null);
    const action = now === w.before!.value ? null : w.kind.undo(w.before!.state, w.planned);
    let entry: RollbackRecord;
    if (now === w.before!.value) {
      entry = { ...base, command: null, state: 'SUCCEEDED', message: `already as before (${now})` };
    } else if (!action) {
      entry = { ...base, command: null, state: 'NOT_POSSIBLE', message: 'no compensating command for this step' };
    } else {
      const command = toShellCommand(action.argv);
      try {
        const out = await ctx.runner.exec(ctx.host, action.argv, { stdin: action.stdin });
        entry =
          out.exitCode === 0
            ? { ...base, command, state: 'SUCCEEDED', message: 'undone' }
            : {
                ...base,
                command,
                state: 'FAILED',
                message: `exit ${out.exitCode}: ${stderrExcerpt(out.stderr, EXCERPT_CHARS.shortMessage)}`,
              };
      } catch (err) {
        entry = { ...base, command, state: 'FAILED', message: describeError(err).message };
      }
    }
    ctx.rollback.push(entry);
    done.push(entry);
    workerMetrics.rollbacks.inc({ step_kind: w.planned.probe.kind, outcome: entry.state });
    ctx.log?.[entry.state === 'SUCCEEDED' ? 'info' : 'warn'](
      {
        step: w.record.index + 1,
        stepKind: w.planned.probe.kind,
        outcome: entry.state,
        command: entry.command,
        err: entry.state === 'SUCCEEDED' ? undefined : entry.message,
      },
      entry.state === 'SUCCEEDED' ? 'step rolled back' : 'step not rolled back',
    );
    await ctx.report(
      'STEP_ROLLED_BACK',
      `step ${w.record.index + 1} ${entry.state === 'SUCCEEDED' ? 'rolled back' : `not rolled back: ${entry.message}`}`,
      structuredClone(w.record),
    );
  }
  return done;
}

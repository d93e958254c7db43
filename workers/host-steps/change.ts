import type { StepAction } from '../../src/changes/plan.ts';
import { dependsOn } from '../../src/changes/step-dependencies.ts';
import { isAsWanted } from '../../src/changes/step-kinds.ts';
import type { BatchCommand } from '../../src/ssh/command-batch.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';
import type { ExecResult } from '../../src/ssh/runner.ts';
import { observe } from './probe.ts';
import { checkCancel, excerpt, finishStep, startStep, StepFailed, type RunState, type Work } from './state.ts';
import { checkHealthy, settle } from './verify.ts';

/**
 * Phase 2, change: walks the steps in plan order. One already as wanted is done; one that is
 * not gets its command chosen from what was observed and queued. A step whose observation an
 * earlier change may have altered (step-dependencies.ts) first has the queue sent, then is
 * observed again together with the verification of the changes it builds on. A step that must
 * wait for the host (a guest shutting down) runs on its own, polled. Ends with the queue sent.
 */
export async function applyChanges(run: RunState): Promise<void> {
  const { works } = run;
  for (const [i, w] of works.entries()) {
    const basis = works.slice(0, i).filter((e) => (e.applied || run.queued.includes(e)) && !e.verified && dependsOn(e.planned, w.planned));
    if (basis.length) {
      await flush(run);
      await checkCancel(run);
      await observe(run, [...basis, w]);
      await settle(run, basis);
    } else if (i > 0 && run.queued.length === 0) {
      // Nothing queued: a cancel between steps is honoured before the next one.
      await checkCancel(run);
    }
    await startStep(run, w);
    w.record.observed = w.read!.value;
    if (isAsWanted(w.kind, w.read!, w.planned)) {
      checkHealthy(w);
      await finishStep(run, w, false);
      continue;
    }
    w.before = w.read;
    try {
      w.action = w.kind.applyFor?.(w.read!.state, w.planned) ?? w.planned.apply!;
    } catch (err) {
      // A refusal made from what the host shows now (e.g. a change that needs a restart).
      throw StepFailed.from(w, err);
    }
    w.record.command = toShellCommand(w.action.argv);
    if (w.planned.waitMs || w.planned.fallback) {
      await flush(run);
      await runWaiting(run, w);
    } else {
      run.queued.push(w);
    }
  }
  await flush(run);
}

/** Sends the queued commands in one batch, in order, stopping at the first failure. */
export async function flush(run: RunState): Promise<void> {
  if (!run.queued.length) return;
  const { ctx } = run;
  const batch = run.queued;
  run.queued = [];
  await checkCancel(run);
  let results: ExecResult[];
  try {
    results = await ctx.runner.execBatch(
      ctx.host,
      batch.map((w): BatchCommand => ({ argv: w.action!.argv, stdin: w.action!.stdin })),
      { stopOnFailure: true },
    );
  } catch (err) {
    throw StepFailed.from(batch[0]!, err);
  }
  results.forEach((out, i) => {
    const w = batch[i]!;
    w.record.exitCode = out.exitCode;
    w.record.stdout = excerpt(out.stdout);
    w.record.stderr = excerpt(out.stderr);
    // Applied as soon as the command ran: a step that then fails to converge is undone too.
    if (out.exitCode === 0) w.applied = true;
  });
  const failed = batch.find((w) => w.record.exitCode !== null && w.record.exitCode !== 0);
  if (failed) throw StepFailed.exit(failed, failed.record);
}

/** A step the host completes on its own time: its command alone, then poll, then fallback. */
async function runWaiting(run: RunState, w: Work): Promise<void> {
  const { ctx } = run;
  const exec = async (action: StepAction) => ctx.runner.exec(ctx.host, action.argv, { stdin: action.stdin });
  let out: ExecResult;
  try {
    out = await exec(w.action!);
  } catch (err) {
    throw StepFailed.from(w, err);
  }
  Object.assign(w.record, { exitCode: out.exitCode, stdout: excerpt(out.stdout), stderr: excerpt(out.stderr) });
  if (out.exitCode !== 0) throw StepFailed.exit(w, out);
  w.applied = true;
  await observe(run, [w]);
  const deadline = Date.now() + (w.planned.waitMs ?? 0);
  while (!isAsWanted(w.kind, w.read!, w.planned) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    await observe(run, [w]);
  }
  if (!isAsWanted(w.kind, w.read!, w.planned) && w.planned.fallback) {
    const fb = await exec(w.planned.fallback);
    const note = `not as wanted after ${Math.round((w.planned.waitMs ?? 0) / 1000)} s (${w.read!.value}); ran ${toShellCommand(w.planned.fallback.argv)}: exit ${fb.exitCode}`;
    w.record.stdout = excerpt(`${w.record.stdout ?? ''}${w.record.stdout ? '\n' : ''}${note}\n${fb.stdout}`);
    w.record.stderr = excerpt(`${w.record.stderr ?? ''}${fb.stderr}`);
    await observe(run, [w]);
  }
  await settle(run, [w]);
}

import type { PlanStep, StepAction } from '../src/changes/plan.ts';
import { dependsOn } from '../src/changes/step-dependencies.ts';
import { isAsWanted, stepHealth, stepKind } from '../src/changes/step-kinds.ts';
import { describeError, ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { Host } from '../src/inventory/host-registry.ts';
import type { JobEventType, RollbackRecord, StepRecord } from '../src/jobs/job-types.ts';
import type { BatchCommand } from '../src/ssh/command-batch.ts';
import { toShellCommand } from '../src/ssh/quote.ts';
import type { CommandRunner, ExecResult } from '../src/ssh/ssh-pool.ts';

/**
 * Runs one host's steps of a change job, in plan order, in as few round trips as their
 * dependencies allow:
 *   1. observe every step at once (one batch of probes);
 *   2. walk the steps: one already as wanted is done; one that is not gets its command chosen
 *      from what was observed and queued; a step whose observation an earlier change may have
 *      altered (step-dependencies.ts) first has the queued commands sent, then is observed again
 *      together with the verification of the changes it builds on;
 *   3. send what is queued (one batch, stopping at the first failure) and verify every change
 *      (one batch of probes) with `readAlong`'s commands (the host re-read) in the same batch, or
 *      while `whileVerifying` (a full re-read) runs alongside.
 * A step that must wait for the host (a guest shutting down) runs on its own, polled.
 * When anything fails, the steps applied on this host are undone, newest first.
 */
export interface HostStepsContext {
  runner: CommandRunner;
  host: Host;
  /** This host's steps (mutated as they run) with their plan steps. */
  steps: { record: StepRecord; planned: PlanStep }[];
  /** Persists the host's part of the record and appends an event. */
  report(type: JobEventType, message: string, step?: StepRecord | null): Promise<void>;
  rollback: RollbackRecord[];
  cancelRequested(): Promise<boolean>;
  /** Read-only commands to run in the final verification batch; their results go to `done`. */
  readAlong?: { commands: BatchCommand[]; done(results: ExecResult[]): Promise<void> } | null;
  /** Otherwise: runs concurrently with the final verification once something was applied. */
  whileVerifying?: () => Promise<void>;
  /** Results of commands just run on the host (the read the steps were planned from), by argv key: the first observation reuses them. */
  preobserved?: ReadonlyMap<string, ExecResult>;
}

export interface HostStepsOutcome {
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  failure?: { code: string; message: string; step: number | null };
  /** Some step changed the host (or a command ran before a failure). */
  applied: boolean;
  /** `readAlong` or `whileVerifying` brought the cache up to date. */
  refreshed: boolean;
  /** Every first observation equalled what the plan saw in the cache. */
  cacheAgreed: boolean;
}

// Job records keep an excerpt of command output, enough to diagnose, small enough to stream.
const EXCERPT_CHARS = 4000;
const excerpt = (s: string) => (s.length > EXCERPT_CHARS ? `${s.slice(0, EXCERPT_CHARS)}…(${s.length - EXCERPT_CHARS} more chars)` : s);

type Read = { value: string; state: unknown };

interface Work {
  /** 1-based position among this host's steps (progress messages count per host). */
  pos: number;
  record: StepRecord;
  planned: PlanStep;
  kind: ReturnType<typeof stepKind>;
  read?: Read;
  /** What the host looked like before this run changed it: what rollback returns to. */
  before?: Read;
  action?: StepAction;
  applied: boolean;
  verified: boolean;
}

class Cancelled extends Error {}

/** A failure attributed to one step. */
class StepFailed extends Error {
  constructor(
    readonly work: Work,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** Anything thrown while working on `work` (SSH errors, unparseable output), as its failure. */
  static from(work: Work, err: unknown): StepFailed {
    const { code, message } = describeError(err);
    return new StepFailed(work, code, message);
  }

  /** A command of `work` that exited non-zero. */
  static exit(work: Work, out: { exitCode: number | null; stderr: string | null }): StepFailed {
    return new StepFailed(work, ErrorCode.COMMAND_FAILED, `exit ${out.exitCode}: ${out.stderr?.trim().slice(0, 500) || '(no stderr)'}`);
  }
}

export async function runHostSteps(ctx: HostStepsContext): Promise<HostStepsOutcome> {
  const works: Work[] = ctx.steps.map(({ record, planned }, i) => {
    if (!planned.apply) throw new TrunklineError(ErrorCode.JOB_INVALID, `step ${record.index + 1} has no change command`);
    return { pos: i + 1, record, planned, kind: stepKind(planned.probe.kind), applied: false, verified: false };
  });
  const total = works.length;
  let queued: Work[] = [];
  let refreshed = false;
  let cacheAgreed = true;

  const checkCancel = async () => {
    if (await ctx.cancelRequested()) throw new Cancelled();
  };

  /**
   * One batch of probes (identical commands run once); each work gets a fresh read. `along`:
   * more read-only commands for the same batch, whose results are handed over first.
   */
  const observe = async (ws: Work[], along?: HostStepsContext['readAlong'], pre?: ReadonlyMap<string, ExecResult>) => {
    if (!ws.length) return;
    const keyOf = (argv: readonly string[]) => argv.join('\0');
    const unique = [...new Map([...ws.map((w) => w.planned.probe.argv), ...(along?.commands.map((c) => c.argv) ?? [])].map((argv) => [keyOf(argv), argv])).entries()];
    const toRun = unique.filter(([k]) => !pre?.has(k));
    let results: ExecResult[] = [];
    try {
      if (toRun.length) results = await ctx.runner.execBatch(ctx.host, toRun.map(([, argv]) => ({ argv })));
    } catch (err) {
      throw StepFailed.from(ws[0]!, err);
    }
    const byKey = new Map([...(pre ?? []), ...toRun.map(([k], i): [string, ExecResult] => [k, results[i]!])]);
    if (along) {
      try {
        await along.done(along.commands.map((c) => byKey.get(keyOf(c.argv))!));
        refreshed = true;
      } catch {
        // The caller re-reads the host on its own when the read along did not make it.
      }
    }
    for (const w of ws) {
      try {
        w.read = w.kind.read(byKey.get(keyOf(w.planned.probe.argv))!, w.planned);
      } catch (err) {
        throw StepFailed.from(w, err);
      }
    }
  };

  const start = async (w: Work) => {
    Object.assign(w.record, { state: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, changed: null, durationMs: null });
    await ctx.report('STEP_STARTED', `step ${w.pos}/${total}: ${w.record.description}`, structuredClone(w.record));
  };

  const finish = async (w: Work, changed: boolean) => {
    w.verified = true;
    w.record.changed = changed;
    endStep(w, 'SUCCEEDED');
    await ctx.report('STEP_FINISHED', `step ${w.pos}/${total} ${changed ? 'changed' : 'already as wanted'}: ${w.record.description}`, structuredClone(w.record));
  };

  const notConverged = (w: Work) => {
    const waited = w.planned.waitMs ? ` (waited ${Math.round(w.planned.waitMs / 1000)} s)` : '';
    return new StepFailed(
      w,
      ErrorCode.STEP_NOT_CONVERGED,
      `after the change the host reports ${w.read!.value}, wanted ${w.record.wanted}${waited}${w.planned.hint ? `: ${w.planned.hint}` : ''}`,
    );
  };

  /** As wanted but not working (OVS cannot open a port's device) fails the step; a warning is kept. */
  const healthy = (w: Work) => {
    const { failure, warning } = stepHealth(w.kind, w.read!, w.planned, w.before);
    if (failure) throw new StepFailed(w, failure.code, failure.message);
    w.record.warning = warning;
  };

  /** Checks applied steps against fresh reads, in order; finishes those that converged. */
  const settle = async (ws: Work[]) => {
    for (const w of ws) {
      if (!isAsWanted(w.kind, w.read!, w.planned)) throw notConverged(w);
      healthy(w);
      await finish(w, true);
    }
  };

  /** Sends the queued commands in one batch, in order, stopping at the first failure. */
  const flush = async () => {
    if (!queued.length) return;
    const batch = queued;
    queued = [];
    await checkCancel();
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
  };

  /** A step the host completes on its own time: its command alone, then poll, then fallback. */
  const runWaiting = async (w: Work) => {
    const run = async (action: StepAction) => ctx.runner.exec(ctx.host, action.argv, { stdin: action.stdin });
    let out: ExecResult;
    try {
      out = await run(w.action!);
    } catch (err) {
      throw StepFailed.from(w, err);
    }
    Object.assign(w.record, { exitCode: out.exitCode, stdout: excerpt(out.stdout), stderr: excerpt(out.stderr) });
    if (out.exitCode !== 0) throw StepFailed.exit(w, out);
    w.applied = true;
    await observe([w]);
    const deadline = Date.now() + (w.planned.waitMs ?? 0);
    while (!isAsWanted(w.kind, w.read!, w.planned) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      await observe([w]);
    }
    if (!isAsWanted(w.kind, w.read!, w.planned) && w.planned.fallback) {
      const fb = await run(w.planned.fallback);
      const note = `not as wanted after ${Math.round((w.planned.waitMs ?? 0) / 1000)} s (${w.read!.value}); ran ${toShellCommand(w.planned.fallback.argv)}: exit ${fb.exitCode}`;
      w.record.stdout = excerpt(`${w.record.stdout ?? ''}${w.record.stdout ? '\n' : ''}${note}\n${fb.stdout}`);
      w.record.stderr = excerpt(`${w.record.stderr ?? ''}${fb.stderr}`);
      await observe([w]);
    }
    await settle([w]);
  };

  try {
    await checkCancel();
    await observe(works, undefined, ctx.preobserved);
    for (const w of works) if (w.read!.value !== w.planned.observed) cacheAgreed = false;

    for (const [i, w] of works.entries()) {
      const basis = works.slice(0, i).filter((e) => (e.applied || queued.includes(e)) && !e.verified && dependsOn(e.planned, w.planned));
      if (basis.length) {
        await flush();
        await checkCancel();
        await observe([...basis, w]);
        await settle(basis);
      } else if (i > 0 && queued.length === 0) {
        // Nothing queued: a cancel between steps is honoured before the next one.
        await checkCancel();
      }
      await start(w);
      w.record.observed = w.read!.value;
      if (isAsWanted(w.kind, w.read!, w.planned)) {
        healthy(w);
        await finish(w, false);
        continue;
      }
      w.before = w.read;
      w.action = w.kind.applyFor?.(w.read!.state, w.planned) ?? w.planned.apply!;
      w.record.command = toShellCommand(w.action.argv);
      if (w.planned.waitMs || w.planned.fallback) {
        await flush();
        await runWaiting(w);
      } else {
        queued.push(w);
      }
    }
    await flush();
    const unverified = works.filter((w) => w.applied && !w.verified);
    if (unverified.length && ctx.readAlong) {
      await observe(unverified, ctx.readAlong);
      await settle(unverified);
    } else if (unverified.length) {
      const verify = (async () => {
        await observe(unverified);
        await settle(unverified);
      })();
      // The refresh must not outlive the job's answer, nor hide a verification failure.
      const [v, r] = await Promise.allSettled([verify, ctx.whileVerifying?.() ?? Promise.resolve()]);
      refreshed = Boolean(ctx.whileVerifying) && r.status === 'fulfilled';
      if (v.status === 'rejected') throw v.reason;
    }
    return { state: 'SUCCEEDED', applied: works.some((w) => w.applied), refreshed, cacheAgreed };
  } catch (err) {
    const applied = works.some((w) => w.applied);
    for (const w of works) if (w.record.state === 'RUNNING' && !w.applied && !(err instanceof StepFailed && err.work === w)) w.record.state = 'PENDING';
    if (err instanceof Cancelled) {
      // Applied but not yet verified steps are checked before the job says what stayed.
      await verifyQuietly(works.filter((w) => w.applied && !w.verified));
      return { state: 'CANCELLED', applied, refreshed, cacheAgreed };
    }
    const failedWork = err instanceof StepFailed ? err.work : undefined;
    const described = err instanceof StepFailed ? { code: err.code, message: err.message } : describeError(err);
    const { code } = described;
    // A part plans from a read of the host under the lock; when the host changed after that
    // read (outside Trunkline), say so: a rerun plans from the host as it is (the cache is re-read below).
    const planned = failedWork?.planned.observed;
    const seen = failedWork?.before?.value ?? failedWork?.read?.value;
    const message =
      failedWork && planned != null && seen !== undefined && seen !== planned
        ? `${described.message} (the plan was made from a read of the host that said ${planned}; the host said ${seen} when the step ran: it changed meanwhile, outside Trunkline; run the change again to plan from the host as it is)`
        : described.message;
    if (failedWork) {
      endStep(failedWork, 'FAILED');
      await ctx.report('STEP_FINISHED', `step ${failedWork.record.index + 1} failed on ${ctx.host.name}: ${message}`, structuredClone(failedWork.record));
    }
    await verifyQuietly(works.filter((w) => w.applied && !w.verified && w !== failedWork));
    for (const w of works) if (w.record.state === 'RUNNING' && w.applied && w !== failedWork) endStep(w, 'FAILED');
    const rolled = await rollBack(ctx, works.filter((w) => w.applied).reverse());
    const where = failedWork ? `step ${failedWork.record.index + 1} (${failedWork.record.description}) on ${ctx.host.name}` : `${ctx.host.name}, before any step,`;
    const undone = rolled.filter((r) => r.state === 'SUCCEEDED').map((r) => r.step + 1);
    const notUndone = rolled.filter((r) => r.state !== 'SUCCEEDED').map((r) => r.step + 1);
    const note =
      (undone.length ? `; rolled back step${undone.length > 1 ? 's' : ''} ${undone.join(', ')}` : '') +
      (notUndone.length ? `; could NOT roll back step${notUndone.length > 1 ? 's' : ''} ${notUndone.join(', ')}` : '');
    return { state: 'FAILED', failure: { code, message: `${where} failed: ${message}${note}`, step: failedWork?.record.index ?? null }, applied, refreshed, cacheAgreed };
  }

  /** Settles steps whose commands ran before a stop: converged ones are reported as changed. */
  async function verifyQuietly(ws: Work[]): Promise<void> {
    if (!ws.length) return;
    try {
      await observe(ws);
    } catch {
      return;
    }
    for (const w of ws) if (isAsWanted(w.kind, w.read!, w.planned)) await finish(w, true);
  }
}

/** Undoes applied steps, newest first; records each attempt. Never throws. */
async function rollBack(ctx: HostStepsContext, applied: Work[]): Promise<RollbackRecord[]> {
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
            : { ...base, command, state: 'FAILED', message: `exit ${out.exitCode}: ${out.stderr.trim().slice(0, 300)}` };
      } catch (err) {
        entry = { ...base, command, state: 'FAILED', message: describeError(err).message };
      }
    }
    ctx.rollback.push(entry);
    done.push(entry);
    await ctx.report('STEP_ROLLED_BACK', `step ${w.record.index + 1} ${entry.state === 'SUCCEEDED' ? 'rolled back' : `not rolled back: ${entry.message}`}`, structuredClone(w.record));
  }
  return done;
}

function endStep(w: Work, state: 'SUCCEEDED' | 'FAILED'): void {
  w.record.state = state;
  w.record.finishedAt = new Date().toISOString();
  w.record.durationMs = Date.parse(w.record.finishedAt) - Date.parse(w.record.startedAt ?? w.record.finishedAt);
}

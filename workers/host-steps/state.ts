import type { PlanStep, StepAction } from '../../src/changes/plan.ts';
import { stepKind } from '../../src/changes/step-kinds.ts';
import { describeError, ErrorCode, TrunklineError } from '../../src/errors/codes.ts';
import type { Host } from '../../src/inventory/host-registry.ts';
import { isLockLost } from '../../src/jobs/host-locks.ts';
import type { JobEventType, RollbackRecord, StepRecord } from '../../src/jobs/job-types.ts';
import type { Logger } from '../../src/log/logger.ts';
import { noteStepEnd } from '../step-telemetry.ts';
import type { BatchCommand } from '../../src/ssh/command-batch.ts';
import { EXCERPT_CHARS, stderrExcerpt } from '../../src/ssh/command-output.ts';
import type { CommandRunner, ExecResult } from '../../src/ssh/runner.ts';

/** What the caller gives a host's run of steps (see ../host-steps.ts for the phases). */
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
  /** The part's logger (the job's fields and the host: src/jobs/job-log.ts); none: the steps log nothing. */
  log?: Logger;
}

export interface HostStepsOutcome {
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  failure?: { code: ErrorCode; message: string; step: number | null };
  /** Some step changed the host (or a command ran before a failure). */
  applied: boolean;
  /** `readAlong` or `whileVerifying` brought the cache up to date. */
  refreshed: boolean;
  /** Every first observation equalled what the plan saw when it was made. */
  cacheAgreed: boolean;
}

export type Read = { value: string; state: unknown };

/** One step as the run goes: what was observed, what was sent, whether it took. */
export interface Work {
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

/** The one state every phase reads and changes. */
export interface RunState {
  ctx: HostStepsContext;
  works: Work[];
  /** Changes chosen but not sent yet (the next change batch). */
  queued: Work[];
  refreshed: boolean;
  cacheAgreed: boolean;
}

export function newRunState(ctx: HostStepsContext): RunState {
  const works = ctx.steps.map(({ record, planned }, i): Work => {
    if (!planned.apply) throw new TrunklineError(ErrorCode.JOB_INVALID, `step ${record.index + 1} has no change command`);
    return { pos: i + 1, record, planned, kind: stepKind(planned.probe.kind), applied: false, verified: false };
  });
  return { ctx, works, queued: [], refreshed: false, cacheAgreed: true };
}

/** Thrown between rounds when the job was cancelled. */
export class Cancelled extends Error {}

/** A failure attributed to one step. */
export class StepFailed extends Error {
  readonly work: Work;
  readonly code: ErrorCode;

  constructor(work: Work, code: ErrorCode, message: string) {
    super(message);
    this.work = work;
    this.code = code;
  }

  /** Anything thrown while working on `work` (SSH errors, unparseable output), as its failure. */
  static from(work: Work, err: unknown): StepFailed {
    if (err instanceof StepFailed) return err;
    // A lost lock is not the step's failure: the part stops where it is (host-steps.ts).
    if (isLockLost(err)) throw err;
    const { code, message } = describeError(err);
    return new StepFailed(work, code, message);
  }

  /** A command of `work` that exited non-zero. */
  static exit(work: Work, out: { exitCode: number | null; stderr: string | null }): StepFailed {
    return new StepFailed(work, ErrorCode.COMMAND_FAILED, `exit ${out.exitCode}: ${stderrExcerpt(out.stderr) || '(no stderr)'}`);
  }
}

export async function checkCancel(run: RunState): Promise<void> {
  if (await run.ctx.cancelRequested()) throw new Cancelled();
}

export async function startStep(run: RunState, w: Work): Promise<void> {
  Object.assign(w.record, { state: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, changed: null, durationMs: null });
  await run.ctx.report('STEP_STARTED', `step ${w.pos}/${run.works.length}: ${w.record.description}`, structuredClone(w.record));
}

export async function finishStep(run: RunState, w: Work, changed: boolean): Promise<void> {
  w.verified = true;
  w.record.changed = changed;
  endStep(run, w, 'SUCCEEDED');
  await run.ctx.report(
    'STEP_FINISHED',
    `step ${w.pos}/${run.works.length} ${changed ? 'changed' : 'already as wanted'}: ${w.record.description}`,
    structuredClone(w.record),
  );
}

/** Ends a step's record; counted (trunkline_steps_total, its duration) and logged at debug level. */
export function endStep(run: RunState, w: Work, state: 'SUCCEEDED' | 'FAILED'): void {
  w.record.state = state;
  w.record.finishedAt = new Date().toISOString();
  w.record.durationMs = Date.parse(w.record.finishedAt) - Date.parse(w.record.startedAt ?? w.record.finishedAt);
  noteStepEnd(run.ctx.log, w.planned.probe.kind, w.record);
}

// Job records keep an excerpt of command output, enough to diagnose, small enough to stream.
const RECORD_CHARS = EXCERPT_CHARS.stepRecord;
export const excerpt = (s: string) => (s.length > RECORD_CHARS ? `${s.slice(0, RECORD_CHARS)}…(${s.length - RECORD_CHARS} more chars)` : s);

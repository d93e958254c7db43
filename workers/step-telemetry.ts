import type { StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import { workerMetrics } from '../src/metrics/worker.ts';

/*
 * What the metrics and the logs say of a step, the same for a change job's steps (their kind is
 * their probe's: host-steps/) and a one-piece job's (verifyVlan, refreshHypervisor: the job's
 * kind is theirs). `fields` adds what the logger does not carry yet (a one-piece job's host).
 */

type EndedStep = Pick<StepRecord, 'index' | 'state' | 'changed' | 'durationMs'>;

/** A step that ended: counted (trunkline_steps_total and its duration), logged at debug level. */
export function noteStepEnd(log: Logger | undefined, stepKind: string, step: EndedStep, fields: Record<string, unknown> = {}): void {
  const outcome = step.state === 'FAILED' ? 'failed' : step.changed ? 'changed' : 'unchanged';
  const durationMs = step.durationMs ?? 0;
  workerMetrics.steps.inc({ step_kind: stepKind, outcome });
  workerMetrics.stepDuration.observe({ step_kind: stepKind }, durationMs / 1000);
  log?.debug({ ...fields, step: step.index + 1, stepKind, outcome, durationMs }, 'step finished');
}

/** A step that failed: counted by error code (trunkline_step_failures_total), logged as a warning. */
export function noteStepFailure(
  log: Logger | undefined,
  stepKind: string,
  step: Pick<StepRecord, 'index'>,
  failure: { code: string; message: string },
  fields: Record<string, unknown> = {},
): void {
  workerMetrics.stepFailures.inc({ step_kind: stepKind, code: failure.code });
  log?.warn({ ...fields, step: step.index + 1, stepKind, code: failure.code, err: failure.message }, 'step failed');
}

import { randomUUID } from 'node:crypto';
import type { Plan, PlanStep } from '../changes/plan.ts';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { isRedisUnavailable, unavailableMessage } from '../redis/availability.ts';
import { toShellCommand } from '../ssh/quote.ts';
import type { ChangeQueue } from './change-queue.ts';
import { takesTurns, type HostOrder } from './host-order.ts';
import type { JobKind } from './job-kinds.ts';
import type { JobStore } from './job-store.ts';
import { pendingHostRun, type JobRecord, type StepRecord } from './job-types.ts';

export interface SubmitMeta {
  requestedBy: string | null;
  /** The id of the caller's token (its own jobs are what an operator may cancel). */
  requestedById?: string | null;
  ticketRef: string | null;
}

/** The record of a planned step that has not run yet. */
export function pendingStepRecord(s: PlanStep, index: number): StepRecord {
  return {
    index,
    host: s.host,
    description: s.description,
    command: s.display ?? (s.apply ? toShellCommand(s.apply.argv) : null),
    probeCommand: toShellCommand(s.probe.argv),
    wanted: s.wanted,
    observed: null,
    state: 'PENDING',
    changed: null,
    exitCode: null,
    stdout: null,
    stderr: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    warning: null,
  };
}

/** The job record for a plan, before anything ran. */
export function newJobRecord(kind: JobKind, input: Record<string, unknown>, plan: Plan, meta: SubmitMeta, now = new Date()): JobRecord {
  const steps: StepRecord[] = plan.steps.map(pendingStepRecord);
  return {
    id: randomUUID(),
    kind,
    state: 'QUEUED',
    hypervisors: plan.hypervisors,
    input,
    plan,
    steps,
    progress: { done: 0, total: steps.length, message: 'queued' },
    error: null,
    createdAt: now.toISOString(),
    startedAt: null,
    finishedAt: null,
    requestedBy: meta.requestedBy,
    requestedById: meta.requestedById ?? null,
    ticketRef: meta.ticketRef,
    attempts: 0,
    rollback: [],
    hosts: plan.hypervisors.map(pendingHostRun),
  };
}

/**
 * Records the job (state QUEUED, first event) and hands it to the queue. The record is written
 * first so that a worker never sees a job it cannot load.
 */
export async function submitChange(
  deps: { store: JobStore; queue: ChangeQueue; order: HostOrder },
  kind: JobKind,
  input: Record<string, unknown>,
  plan: Plan,
  meta: SubmitMeta,
): Promise<JobRecord> {
  const record = newJobRecord(kind, input, plan, meta);
  await deps.store.create(record, `queued ${kind} on ${plan.hypervisors.join(', ')}`);
  // The moment of acceptance: from here the job's host parts run after every job accepted
  // before it on the same hosts.
  const ordered = takesTurns(kind);
  try {
    if (ordered) await deps.order.accept(record.id, plan.hypervisors);
    await deps.queue.add(kind, record.id, plan.hypervisors);
  } catch (err) {
    if (ordered) await deps.order.release(record.id, plan.hypervisors).catch(() => {});
    const failed: JobRecord = {
      ...record,
      state: 'FAILED',
      finishedAt: new Date().toISOString(),
      error: { code: ErrorCode.QUEUE_UNAVAILABLE, message: `could not enqueue: ${(err as Error).message}`, step: null },
    };
    await deps.store.record(failed, 'FAILED', failed.error!.message).catch(() => {});
    // Nothing reached a host; the caller may send the request again (503, Retry-After).
    if (isRedisUnavailable(err))
      throw new TrunklineError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `${unavailableMessage(err)} (job ${record.id} was recorded but could not be queued: it is FAILED with QUEUE_UNAVAILABLE)`,
        { jobId: record.id },
        { cause: err },
      );
    throw err;
  }
  return record;
}

import { z } from 'zod';
import type { Plan } from '../../src/changes/plan.ts';
import { attemptsOf } from '../../src/jobs/host-attempts.ts';
import {
  HOST_ATTEMPT_OUTCOMES,
  HOST_RUN_STATES,
  JOB_EVENT_TYPES,
  JOB_STATES,
  type JobEvent,
  type JobRecord,
  STEP_STATES,
} from '../../src/jobs/job-types.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';
import { progressPercent, publicJobEvent } from '../../src/jobs/event-view.ts';
import { DateTime, ErrorCodeSchema, JobKindSchema } from './common.ts';

/*
 * The REST representation of jobs, events and plans: the schemas openapi.yaml documents (and
 * the contract tests validate every answer against), with the functions that build them from
 * the records. The same fields as GraphQL's Job, JobEvent and Plan.
 */

export const JobStateSchema = z.enum(JOB_STATES).meta({ id: 'JobState' });

export const JobErrorSchema = z
  .object({
    code: ErrorCodeSchema,
    message: z.string().describe('Which step failed, on which host, and why.'),
    step: z.number().int().nullable().describe('Index of the failed step, if a step failed.'),
  })
  .meta({ id: 'JobError' });

const ProgressSchema = z
  .object({ done: z.number().int(), total: z.number().int(), percent: z.number().int(), message: z.string() })
  .meta({ id: 'JobProgress' });

export const StepSchema = z
  .object({
    index: z.number().int(),
    host: z.string(),
    description: z.string(),
    command: z.string().nullable().describe('The change command as the host shell receives it; null for read-only steps.'),
    probeCommand: z.string(),
    wanted: z.string(),
    observed: z.string().nullable(),
    state: z.enum(STEP_STATES),
    changed: z.boolean().nullable(),
    exitCode: z.number().int().nullable(),
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    startedAt: DateTime.nullable(),
    finishedAt: DateTime.nullable(),
    durationMs: z.number().int().nullable(),
    warning: z.string().nullable(),
  })
  .meta({ id: 'JobStep' });

const HostAttemptSchema = z
  .object({
    number: z.number().int(),
    worker: z.string().describe('The worker process (host:pid) that made it.'),
    startedAt: DateTime,
    endedAt: DateTime.nullable(),
    outcome: z
      .enum(HOST_ATTEMPT_OUTCOMES)
      .describe(
        'As the part ended; LOCK_LOST: its worker found the host lock gone and stopped, then ran the part again; TAKEN_OVER: its worker stopped renewing its claim (killed or paused) and another took the part over; RUNNING while it runs.',
      ),
    reason: z.string().nullable().describe("Why it ended as it did, when that was not the part's own outcome."),
  })
  .meta({ id: 'JobHostAttempt' });

const HostRunSchema = z
  .object({
    hypervisor: z.string(),
    state: z.enum(HOST_RUN_STATES),
    attempts: z.array(HostAttemptSchema).describe('Every attempt a worker made at this part, oldest first.'),
    message: z.string(),
    error: JobErrorSchema.nullable(),
    startedAt: DateTime.nullable(),
    finishedAt: DateTime.nullable(),
    waitingFor: z.string().nullable().describe('While the part waits for its turn: the job that runs on the host first.'),
    planNote: z.string().nullable().describe('How the plan executed differs from the one shown at submission, if it does.'),
  })
  .meta({ id: 'JobHost' });

const RollbackSchema = z
  .object({
    step: z.number().int(),
    host: z.string(),
    description: z.string(),
    command: z.string().nullable(),
    state: z.enum(['SUCCEEDED', 'FAILED', 'NOT_POSSIBLE']),
    message: z.string(),
  })
  .meta({ id: 'JobRollback' });

export const VerificationSchema = z
  .object({
    tag: z.number().int(),
    isolationFrom: z.array(z.number().int()),
    ok: z.boolean(),
    results: z.array(
      z.object({
        fromHost: z.string(),
        fromVlan: z.number().int(),
        fromAddress: z.string(),
        toHost: z.string(),
        toAddress: z.string(),
        expect: z.enum(['REACH', 'ISOLATED']),
        sent: z.number().int(),
        received: z.number().int(),
        lossPercent: z.number(),
        rttAvgMs: z.number().nullable(),
        ok: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'VlanVerification' });

export const PlanSchema = z
  .object({
    kind: JobKindSchema,
    hypervisors: z.array(z.string()),
    steps: z.array(
      z.object({
        host: z.string(),
        description: z.string(),
        subject: z.string(),
        observed: z.string().nullable().describe('The value in the cache at planning time; null if the host was never read.'),
        wouldChange: z.boolean().nullable().describe('Judged from the cache; the worker re-checks on the host.'),
        command: z.string().nullable(),
        probeCommand: z.string(),
        wanted: z.string(),
      }),
    ),
  })
  .meta({ id: 'Plan', description: 'What a change will do, step by step (dryRun answers it alone).' });

export const JobSchema = z
  .object({
    id: z.string(),
    kind: JobKindSchema,
    state: JobStateSchema,
    hypervisors: z.array(z.string()),
    ticketRef: z.string().nullable(),
    requestedBy: z.string().nullable(),
    input: z.record(z.string(), z.unknown()).describe('The validated input the job was accepted with.'),
    createdAt: DateTime,
    startedAt: DateTime.nullable(),
    finishedAt: DateTime.nullable(),
    attempts: z.number().int(),
    progress: ProgressSchema,
    error: JobErrorSchema.nullable(),
    hosts: z.array(HostRunSchema),
    steps: z.array(StepSchema),
    rollback: z.array(RollbackSchema),
    verification: VerificationSchema.nullable(),
    plan: PlanSchema,
  })
  .meta({ id: 'Job', description: 'A change running (or run) on hypervisors.' });

export const JobEventSchema = z
  .object({
    id: z.string().describe("The event's id in its job's log (ordered); the SSE id of a job's stream."),
    sequence: z
      .string()
      .nullable()
      .describe("Its place in the fleet log (every job's events, in order): the SSE id of /api/v1/events; null in a job's own log."),
    jobId: z.string(),
    kind: JobKindSchema,
    ticketRef: z.string().nullable(),
    type: z.enum(JOB_EVENT_TYPES),
    at: DateTime,
    state: JobStateSchema.describe('The job state right after this event.'),
    hypervisor: z.string().nullable(),
    step: StepSchema.nullable(),
    progress: ProgressSchema,
    message: z.string(),
    error: JobErrorSchema.nullable(),
  })
  .meta({ id: 'JobEvent' });

export type JobView = z.infer<typeof JobSchema>;

export function planView(plan: Plan): z.infer<typeof PlanSchema> {
  return {
    kind: plan.kind,
    hypervisors: plan.hypervisors,
    steps: plan.steps.map((s) => ({
      host: s.host,
      description: s.description,
      subject: s.subject,
      observed: s.observed,
      wouldChange: s.changes,
      command: s.display ?? (s.apply ? toShellCommand(s.apply.argv) : null),
      probeCommand: toShellCommand(s.probe.argv),
      wanted: s.wanted,
    })),
  };
}

export function jobView(job: JobRecord): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    hypervisors: job.hypervisors,
    ticketRef: job.ticketRef,
    requestedBy: job.requestedBy,
    input: job.input,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    attempts: job.attempts,
    progress: { ...job.progress, percent: progressPercent(job.progress) },
    error: job.error,
    hosts: job.hosts.map((h) => ({
      hypervisor: h.host,
      state: h.state,
      attempts: attemptsOf(h),
      message: h.message,
      error: h.error,
      startedAt: h.startedAt,
      finishedAt: h.finishedAt,
      waitingFor: h.waitingFor ?? null,
      planNote: h.planNote ?? null,
    })),
    steps: job.steps.map((s) => ({ ...s, warning: s.warning ?? null })),
    rollback: job.rollback,
    verification: job.verification ?? null,
    plan: planView(job.plan),
  };
}

/** The JobEvent as REST answers it (the same shape webhooks deliver). */
export function jobEventView(e: JobEvent): z.infer<typeof JobEventSchema> {
  return publicJobEvent(e);
}

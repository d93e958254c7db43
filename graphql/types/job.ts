import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../src/errors/codes.ts';
import { jobVisible, visibleJob } from '../../src/requests/requester.ts';
import { orRefuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { fromGlobalId, toGlobalId } from '../global-id.ts';
import type { Context } from '../context.ts';
import { attemptsOf } from '../../src/jobs/host-attempts.ts';
import {
  HOST_ATTEMPT_OUTCOMES,
  HOST_RUN_STATES,
  JOB_EVENT_TYPES,
  JOB_STATES,
  STEP_STATES,
  type HostAttempt,
  type HostRun,
  type JobError,
  type JobEvent,
  type JobProgress,
  type JobRecord,
  type PingOutcome,
  type Verification,
  type RollbackRecord,
  type StepRecord,
} from '../../src/jobs/job-types.ts';
import { NodeRef, registerNodeLoader } from './node.ts';
import { connectionType, pageSize, type Page } from '../connection.ts';
import { ErrorCodeEnum, JobKindEnum } from './vocabularies.ts';

export const JobStateEnum = builder.enumType('JobState', { values: JOB_STATES });
export const StepStateEnum = builder.enumType('JobStepState', { values: STEP_STATES });
export const JobEventTypeEnum = builder.enumType('JobEventType', { values: JOB_EVENT_TYPES });
export const JobHostStateEnum = builder.enumType('JobHostState', { values: HOST_RUN_STATES });

export const JobProgressRef = builder.objectRef<JobProgress>('JobProgress').implement({
  fields: (t) => ({
    done: t.exposeInt('done', { description: 'Steps finished.' }),
    total: t.exposeInt('total'),
    percent: t.int({ resolve: (p) => (p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total)) }),
    message: t.exposeString('message'),
  }),
});

export const JobErrorRef = builder.objectRef<JobError>('JobError').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'Which step failed, on which host, and why.' }),
    step: t.exposeInt('step', { nullable: true, description: 'Index of the failed step, if a step failed.' }),
  }),
});

export const JobStepRef = builder.objectRef<StepRecord>('JobStep').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    host: t.exposeString('host'),
    description: t.exposeString('description'),
    command: t.exposeString('command', {
      nullable: true,
      description: 'The change command, as the host shell receives it; null for read-only steps.',
    }),
    probeCommand: t.exposeString('probeCommand', { description: 'The read-only command that observes the current value.' }),
    wanted: t.exposeString('wanted'),
    observed: t.exposeString('observed', { nullable: true, description: 'The value found on the host before acting.' }),
    state: t.field({ type: StepStateEnum, resolve: (s) => s.state }),
    changed: t.exposeBoolean('changed', { nullable: true, description: 'Whether this step changed the host; null until it ran.' }),
    exitCode: t.exposeInt('exitCode', { nullable: true }),
    stdout: t.exposeString('stdout', { nullable: true }),
    stderr: t.exposeString('stderr', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    warning: t.string({
      nullable: true,
      description:
        "Set when the step succeeded but what it made may not work (e.g. a port added with deviceMayBeMissing whose device does not exist yet): OVS's message.",
      resolve: (s) => s.warning ?? null,
    }),
  }),
});

export const RollbackRef = builder.objectRef<RollbackRecord>('JobRollback').implement({
  description: 'The undo of an applied step after a later step failed.',
  fields: (t) => ({
    step: t.exposeInt('step'),
    host: t.exposeString('host'),
    description: t.exposeString('description'),
    command: t.exposeString('command', { nullable: true, description: 'null when the step cannot be undone.' }),
    state: t.exposeString('state', { description: 'SUCCEEDED, FAILED or NOT_POSSIBLE.' }),
    message: t.exposeString('message'),
  }),
});

type JobHost = HostRun & { steps: StepRecord[] };

export const HostAttemptOutcomeEnum = builder.enumType('HostAttemptOutcome', {
  values: HOST_ATTEMPT_OUTCOMES,
  description:
    'How an attempt at a host part ended: as the part did; LOCK_LOST (its worker found the host lock gone and stopped, then ran the part again); TAKEN_OVER (its worker stopped renewing its claim, killed or paused, and another took the part over); RUNNING while it runs.',
});

export const JobHostAttemptRef = builder.objectRef<HostAttempt>('JobHostAttempt').implement({
  description: "One worker's attempt at a host's part of a job.",
  fields: (t) => ({
    number: t.exposeInt('number'),
    worker: t.exposeString('worker', { description: 'The worker process (host:pid) that made it.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    outcome: t.field({ type: HostAttemptOutcomeEnum, resolve: (a) => a.outcome }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it ended as it did, when that was not the part’s own outcome.' }),
  }),
});

export const JobHostRef = builder.objectRef<JobHost>('JobHost').implement({
  description:
    "One hypervisor's part of a job. Change jobs run each host as its own queued part (possibly on different workers); a host that fails does not stop the others.",
  fields: (t) => ({
    hypervisor: t.exposeString('host'),
    state: t.field({ type: JobHostStateEnum, resolve: (h) => h.state }),
    attempts: t.field({
      type: [JobHostAttemptRef],
      description:
        'Every attempt a worker made at this part, oldest first: more than one after a worker died or lost its lock, each saying why it ended.',
      resolve: (h) => attemptsOf(h),
    }),
    message: t.exposeString('message', { description: 'The latest thing this host reported.' }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (h) => h.error }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    waitingFor: t.id({
      nullable: true,
      description:
        'While this part waits for its turn (jobs on one host run in the order they were accepted): the job that runs on the host first.',
      resolve: (h) => (h.waitingFor ? toGlobalId('Job', h.waitingFor) : null),
    }),
    planNote: t.string({
      nullable: true,
      description:
        'Set when the plan this part executed (made from the host as it was when its turn came) differs from the plan shown at submission (made from the cached state): how.',
      resolve: (h) => h.planNote ?? null,
    }),
    steps: t.field({
      type: [JobStepRef],
      description: "This host's steps, in plan order: the plan it executed once it ran.",
      resolve: (h) => h.steps,
    }),
    changedSteps: t.int({ resolve: (h) => h.steps.filter((s) => s.changed).length }),
  }),
});

const PingOutcomeRef = builder.objectRef<PingOutcome>('PingOutcome').implement({
  description: 'One cell of a verifyVlan connectivity matrix.',
  fields: (t) => ({
    fromHost: t.exposeString('fromHost'),
    fromVlan: t.exposeInt('fromVlan'),
    fromAddress: t.exposeString('fromAddress'),
    toHost: t.exposeString('toHost'),
    toAddress: t.exposeString('toAddress'),
    expect: t.exposeString('expect', { description: 'REACH (same VLAN) or ISOLATED (another VLAN, same subnet).' }),
    sent: t.exposeInt('sent'),
    received: t.exposeInt('received'),
    lossPercent: t.exposeFloat('lossPercent'),
    rttAvgMs: t.exposeFloat('rttAvgMs', { nullable: true }),
    ok: t.exposeBoolean('ok'),
  }),
});

const VerificationRef = builder.objectRef<Verification>('VlanVerification').implement({
  fields: (t) => ({
    tag: t.exposeInt('tag'),
    isolationFrom: t.exposeIntList('isolationFrom'),
    ok: t.exposeBoolean('ok', { description: 'Every member reached every other, no isolation probe reached a member.' }),
    results: t.field({ type: [PingOutcomeRef], resolve: (v) => v.results }),
  }),
});

export const JobRef = builder.objectRef<JobRecord>('Job').implement({
  description: 'A change running (or run) on hypervisors. Poll it with job(id:) or follow it with jobProgress.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'steps' in v && 'kind' in v,
  fields: (t) => ({
    id: t.id({ resolve: (j) => toGlobalId('Job', j.id) }),
    kind: t.field({ type: JobKindEnum, description: 'The mutation that created it, e.g. createBridge.', resolve: (j) => j.kind }),
    state: t.field({ type: JobStateEnum, resolve: (j) => j.state }),
    hypervisors: t.exposeStringList('hypervisors'),
    hosts: t.field({
      type: [JobHostRef],
      description: 'Per-host progress and outcome, in `hypervisors` order.',
      resolve: (j) => (j.hosts ?? []).map((h) => ({ ...h, steps: j.steps.filter((s) => s.host === h.host) })),
    }),
    progress: t.field({ type: JobProgressRef, resolve: (j) => j.progress }),
    steps: t.field({ type: [JobStepRef], resolve: (j) => j.steps }),
    changedSteps: t.int({ resolve: (j) => j.steps.filter((s) => s.changed).length }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (j) => j.error }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    requestedBy: t.exposeString('requestedBy', { nullable: true }),
    ticketRef: t.exposeString('ticketRef', { nullable: true }),
    attempts: t.exposeInt('attempts'),
    rollback: t.field({
      type: [RollbackRef],
      description: 'What was undone after a failure, most recent step first.',
      resolve: (j) => j.rollback ?? [],
    }),
    cancelRequested: t.boolean({ resolve: (j, _a, ctx) => ctx.store.cancelRequested(j.id) }),
    verification: t.field({
      type: VerificationRef,
      nullable: true,
      description: 'verifyVlan jobs: the connectivity matrix.',
      resolve: (j) => j.verification ?? null,
    }),
  }),
});

export const JobEventRef = builder.objectRef<JobEvent>('JobEvent').implement({
  description: 'Something that happened to a job. Events of one job arrive in order.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Position in the job event log; increases with every event.' }),
    jobId: t.id({
      description: 'The job (its global id, as `job.id`): known from the event itself, also while the job record cannot be read.',
      resolve: (e) => toGlobalId('Job', e.jobId),
    }),
    sequence: t.string({
      nullable: true,
      description:
        "Position in the fleet log (every job's events, in order): pass the last one you saw as jobEvents(since:) to resume. Set on events from jobEvents; on jobProgress's events when their live message came (not on its replay of the past).",
      resolve: (e) => e.sequence ?? null,
    }),
    ticketRef: t.string({
      nullable: true,
      description: 'The ticket of the job this event belongs to.',
      // Events written before the field existed lack it: their job still knows.
      resolve: async (e, _a, ctx) => (e.ticketRef !== undefined ? e.ticketRef : ((await ctx.store.get(e.jobId))?.ticketRef ?? null)),
    }),
    type: t.field({ type: JobEventTypeEnum, resolve: (e) => e.type }),
    hypervisor: t.string({
      nullable: true,
      description: 'The host this event is about (host and step events); null for job-level events.',
      resolve: (e) => e.host ?? e.step?.host ?? null,
    }),
    at: t.expose('at', { type: 'DateTime' }),
    state: t.field({ type: JobStateEnum, description: 'The job state right after this event.', resolve: (e) => e.state }),
    message: t.exposeString('message'),
    progress: t.field({ type: JobProgressRef, resolve: (e) => e.progress }),
    step: t.field({ type: JobStepRef, nullable: true, resolve: (e) => e.step }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (e) => e.error }),
    job: t.field({
      type: JobRef,
      nullable: true,
      description: 'The job as it is now (may be ahead of this event).',
      resolve: (e, _args, ctx) => ctx.store.get(e.jobId),
    }),
  }),
});

/** Accepts a Job global id (and, for convenience, the raw job uuid). */
export function jobKey(id: string): string {
  const decoded = fromGlobalId(id);
  if (decoded?.type === 'Job') return decoded.key;
  if (/^[0-9a-f-]{36}$/i.test(id)) return id;
  throw new GraphQLError(`not a job id: ${id}`, { extensions: { code: ErrorCode.INVALID_INPUT } });
}

/** A job the caller may see (FORBIDDEN for one of another team's hosts), or null. */
async function loadJob(ctx: Context, key: string): Promise<JobRecord | null> {
  return orRefuse(await visibleJob(ctx, key)).job;
}

registerNodeLoader('Job', (key, ctx) => loadJob(ctx, key));

builder.queryField('job', (t) =>
  t.field({
    type: JobRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => loadJob(ctx, jobKey(String(id))),
  }),
);

builder.subscriptionField('jobProgress', (t) =>
  t.field({
    type: JobEventRef,
    description:
      "The job's events: first those already past (so a late subscriber sees the current state), then live ones; ends after the job ends.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, ctx) => {
      const key = jobKey(String(id));
      if (!(await loadJob(ctx, key))) throw new GraphQLError(`no job ${String(id)}`, { extensions: { code: ErrorCode.NOT_FOUND } });
      return ctx.hub.follow(key);
    },
    resolve: (event) => event,
  }),
);

const JobConnection = connectionType<JobRecord>('Job', JobRef);

const JobFilterRef = builder.inputType('JobFilter', {
  fields: (t) => ({
    state: t.field({ type: JobStateEnum }),
    hypervisor: t.string({ description: 'Jobs that touch this hypervisor.' }),
    ticketRef: t.string(),
    kind: t.field({ type: JobKindEnum, description: 'e.g. createBridge, refreshHypervisor.' }),
  }),
});

builder.queryField('jobs', (t) =>
  t.field({
    type: JobConnection,
    description: 'Jobs, newest first (kept for TRUNKLINE_JOB_TTL_SECONDS); `first` at most 100.',
    args: { first: t.arg.int(), after: t.arg.string(), filter: t.arg({ type: JobFilterRef }) },
    resolve: async (_root, { first, after, filter }, ctx): Promise<Page<JobRecord>> => {
      const limit = pageSize(first);
      const afterId = after ? jobKey(after) : null;
      const scope = await ctx.scope();
      const { jobs, more } = await ctx.store.list({
        afterId,
        limit,
        keep: (j) =>
          jobVisible(scope, j) &&
          (!filter?.state || j.state === filter.state) &&
          (!filter?.hypervisor || j.hypervisors.includes(filter.hypervisor)) &&
          (!filter?.ticketRef || j.ticketRef === filter.ticketRef) &&
          (!filter?.kind || j.kind === filter.kind),
      });
      return {
        items: jobs,
        cursors: jobs.map((j) => toGlobalId('Job', j.id)),
        hasNextPage: more,
        hasPreviousPage: Boolean(after),
        totalCount: null,
      };
    },
  }),
);

builder.objectField(JobRef, 'events', (t) =>
  t.field({
    type: [JobEventRef],
    description: "The job's event log so far, oldest first (what jobProgress replays): for clients that poll instead of subscribing.",
    resolve: (j, _args, ctx) => ctx.store.events(j.id),
  }),
);

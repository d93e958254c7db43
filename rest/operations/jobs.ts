import { z } from 'zod';
import { JOB_EVENT_TYPES, JOB_STATES } from '../../src/jobs/job-types.ts';
import { cancelJob } from '../../src/requests/job-requests.ts';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { refusedReply } from '../replies.ts';
import { JobKindSchema, pageSchema, PageQuery } from '../schemas/common.ts';
import { JobEventSchema, JobSchema, jobEventView, jobView } from '../schemas/job.ts';
import { eventStream, SSE_CONTENT_TYPE, wantsEventStream } from '../sse.ts';
import { JobParams } from './params.ts';
import { QueryList } from './change-operation.ts';
import type { JobKind } from '../../src/jobs/job-kinds.ts';
import type { JobEvent, JobEventType } from '../../src/jobs/job-types.ts';
import { filteredJobEvents } from '../../src/jobs/event-filter.ts';
import { jobVisible, visibleJob } from '../../src/requests/requester.ts';
import { ErrorCode } from '../../src/errors/codes.ts';

/** How a stream ends when its gateway stops (rest/sse.ts drainEventStreams). */
const RECONNECT_NOTE =
  'When the gateway stops, the stream ends with `event: reconnect` (`data: {message, retryMs}`): reconnect, to any gateway, with Last-Event-ID to resume without a gap.';

const TAG = 'Jobs';
const noJob = (id: unknown) => ({
  problem: problem(404, ErrorCode.NOT_FOUND, `no job ${String(id)}`, {
    errors: [{ field: ['id'], in: 'path', code: ErrorCode.NOT_FOUND, message: `id: no job ${String(id)}` }],
  }),
});

/**
 * A job's events as its own log has them: without their fleet `sequence` (null, as the JSON
 * list says), also those the stream got live (from pub/sub, which carries it): the same event
 * reads the same however it arrived.
 */
async function* ownLog(events: AsyncIterable<JobEvent>): AsyncGenerator<JobEvent> {
  for await (const { sequence: _sequence, ...e } of events) yield e;
}

export const JOB_OPERATIONS = defineOperations(
  {
    operationId: 'listJobs',
    method: 'get',
    path: '/jobs',
    tag: TAG,
    summary: 'Jobs, newest first (kept for TRUNKLINE_JOB_TTL_SECONDS), with filters.',
    query: z.object({
      ...PageQuery,
      state: z.enum(JOB_STATES).optional(),
      kind: JobKindSchema.optional(),
      hypervisor: z.string().max(63).optional().describe('Jobs that touch this hypervisor.'),
      ticketRef: z.string().max(128).optional().describe('Jobs of this ticket.'),
    }),
    answers: { 200: { description: 'A page of jobs, newest first.', schema: pageSchema('JobPage', JobSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const q = query as { limit: number; cursor?: string; state?: string; kind?: string; hypervisor?: string; ticketRef?: string };
      const scope = await ctx.scope();
      const { jobs, more } = await ctx.store.list({
        afterId: q.cursor ?? null,
        limit: q.limit,
        keep: (j) =>
          jobVisible(scope, j) &&
          (!q.state || j.state === q.state) &&
          (!q.kind || j.kind === q.kind) &&
          (!q.hypervisor || j.hypervisors.includes(q.hypervisor)) &&
          (!q.ticketRef || j.ticketRef === q.ticketRef),
      });
      return { status: 200, body: { items: jobs.map(jobView), nextCursor: more ? jobs.at(-1)!.id : null } };
    },
  },
  {
    operationId: 'getJob',
    method: 'get',
    path: '/jobs/{id}',
    tag: TAG,
    summary: 'A job as it is now: state, per-host progress, steps with their commands and output, rollback.',
    params: JobParams,
    answers: { 200: { description: 'The job.', schema: JobSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const { job, userErrors } = await visibleJob(ctx, params.id as string);
      if (userErrors.length) return refusedReply(userErrors, { id: 'id' });
      return job ? { status: 200, body: jobView(job) } : noJob(params.id);
    },
  },
  {
    operationId: 'cancelJob',
    method: 'post',
    path: '/jobs/{id}/cancel',
    tag: TAG,
    summary: 'Cancels a job: a queued one at once (CANCELLED), a running one before its next step.',
    description: 'Steps already applied stay applied (a failure, not a cancel, triggers rollback).',
    params: JobParams,
    answers: { 200: { description: 'The job after the request: CANCELLED, or RUNNING until its worker stops it.', schema: JobSchema } },
    problems: [404, 409],
    async handle({ params, ctx }) {
      const r = await cancelJob(ctx, params.id as string, ctx);
      if (r.userErrors.length) return refusedReply(r.userErrors, { id: 'id' });
      return { status: 200, body: jobView(r.job!) };
    },
  },
  {
    operationId: 'getJobEvents',
    method: 'get',
    path: '/jobs/{id}/events',
    tag: TAG,
    summary: "The job's events: a JSON list, or with Accept: text/event-stream a live stream until the job ends.",
    description:
      'The stream sends past events first, then live ones; each has an `id:` line. A client that reconnects sends the last id it saw as Last-Event-ID (or `after`) and gets only what came after it: no gap, no repeat.',
    params: JobParams,
    query: z.object({
      after: z
        .string()
        .regex(/^\d+-\d+$/)
        .optional()
        .describe('Only events after this event id.'),
    }),
    answers: {
      200: {
        description: 'The events after `after` (all by default), oldest first.',
        schema: z.array(JobEventSchema),
        alternatives: {
          [SSE_CONTENT_TYPE]: {
            description: `Server-Sent Events: \`id:\` event id, \`event:\` its type, \`data:\` a JobEvent. ${RECONNECT_NOTE}`,
          },
        },
      },
    },
    problems: [404],
    async handle({ params, query, headers, request, ctx }) {
      const id = params.id as string;
      const { job, userErrors } = await visibleJob(ctx, id);
      if (userErrors.length) return refusedReply(userErrors, { id: 'id' });
      if (!job) return noJob(id);
      const lastEventId = headers.get('last-event-id');
      const after = (query.after as string | undefined) ?? (lastEventId && /^\d+-\d+$/.test(lastEventId) ? lastEventId : undefined);
      if (wantsEventStream(headers)) return eventStream(request, (signal) => ownLog(ctx.hub.follow(id, signal, after)));
      return { status: 200, body: (await ctx.store.events(id, after)).map(jobEventView) };
    },
  },
  {
    operationId: 'streamEvents',
    method: 'get',
    path: '/events',
    tag: TAG,
    summary: 'Events of every job, as Server-Sent Events, in the order they happened: for notification pipelines.',
    description:
      "Each event's `id:` is its `sequence` in the fleet log. A client that reconnects (to any gateway) sends the last one as Last-Event-ID (or `since`) and gets exactly what came after it. Without either, the stream starts now. Filters combine (all must match).",
    query: z.object({
      since: z
        .string()
        .regex(/^\d+-\d+$/)
        .optional()
        .describe('Resume after this sequence.'),
      types: QueryList.pipe(z.array(z.enum(JOB_EVENT_TYPES)))
        .optional()
        .describe('Only these event types (e.g. SUCCEEDED,FAILED).'),
      hypervisor: z.string().max(63).optional(),
      kind: JobKindSchema.optional(),
      ticketRef: z.string().max(128).optional().describe('Only events of jobs whose ticketRef starts with this.'),
    }),
    answers: {
      200: {
        description: 'An endless stream (until the client disconnects).',
        alternatives: { [SSE_CONTENT_TYPE]: { description: `\`id:\` sequence, \`event:\` type, \`data:\` a JobEvent. ${RECONNECT_NOTE}` } },
      },
    },
    problems: [],
    async handle({ query, headers, request, ctx }) {
      const q = query as { since?: string; types?: string[]; hypervisor?: string; kind?: string; ticketRef?: string };
      const lastEventId = headers.get('last-event-id');
      const since = q.since ?? (lastEventId && /^\d+-\d+$/.test(lastEventId) ? lastEventId : null);
      const filter = {
        types: q.types as JobEventType[] | undefined,
        kind: q.kind as JobKind | undefined,
        ticketRefPrefix: q.ticketRef,
        hypervisor: q.hypervisor,
      };
      const scope = await ctx.scope();
      return eventStream(
        request,
        (signal) => {
          const events = filteredJobEvents(ctx, filter, since, scope);
          signal.addEventListener('abort', () => void events.return(undefined), { once: true });
          return events;
        },
        (e) => e.sequence ?? e.id,
      );
    },
  },
);

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../src/errors/codes.ts';
import type { UserError } from '../../src/changes/user-errors.ts';
import { cancelJob } from '../../src/requests/job-requests.ts';
import { filteredJobEvents } from '../../src/jobs/event-filter.ts';
import type { JobRecord } from '../../src/jobs/job-types.ts';
import { builder } from '../builder.ts';
import { JobEventRef, JobEventTypeEnum, JobRef, jobKey } from '../types/job.ts';
import { UserErrorRef } from '../types/user-error.ts';
import { JobKindEnum } from '../types/vocabularies.ts';

const CancelJobPayload = builder.objectRef<{ job: JobRecord | null; userErrors: UserError[] }>('CancelJobPayload').implement({
  fields: (t) => ({
    job: t.field({
      type: JobRef,
      nullable: true,
      description: 'CANCELLED if it had not started; else still RUNNING with cancelRequested.',
      resolve: (p) => p.job,
    }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('cancelJob', (t) =>
  t.field({
    type: CancelJobPayload,
    description:
      'Cancels a job. A queued job is removed at once; a running one stops before its next step (steps already applied stay applied; a failure, not a cancel, triggers rollback).',
    args: {
      input: t.arg({ type: builder.inputType('CancelJobInput', { fields: (f) => ({ id: f.id({ required: true }) }) }), required: true }),
    },
    resolve: (_root, { input }, ctx) => cancelJob(ctx, jobKey(String(input.id)), ctx),
  }),
);

const JobEventFilter = builder.inputType('JobEventFilter', {
  fields: (t) => ({
    hypervisor: t.string({ description: 'Events of jobs touching this hypervisor.' }),
    kind: t.field({ type: JobKindEnum, description: 'e.g. setPortVlans.' }),
    ticketRef: t.string(),
    types: t.field({ type: [JobEventTypeEnum], description: 'Only these event types (e.g. SUCCEEDED, FAILED for a notifier).' }),
  }),
});

builder.subscriptionField('jobEvents', (t) =>
  t.field({
    type: JobEventRef,
    description:
      'Events of all jobs matching the filter, from every worker, in the order they happened, until the client disconnects. With `since` (the `sequence` of the last event a client saw), the events after it come first: a notifier that reconnects, to any gateway, misses nothing and sees nothing twice.',
    args: {
      filter: t.arg({ type: JobEventFilter }),
      since: t.arg.string({ description: 'Resume after this event (its `sequence`); default: from now on.' }),
    },
    subscribe: async (_root, { filter, since }, ctx) => {
      if (since != null && !/^\d+-\d+$/.test(since))
        throw new GraphQLError('since: not an event sequence (e.g. 1767225600000-0)', { extensions: { code: ErrorCode.INVALID_INPUT } });
      return filteredJobEvents(ctx, { ...filter }, since ?? null, await ctx.scope());
    },
    resolve: (e) => e,
  }),
);

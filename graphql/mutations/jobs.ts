import { Repeater } from '@repeaterjs/repeater';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../src/errors/codes.ts';
import type { UserError } from '../../src/changes/user-errors.ts';
import { cancelJob } from '../../src/requests/job-requests.ts';
import { isTerminal, type JobEvent, type JobRecord } from '../../src/jobs/job-types.ts';
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
      const jobs = new Map<string, JobRecord | null>();
      const jobOf = async (e: JobEvent) => {
        if (!jobs.has(e.jobId)) jobs.set(e.jobId, await ctx.store.get(e.jobId));
        return jobs.get(e.jobId) ?? null;
      };
      const types = filter?.types ? new Set<string>(filter.types) : null;
      if (since != null && !/^\d+-\d+$/.test(since))
        throw new GraphQLError('since: not an event sequence (e.g. 1767225600000-0)', { extensions: { code: ErrorCode.INVALID_INPUT } });
      // Events carry their job's kind and ticket; only the hypervisor filter needs the job's hosts.
      const source = ctx.hub.all(
        (ev) =>
          (!types || types.has(ev.type)) &&
          (!filter?.kind || ev.kind === filter.kind) &&
          (!filter?.ticketRef || ev.ticketRef === filter.ticketRef),
        since ?? null,
      );
      // The hypervisor filter runs here (it reads the job once); `stop` ends the source when the client leaves.
      return new Repeater<JobEvent>(async (push, stop) => {
        void stop.then(() => source.return());
        for await (const e of source) {
          if (filter?.hypervisor && e.host !== filter.hypervisor) {
            const j = await jobOf(e);
            if (!j?.hypervisors.includes(filter.hypervisor)) continue;
          }
          if (isTerminal(e.state)) jobs.delete(e.jobId);
          await push(e);
        }
        stop();
      });
    },
    resolve: (e) => e,
  }),
);

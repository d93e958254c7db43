import type { JobEvent, JobProgress } from './job-types.ts';

/**
 * A job event as every outside reader sees it: the REST API (rest/schemas/job.ts JobEventSchema
 * describes it), SSE streams and webhook deliveries. `hypervisor` is the host the event is about;
 * `progress` adds a percentage.
 */
export function publicJobEvent(e: JobEvent) {
  return {
    id: e.id,
    sequence: e.sequence ?? null,
    jobId: e.jobId,
    kind: e.kind,
    ticketRef: e.ticketRef ?? null,
    type: e.type,
    at: e.at,
    state: e.state,
    hypervisor: e.host,
    step: e.step ? { ...e.step, warning: e.step.warning ?? null } : null,
    progress: { ...e.progress, percent: progressPercent(e.progress) },
    message: e.message,
    error: e.error,
  };
}

export type PublicJobEvent = ReturnType<typeof publicJobEvent>;

export const progressPercent = (p: Pick<JobProgress, 'done' | 'total'>) => (p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total));

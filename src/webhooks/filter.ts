import type { JobKind } from '../jobs/job-kinds.ts';
import type { JobEvent, JobEventType } from '../jobs/job-types.ts';

/**
 * Which job events an endpoint gets. Every part that is set must match (an empty list or a null
 * prefix matches everything); so an empty filter sends every event.
 */
export interface WebhookFilter {
  /** Only these job event types (e.g. SUCCEEDED, FAILED). */
  eventTypes: JobEventType[];
  /**
   * Only events about these hypervisors: a host or step event names its host; a job-level event
   * (QUEUED, STARTED, SUCCEEDED, …) matches when the job touches one of them.
   */
  hypervisors: string[];
  /** Only jobs of these kinds. */
  kinds: JobKind[];
  /** Only jobs whose ticketRef starts with this (jobs without one never match). */
  ticketRefPrefix: string | null;
}

export const EMPTY_FILTER: WebhookFilter = { eventTypes: [], hypervisors: [], kinds: [], ticketRefPrefix: null };

/** Whether matching `event` needs the hypervisors of its job (a job-level event and a hypervisor filter). */
export function needsJobHosts(filter: WebhookFilter, event: Pick<JobEvent, 'host'>): boolean {
  return filter.hypervisors.length > 0 && !event.host;
}

/**
 * Whether the filter takes the event. `jobHosts` is the job's hypervisors, needed only when
 * needsJobHosts says so (null when unknown: the job record expired, so the event does not match).
 */
export function matchesFilter(
  filter: WebhookFilter,
  event: Pick<JobEvent, 'type' | 'kind' | 'ticketRef' | 'host'>,
  jobHosts: readonly string[] | null = null,
): boolean {
  if (filter.eventTypes.length > 0 && !filter.eventTypes.includes(event.type)) return false;
  if (filter.kinds.length > 0 && !filter.kinds.includes(event.kind)) return false;
  if (filter.ticketRefPrefix !== null && (event.ticketRef == null || !event.ticketRef.startsWith(filter.ticketRefPrefix))) return false;
  if (filter.hypervisors.length > 0) {
    const hosts = event.host ? [event.host] : (jobHosts ?? []);
    if (!hosts.some((h) => filter.hypervisors.includes(h))) return false;
  }
  return true;
}

import { Repeater } from '@repeaterjs/repeater';
import { EVERY_HOST, inScope, type Scope } from '../auth/scope.ts';
import type { JobEventHub } from './job-event-hub.ts';
import type { JobKind } from './job-kinds.ts';
import type { JobStore } from './job-store.ts';
import { isTerminal, type JobEvent, type JobEventType } from './job-types.ts';

/** What a client following every job's events asks for; every part that is set must match. */
export interface JobEventFilter {
  types?: readonly JobEventType[] | null;
  kind?: JobKind | null;
  /** The job's ticket, exactly. */
  ticketRef?: string | null;
  /** The job's ticket starts with this (jobs without one never match). */
  ticketRefPrefix?: string | null;
  /** Events of jobs that touch this hypervisor. */
  hypervisor?: string | null;
}

/** The parts of the filter an event answers by itself (it carries its job's kind and ticket). */
function matchesOwnFields(f: JobEventFilter, e: JobEvent): boolean {
  return (
    (!f.types?.length || f.types.includes(e.type)) &&
    (!f.kind || e.kind === f.kind) &&
    (!f.ticketRef || e.ticketRef === f.ticketRef) &&
    (!f.ticketRefPrefix || (e.ticketRef ?? '').startsWith(f.ticketRefPrefix))
  );
}

/**
 * The fleet's events after `since` (from now on without it) that the filter takes, as GraphQL's
 * jobEvents and REST's /api/v1/events stream them. The hypervisor part needs the job's hosts
 * unless the event names that host itself: read once per job, forgotten when the job ends.
 * A caller limited to host groups gets the events of jobs whose every host is in its scope only
 * (that needs the job's hosts too). Returning the Repeater ends the stream at once.
 */
export function filteredJobEvents(
  deps: { hub: JobEventHub; store: JobStore },
  filter: JobEventFilter,
  since: string | null,
  scope: Scope = EVERY_HOST,
): Repeater<JobEvent> {
  const source = deps.hub.all((e) => matchesOwnFields(filter, e), since);
  return new Repeater<JobEvent>(async (push, stop) => {
    void stop.then(() => source.return());
    const hostsOf = new Map<string, readonly string[] | null>();
    for await (const e of source) {
      const hosts = async () => {
        if (!hostsOf.has(e.jobId)) hostsOf.set(e.jobId, (await deps.store.get(e.jobId))?.hypervisors ?? null);
        return hostsOf.get(e.jobId) ?? null;
      };
      let keep = true;
      if (!scope.all) keep = (await hosts())?.every((h) => inScope(scope, h)) ?? false;
      if (keep && filter.hypervisor && e.host !== filter.hypervisor) keep = (await hosts())?.includes(filter.hypervisor) ?? false;
      if (isTerminal(e.state)) hostsOf.delete(e.jobId);
      if (keep) await push(e);
    }
    stop();
  });
}

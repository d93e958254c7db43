import { hostDenials, isScoped, notVisible, roleDenials } from '../auth/authorize.ts';
import type { Caller } from '../auth/caller.ts';
import { roleAllows, type Role } from '../auth/roles.ts';
import { inScope, type Scope } from '../auth/scope.ts';
import { inputError, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import type { SubmitMeta } from '../jobs/submit-change.ts';

/*
 * Who asks, as every request module sees it (the request context is one): the caller and the
 * hypervisors it may touch. The checks of src/auth/authorize.ts, put the way requests use them.
 */

export interface Requester {
  caller: Caller;
  scope(): Promise<Scope>;
}

/** The job record's "who asked", from the caller. */
export const submittedBy = (r: Requester, ticketRef: string | null | undefined): SubmitMeta => ({
  requestedBy: r.caller.name,
  requestedById: r.caller.kind === 'token' || r.caller.kind === 'oidc' ? r.caller.id : null,
  ticketRef: ticketRef ?? null,
});

/** Role first, then every named host in scope: the denials (none: allowed). */
export async function allowed(
  r: Requester,
  needed: Role,
  what: string,
  named: readonly { field: string | readonly string[]; host: string }[],
): Promise<UserError[]> {
  const denied = roleDenials(r.caller, needed, what);
  if (denied.length) return denied;
  return hostDenials(await r.scope(), named);
}

/** The named hosts of a request, by the field that names each. */
export function namedHosts(data: { hypervisor?: string; hypervisors?: readonly string[] }): { field: string | string[]; host: string }[] {
  if (data.hypervisor !== undefined) return [{ field: 'hypervisor', host: data.hypervisor }];
  return (data.hypervisors ?? []).map((host, i) => ({ field: ['hypervisors', String(i)], host }));
}

/** Whether the caller may see a job: every host it touches is in the caller's scope. */
export function jobVisible(scope: Scope, job: Pick<JobRecord, 'hypervisors'>): boolean {
  return job.hypervisors.every((h) => inScope(scope, h));
}

/** "No such job" for a job the caller may not see, or that does not exist: the same answer for a caller limited to host groups. */
export function noJob(r: Requester, id: string, field: string | string[] = 'id'): UserError {
  return isScoped(r.caller)
    ? inputError(field, ErrorCode.FORBIDDEN, notVisible('job', id))
    : inputError(field, ErrorCode.NOT_FOUND, `no job ${id}`);
}

/** Whether the caller may cancel the job: an admin any it sees, an operator its own. */
export function mayCancel(r: Requester, job: Pick<JobRecord, 'requestedById'>): boolean {
  if (roleAllows(r.caller.role, 'admin')) return true;
  return roleAllows(r.caller.role, 'operator') && job.requestedById === r.caller.id;
}

/** A job by id as the caller may see it: `job` null when there is none (for a caller limited to host groups: FORBIDDEN, as one it may not see). */
export async function visibleJob(
  r: Requester & { store: { get(id: string): Promise<JobRecord | null> } },
  id: string,
  field: string | string[] = 'id',
): Promise<{ job: JobRecord | null; userErrors: UserError[] }> {
  const job = await r.store.get(id);
  if (job && jobVisible(await r.scope(), job)) return { job, userErrors: [] };
  return isScoped(r.caller) ? { job: null, userErrors: [noJob(r, id, field)] } : { job: null, userErrors: [] };
}

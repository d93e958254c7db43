import { notVisible, roleDenials } from '../auth/authorize.ts';
import { inScope } from '../auth/scope.ts';
import { inputError, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { HostView } from '../hosts/host-view.ts';
import type { RequestContext } from './request-context.ts';

/*
 * Reads of hosts as both APIs take them: a host outside the caller's scope is FORBIDDEN whether
 * it is registered or not (a team learns nothing about another's hosts), and a read that
 * refreshes first queues a job, so it needs the operator role.
 */

/** A host by name, read first when `refresh` says so; `view` null when it is not registered. */
export async function visibleHost(
  ctx: RequestContext,
  name: string,
  refresh = false,
  field = 'name',
): Promise<{ view: HostView | null; userErrors: UserError[] }> {
  if (!inScope(await ctx.scope(), name))
    return { view: null, userErrors: [inputError(field, ErrorCode.FORBIDDEN, notVisible('hypervisor', name))] };
  if (refresh) {
    const denied = roleDenials(ctx.caller, 'operator', 'reading a host afresh (refresh: true)');
    if (denied.length) return { view: null, userErrors: denied };
    if (await ctx.hostView(name)) await ctx.refresh([name]);
  }
  return { view: (await ctx.hostView(name)) ?? null, userErrors: [] };
}

/** Reads every host in the caller's scope afresh (operator); the denial when its role does not allow it. */
export async function refreshVisibleFleet(ctx: RequestContext): Promise<UserError[]> {
  const denied = roleDenials(ctx.caller, 'operator', 'reading hosts afresh (refresh: true)');
  if (denied.length) return denied;
  const names = (await ctx.fleet()).map((v) => v.host.name);
  if (names.length) await ctx.refresh(names);
  return [];
}

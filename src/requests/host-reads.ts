import { notVisible, roleDenials } from '../auth/authorize.ts';
import { inScope } from '../auth/scope.ts';
import { inputError, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { HostView } from '../hosts/host-view.ts';
import type { RequestContext } from './request-context.ts';

/*
 * Reads of hosts as both APIs take them: a host outside the caller's scope is FORBIDDEN whether
 * it is registered or not (a team learns nothing about another's hosts), and a read that
 * refreshes first queues a job, so it needs the operator role and counts against the caller's
 * change limit (the expensive read: SSH to every host it names).
 */

/** The denial of a refresh over the caller's change limit (none: it may go on). */
async function refreshLimited(ctx: RequestContext): Promise<UserError[]> {
  const limited = await ctx.rates.take('changes', ctx.caller.id);
  if (!limited) return [];
  return [
    {
      field: [],
      code: ErrorCode.RATE_LIMITED,
      message: `too many changes by this token this minute (a read with refresh reads the hosts: it counts as one); retry in ${limited.retryAfterSeconds} s`,
    },
  ];
}

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
    const limited = await refreshLimited(ctx);
    if (limited.length) return { view: null, userErrors: limited };
    if (await ctx.hostView(name)) await ctx.refresh([name]);
  }
  return { view: (await ctx.hostView(name)) ?? null, userErrors: [] };
}

/** Reads every host in the caller's scope afresh (operator); the denial when its role does not allow it. */
export async function refreshVisibleFleet(ctx: RequestContext): Promise<UserError[]> {
  const denied = roleDenials(ctx.caller, 'operator', 'reading hosts afresh (refresh: true)');
  if (denied.length) return denied;
  const limited = await refreshLimited(ctx);
  if (limited.length) return limited;
  const names = (await ctx.fleet()).map((v) => v.host.name);
  if (names.length) await ctx.refresh(names);
  return [];
}

import { inputError, type UserError, userErrorsFromZod } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import { isScoped, notVisible, roleDenials } from './authorize.ts';
import type { Caller } from './caller.ts';
import type { HostGroup, HostGroupStore } from './host-group-store.ts';
import { HostGroupName, PutHostGroupInput } from './inputs.ts';

/*
 * Host group administration: admins of every host only (an admin limited to groups could
 * otherwise widen its own). Reading: everyone, but a caller limited to groups sees only those.
 */

export interface HostGroupRequestDeps {
  auth: { hostGroups: HostGroupStore };
}

const whole = (caller: Caller, what: string): UserError[] => {
  const denied = roleDenials(caller, 'admin', what);
  if (denied.length) return denied;
  return isScoped(caller)
    ? [{ field: [], code: ErrorCode.FORBIDDEN, message: `${what} needs an admin token of every host (this one is limited to host groups)` }]
    : [];
};

function checkedName(name: string): UserError[] {
  const parsed = HostGroupName.safeParse(name);
  return parsed.success ? [] : [inputError('name', ErrorCode.INVALID_INPUT, parsed.error.issues[0]!.message)];
}

/** Creates or replaces a host group. */
export async function putHostGroup(
  deps: HostGroupRequestDeps,
  caller: Caller,
  name: string,
  input: unknown,
): Promise<{ group: HostGroup | null; created: boolean; userErrors: UserError[] }> {
  const refused = (userErrors: UserError[]) => ({ group: null, created: false, userErrors });
  const denied = whole(caller, 'changing host groups');
  if (denied.length) return refused(denied);
  const bad = checkedName(name);
  if (bad.length) return refused(bad);
  const parsed = PutHostGroupInput.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const before = await deps.auth.hostGroups.get(name);
  const now = new Date().toISOString();
  const group: HostGroup = {
    name,
    description: parsed.data.description,
    hypervisors: [...new Set(parsed.data.hypervisors)].sort(),
    createdAt: before?.createdAt ?? now,
    updatedAt: now,
  };
  await deps.auth.hostGroups.put(group);
  return { group, created: before === null, userErrors: [] };
}

export async function deleteHostGroup(
  deps: HostGroupRequestDeps,
  caller: Caller,
  name: string,
): Promise<{ group: HostGroup | null; userErrors: UserError[] }> {
  const denied = whole(caller, 'deleting host groups');
  if (denied.length) return { group: null, userErrors: denied };
  const group = await deps.auth.hostGroups.get(name);
  if (!group || !(await deps.auth.hostGroups.delete(name)))
    return { group: null, userErrors: [inputError('name', ErrorCode.NOT_FOUND, `no host group ${name}`)] };
  return { group, userErrors: [] };
}

/** The groups a caller may see: every one, or its own. */
export async function listHostGroups(deps: HostGroupRequestDeps, caller: Caller): Promise<HostGroup[]> {
  const all = await deps.auth.hostGroups.list();
  return isScoped(caller) ? all.filter((g) => caller.hostGroups!.includes(g.name)) : all;
}

export async function getHostGroup(
  deps: HostGroupRequestDeps,
  caller: Caller,
  name: string,
): Promise<{ group: HostGroup | null; userErrors: UserError[] }> {
  const visible = !isScoped(caller) || caller.hostGroups!.includes(name);
  const group = visible ? await deps.auth.hostGroups.get(name) : null;
  if (group) return { group, userErrors: [] };
  return {
    group: null,
    userErrors: [inputError('name', isScoped(caller) ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND, notVisible('host group', name))],
  };
}

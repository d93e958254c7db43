import type { UserError } from '../changes/user-errors.ts';
import { inputError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { Caller } from './caller.ts';
import { roleAllows, type Role } from './roles.ts';
import { outOfScope, type Scope } from './scope.ts';

/*
 * Authorization decisions as userErrors (FORBIDDEN), so refusals take the same shape as every
 * other refusal in both APIs. A host outside the caller's scope is named as "not found or not
 * allowed" whether it exists or not: the answer never tells a team about another team's hosts.
 */

/** Empty when the caller's role allows `what`; otherwise the denial. */
export function roleDenials(caller: Caller, needed: Role, what: string): UserError[] {
  if (roleAllows(caller.role, needed)) return [];
  return [{ field: [], code: ErrorCode.FORBIDDEN, message: `${what} needs the ${needed} role; this token's is ${caller.role}` }];
}

/** Whether the caller is limited to host groups (admin work on tokens and groups needs every host). */
export const isScoped = (caller: Caller) => caller.hostGroups !== null;

/**
 * Whether an admin manages an object limited to `groups` (a token, a webhook's owner): an admin
 * of every host manages all; one limited to host groups only objects limited to some of its own.
 */
export function manages(caller: Caller, groups: readonly string[] | null | undefined): boolean {
  if (!isScoped(caller)) return true;
  return groups?.every((g) => caller.hostGroups!.includes(g)) ?? false;
}

/** A denial for each named host outside the scope, at the field that names it. */
export function hostDenials(scope: Scope, named: readonly { field: string | readonly string[]; host: string }[]): UserError[] {
  const out = new Set(
    outOfScope(
      scope,
      named.map((n) => n.host),
    ),
  );
  return named.filter((n) => out.has(n.host)).map((n) => inputError(n.field, ErrorCode.FORBIDDEN, notVisible('hypervisor', n.host)));
}

/** The words of every denial about an object. */
export const notVisible = (what: string, name: string) => `${what} ${name} does not exist or is not allowed to this token`;

import type { Caller } from './caller.ts';
import type { HostGroupStore } from './host-group-store.ts';

/**
 * The hypervisors a caller may see and touch: all of them, or the union of its host groups'
 * (a group deleted since the token was made adds nothing: fail closed).
 */
export type Scope = { readonly all: true } | { readonly all: false; readonly hosts: ReadonlySet<string> };

export const EVERY_HOST: Scope = Object.freeze({ all: true });

export function scopeOf(caller: Caller, groups: Pick<HostGroupStore, 'many'>): Promise<Scope> {
  return scopeOfGroups(caller.hostGroups, groups);
}

/** The hypervisors of these host groups (null: every host), e.g. a webhook owner's. */
export async function scopeOfGroups(hostGroups: readonly string[] | null, groups: Pick<HostGroupStore, 'many'>): Promise<Scope> {
  if (hostGroups === null) return EVERY_HOST;
  const found = await groups.many(hostGroups);
  return { all: false, hosts: new Set(found.flatMap((g) => g.hypervisors)) };
}

export function inScope(scope: Scope, host: string): boolean {
  return scope.all || scope.hosts.has(host);
}

/** The hosts of `hosts` outside the scope (none: the caller may touch them all). */
export function outOfScope(scope: Scope, hosts: Iterable<string>): string[] {
  if (scope.all) return [];
  return [...new Set(hosts)].filter((h) => !scope.hosts.has(h));
}

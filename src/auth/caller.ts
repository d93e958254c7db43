import type { Role } from './roles.ts';

/**
 * Who makes a request, as authentication found it: a token's name, role and host groups.
 * `hostGroups` null means every host; a list limits the caller to those groups' hypervisors.
 */
export interface Caller {
  kind: 'token' | 'oidc' | 'anonymous' | 'system';
  /** The token's id; oidc:<sub> for an identity provider's caller; 'anonymous' when authentication is off. */
  id: string;
  /** The token's name: what jobs record as requestedBy. */
  name: string;
  role: Role;
  hostGroups: string[] | null;
}

/** tl_<id> of the caller's API token; null for a caller of an identity provider, Trunkline itself or no authentication. */
export const tokenIdOf = (caller: Caller): string | null => (caller.kind === 'token' ? `tl_${caller.id}` : null);

/** The caller of every request when TRUNKLINE_AUTH_MODE=off (loopback only): an admin of everything. */
export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous', id: 'anonymous', name: 'anonymous', role: 'admin', hostGroups: null });

/** Trunkline itself, on the machine it runs on (the token command): an admin of everything, never a request's caller. */
export const SYSTEM: Caller = Object.freeze({ kind: 'system', id: 'trunkline', name: 'trunkline', role: 'admin', hostGroups: null });

import { type Caller, tokenIdOf } from '../auth/caller.ts';
import type { Role } from '../auth/roles.ts';
import type { ErrorCode } from '../errors/codes.ts';

/**
 * One record of the audit log: who asked for what, from where, and what came of it. Every
 * change request (accepted, dry run, refused), every denial (FORBIDDEN) and refused credential
 * (UNAUTHENTICATED), every token, host-group, hypervisor and webhook administration.
 */
export const AUDIT_OUTCOMES = ['ACCEPTED', 'DRY_RUN', 'DONE', 'REFUSED', 'DENIED', 'UNAUTHENTICATED', 'FAILED'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditActor {
  name: string;
  /** tl_<id> of the caller's token; null for Trunkline itself or when authentication is off. */
  tokenId: string | null;
  role: Role;
  hostGroups: string[] | null;
}

export interface AuditEntry {
  /** Its position in the log (a Redis stream id): the cursor of lists and exports. */
  id: string;
  at: string;
  /** Where the request came in. */
  api: 'graphql' | 'rest' | 'command' | 'gateway';
  /** The GraphQL field (createBridge), the REST operationId (createBridge), or METHOD path for a refused credential. */
  operation: string;
  outcome: AuditOutcome;
  code: ErrorCode | null;
  message: string | null;
  /** Null when no credential was accepted. */
  actor: AuditActor | null;
  /** The client's address as the gateway saw it. */
  source: string | null;
  /** The request's input (arguments, body, parameters), secrets redacted. */
  input: unknown;
  ticketRef: string | null;
  idempotencyKey: string | null;
  jobId: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { at?: string };

export function actorOf(caller: Caller): AuditActor {
  return {
    name: caller.name,
    tokenId: tokenIdOf(caller),
    role: caller.role,
    hostGroups: caller.hostGroups,
  };
}

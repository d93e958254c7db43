import { z } from 'zod';
import { type Caller, tokenIdOf } from '../../src/auth/caller.ts';
import type { HostGroup } from '../../src/auth/host-group-store.ts';
import { ROLES } from '../../src/auth/roles.ts';
import type { ApiToken } from '../../src/auth/token-store.ts';
import { DateTime } from './common.ts';

/* The REST representation of the caller, API tokens and host groups (the same fields as GraphQL's). */

export const RoleSchema = z.enum(ROLES).meta({
  id: 'Role',
  description:
    'viewer reads; operator also changes hosts and cancels its own jobs; admin also manages hosts, tokens, host groups, webhooks and the audit log.',
});

const HostGroups = z.array(z.string()).nullable().describe('The host groups it is limited to; null: every host.');

export const CallerSchema = z
  .object({
    name: z.string().describe("The token's name: what this caller's jobs record as requestedBy."),
    role: RoleSchema,
    hostGroups: HostGroups,
    tokenId: z.string().nullable().describe('tl_<id> of its token (null when authentication is off).'),
  })
  .meta({ id: 'Caller', description: 'Who sent the request, as authentication found it.' });

export const ApiTokenSchema = z
  .object({
    id: z.string().describe('tl_<id>: the start of the token.'),
    name: z.string(),
    role: RoleSchema,
    hostGroups: HostGroups,
    createdAt: DateTime,
    createdBy: z.string(),
    expiresAt: DateTime.nullable(),
    lastUsedAt: DateTime.nullable().describe('About when it was last used (recorded at most once a minute).'),
    revokedAt: DateTime.nullable(),
  })
  .meta({ id: 'ApiToken', description: 'An API token (never its secret).' });

export const CreatedApiTokenSchema = z
  .object({
    token: ApiTokenSchema,
    secret: z.string().describe('The token, tl_<id>_<secret>, shown this once: send it as Authorization: Bearer.'),
  })
  .meta({ id: 'CreatedApiToken' });

export const HostGroupSchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    hypervisors: z.array(z.string()).describe('Registered or not: scope is about names.'),
    createdAt: DateTime,
    updatedAt: DateTime,
  })
  .meta({ id: 'HostGroup', description: 'A named set of hypervisors that tokens can be limited to.' });

export const callerView = (c: Caller) => ({
  name: c.name,
  role: c.role,
  hostGroups: c.hostGroups,
  tokenId: tokenIdOf(c),
});

export const apiTokenView = (t: ApiToken) => ({
  id: `tl_${t.id}`,
  name: t.name,
  role: t.role,
  hostGroups: t.hostGroups,
  createdAt: t.createdAt,
  createdBy: t.createdBy,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
});

export const hostGroupView = (g: HostGroup) => ({ ...g });

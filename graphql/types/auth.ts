import { type Caller, tokenIdOf } from '../../src/auth/caller.ts';
import type { HostGroup } from '../../src/auth/host-group-store.ts';
import { getHostGroup, listHostGroups } from '../../src/auth/host-group-requests.ts';
import { ROLES } from '../../src/auth/roles.ts';
import { getApiToken, listApiTokens } from '../../src/auth/token-requests.ts';
import type { ApiToken } from '../../src/auth/token-store.ts';
import { refuse } from '../authorization.ts';
import { builder } from '../builder.ts';
import { toGlobalId } from '../global-id.ts';
import { NodeRef, registerNodeLoader } from './node.ts';

/*
 * Who may call (docs/security.md): the caller itself, API tokens (admins), host groups. The
 * same requests as REST's /api/v1/tokens and /api/v1/host-groups (src/auth/*-requests.ts).
 */

export const RoleEnum = builder.enumType('Role', {
  description:
    'viewer reads; operator also changes hosts and cancels its own jobs; admin also manages hosts, tokens, host groups, webhooks and the audit log.',
  values: Object.fromEntries(ROLES.map((r) => [r.toUpperCase(), { value: r }])) as Record<
    Uppercase<(typeof ROLES)[number]>,
    { value: (typeof ROLES)[number] }
  >,
});

export const CallerRef = builder.objectRef<Caller>('Caller').implement({
  description: 'Who sent this request, as authentication found it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: "The token's name: what this caller's jobs record as requestedBy." }),
    role: t.field({ type: RoleEnum, resolve: (c) => c.role }),
    hostGroups: t.exposeStringList('hostGroups', { nullable: true, description: 'The host groups it is limited to; null: every host.' }),
    tokenId: t.string({
      nullable: true,
      description: 'tl_<id> of its token (null when authentication is off).',
      resolve: (c) => tokenIdOf(c),
    }),
  }),
});

export const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  description: 'An API token (never its secret: createApiToken answers that once).',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'role' in v && 'createdBy' in v && 'revokedAt' in v,
  fields: (t) => ({
    id: t.id({ resolve: (k) => toGlobalId('ApiToken', k.id) }),
    tokenId: t.string({ description: 'tl_<id>: the start of the token, as REST names it.', resolve: (k) => `tl_${k.id}` }),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
    hostGroups: t.exposeStringList('hostGroups', { nullable: true, description: 'The host groups it is limited to; null: every host.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.exposeString('createdBy'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'About when it was last used (recorded at most once a minute).',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

registerNodeLoader('ApiToken', async (key, ctx) => (await getApiToken(ctx, ctx.caller, key)).token);

export const HostGroupRef = builder.objectRef<HostGroup>('HostGroup').implement({
  description: 'A named set of hypervisors that tokens can be limited to.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    hypervisors: t.exposeStringList('hypervisors', { description: 'Registered or not: scope is about names.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({ type: CallerRef, description: 'Who this request is from.', resolve: (_root, _args, ctx) => ctx.caller }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    description: 'The API tokens this caller manages (admins), oldest first, revoked ones too.',
    resolve: async (_root, _args, ctx) => {
      const r = await listApiTokens(ctx, ctx.caller);
      return r.userErrors.length ? refuse(r.userErrors) : r.tokens;
    },
  }),
  hostGroups: t.field({
    type: [HostGroupRef],
    description: 'The host groups this caller may see: every one, or those its token is limited to.',
    resolve: (_root, _args, ctx) => listHostGroups(ctx, ctx.caller),
  }),
  hostGroup: t.field({
    type: HostGroupRef,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, { name }, ctx) => {
      const r = await getHostGroup(ctx, ctx.caller, name);
      return r.userErrors.length ? refuse(r.userErrors) : r.group;
    },
  }),
}));

import type { UserError } from '../../src/changes/user-errors.ts';
import type { HostGroup } from '../../src/auth/host-group-store.ts';
import { deleteHostGroup, putHostGroup } from '../../src/auth/host-group-requests.ts';
import { createApiToken, revokeApiToken } from '../../src/auth/token-requests.ts';
import type { ApiToken } from '../../src/auth/token-store.ts';
import { builder } from '../builder.ts';
import { fromGlobalId } from '../global-id.ts';
import { ApiTokenRef, HostGroupRef, RoleEnum } from '../types/auth.ts';
import { UserErrorRef } from '../types/user-error.ts';

/* Token and host-group administration (admins): the requests of src/auth/ (the same as REST's). */

/** A token's key from its global id, tl_<id> or the bare id. */
const tokenKey = (id: string) => {
  const decoded = fromGlobalId(id);
  return decoded?.type === 'ApiToken' ? decoded.key : id;
};

const CreateApiTokenPayload = builder
  .objectRef<{ token: ApiToken | null; secret: string | null; userErrors: UserError[] }>('CreateApiTokenPayload')
  .implement({
    fields: (t) => ({
      token: t.field({ type: ApiTokenRef, nullable: true, resolve: (p) => p.token }),
      secret: t.exposeString('secret', {
        nullable: true,
        description: 'The token (tl_<id>_<secret>), answered this once: send it as Authorization: Bearer.',
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreateApiTokenPayload,
    description: 'Creates an API token (admins). An admin limited to host groups can only make tokens limited to some of its own.',
    args: {
      input: t.arg({
        type: builder.inputType('CreateApiTokenInput', {
          fields: (f) => ({
            name: f.string({ required: true, description: 'What it is for; its jobs record it as requestedBy.' }),
            role: f.field({ type: RoleEnum, required: true }),
            hostGroups: f.stringList({ description: 'Limit it to these host groups; left out: every host.' }),
            expiresAt: f.field({ type: 'DateTime', description: 'When it stops working; left out: never.' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => createApiToken(ctx, ctx.caller, input),
  }),
);

const TokenPayload = builder.objectRef<{ token: ApiToken | null; userErrors: UserError[] }>('RevokeApiTokenPayload').implement({
  fields: (t) => ({
    token: t.field({ type: ApiTokenRef, nullable: true, resolve: (p) => p.token }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('revokeApiToken', (t) =>
  t.field({
    type: TokenPayload,
    description: 'Revokes an API token: refused on every gateway within about a second. It stays listed, with revokedAt.',
    args: {
      input: t.arg({
        type: builder.inputType('RevokeApiTokenInput', {
          fields: (f) => ({ id: f.id({ required: true, description: 'Its global id, or tl_<id>.' }) }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => revokeApiToken(ctx, ctx.caller, tokenKey(String(input.id))),
  }),
);

const HostGroupPayload = builder.objectRef<{ group: HostGroup | null; userErrors: UserError[] }>('HostGroupPayload').implement({
  fields: (t) => ({
    group: t.field({ type: HostGroupRef, nullable: true, resolve: (p) => p.group }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('putHostGroup', (t) =>
  t.field({
    type: HostGroupPayload,
    description: 'Creates or replaces a host group (admins of every host).',
    args: {
      input: t.arg({
        type: builder.inputType('PutHostGroupInput', {
          fields: (f) => ({
            name: f.string({ required: true }),
            description: f.string(),
            hypervisors: f.stringList({ required: true }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input: { name, ...rest } }, ctx) => putHostGroup(ctx, ctx.caller, name, rest),
  }),
);

builder.mutationField('deleteHostGroup', (t) =>
  t.field({
    type: HostGroupPayload,
    description: 'Deletes a host group (admins of every host): tokens limited to it see its hosts no more.',
    args: {
      input: t.arg({
        type: builder.inputType('DeleteHostGroupInput', { fields: (f) => ({ name: f.string({ required: true }) }) }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => deleteHostGroup(ctx, ctx.caller, input.name),
  }),
);

import { z } from 'zod';
import { deleteHostGroup, getHostGroup, listHostGroups, putHostGroup } from '../../src/auth/host-group-requests.ts';
import { CreateApiTokenInput, PutHostGroupInput } from '../../src/auth/inputs.ts';
import { createApiToken, getApiToken, listApiTokens, revokeApiToken } from '../../src/auth/token-requests.ts';
import { defineOperations } from '../operation.ts';
import { API_BASE, refusedReply } from '../replies.ts';
import {
  apiTokenView,
  ApiTokenSchema,
  CallerSchema,
  callerView,
  CreatedApiTokenSchema,
  HostGroupSchema,
  hostGroupView,
} from '../schemas/auth.ts';
import { PageQuery, pageSchema } from '../schemas/common.ts';
import { pageOf } from './paging.ts';

/*
 * Who may call (docs/security.md): the caller itself, API tokens (admins), host groups; the
 * same requests as the GraphQL fields (src/auth/*-requests.ts).
 */

const TAG = 'Access';
const TokenParams = z.object({ id: z.string().describe('The token id: tl_<id> (the start of the token) or the bare id.') });
const GroupParams = z.object({ name: z.string().describe('The host group name.') });

export const AUTH_OPERATIONS = defineOperations(
  {
    operationId: 'getCaller',
    method: 'get',
    path: '/me',
    tag: TAG,
    summary: 'Who this request is from: the token name, role and host groups.',
    answers: { 200: { description: 'The caller.', schema: CallerSchema } },
    problems: [],
    async handle({ ctx }) {
      return { status: 200, body: callerView(ctx.caller) };
    },
  },
  {
    operationId: 'listApiTokens',
    role: 'admin',
    method: 'get',
    path: '/tokens',
    tag: TAG,
    summary: 'The API tokens this caller manages (admins), oldest first, revoked ones too; never their secrets.',
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of tokens.', schema: pageSchema('ApiTokenPage', ApiTokenSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const r = await listApiTokens(ctx, ctx.caller);
      if (r.userErrors.length) return refusedReply(r.userErrors);
      const all = r.tokens.map(apiTokenView);
      return { status: 200, body: pageOf(all, query as { limit: number; cursor?: string }, (t) => `${t.createdAt}/${t.id}`) };
    },
  },
  {
    operationId: 'createApiToken',
    role: 'admin',
    method: 'post',
    path: '/tokens',
    tag: TAG,
    summary: 'Creates an API token (admins); the answer holds the token, shown this once.',
    description: 'An admin limited to host groups can only make tokens limited to some of its own groups.',
    body: { schema: CreateApiTokenInput, validatedBy: 'handler' },
    answers: {
      201: {
        description: 'Created: the token and its secret.',
        schema: CreatedApiTokenSchema,
        headers: { location: { description: 'The token.' } },
      },
    },
    problems: [413, 415, 422],
    async handle({ body, ctx }) {
      const r = await createApiToken(ctx, ctx.caller, body);
      if (r.userErrors.length) return refusedReply(r.userErrors);
      return {
        status: 201,
        body: { token: apiTokenView(r.token!), secret: r.secret! },
        headers: { location: `${API_BASE}/tokens/tl_${r.token!.id}` },
      };
    },
  },
  {
    operationId: 'getApiToken',
    role: 'admin',
    method: 'get',
    path: '/tokens/{id}',
    tag: TAG,
    summary: 'One API token (admins).',
    params: TokenParams,
    answers: { 200: { description: 'The token.', schema: ApiTokenSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await getApiToken(ctx, ctx.caller, params.id as string);
      return r.userErrors.length ? refusedReply(r.userErrors, { id: 'id' }) : { status: 200, body: apiTokenView(r.token!) };
    },
  },
  {
    operationId: 'revokeApiToken',
    role: 'admin',
    method: 'delete',
    path: '/tokens/{id}',
    tag: TAG,
    summary: 'Revokes an API token (admins): refused on every gateway within about a second. It stays listed, with revokedAt.',
    params: TokenParams,
    answers: { 200: { description: 'The token, revoked.', schema: ApiTokenSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await revokeApiToken(ctx, ctx.caller, params.id as string);
      return r.userErrors.length ? refusedReply(r.userErrors, { id: 'id' }) : { status: 200, body: apiTokenView(r.token!) };
    },
  },
  {
    operationId: 'listHostGroups',
    method: 'get',
    path: '/host-groups',
    tag: TAG,
    summary: 'The host groups this caller may see: every one, or those its token is limited to.',
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of host groups, by name.', schema: pageSchema('HostGroupPage', HostGroupSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const all = (await listHostGroups(ctx, ctx.caller)).map(hostGroupView);
      return { status: 200, body: pageOf(all, query as { limit: number; cursor?: string }, (g) => g.name) };
    },
  },
  {
    operationId: 'getHostGroup',
    method: 'get',
    path: '/host-groups/{name}',
    tag: TAG,
    summary: 'One host group.',
    params: GroupParams,
    answers: { 200: { description: 'The host group.', schema: HostGroupSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await getHostGroup(ctx, ctx.caller, params.name as string);
      return r.userErrors.length ? refusedReply(r.userErrors, { name: 'name' }) : { status: 200, body: hostGroupView(r.group!) };
    },
  },
  {
    operationId: 'putHostGroup',
    role: 'admin',
    method: 'put',
    path: '/host-groups/{name}',
    tag: TAG,
    summary: 'Creates or replaces a host group (admins of every host).',
    params: GroupParams,
    body: { schema: PutHostGroupInput, validatedBy: 'handler' },
    answers: {
      200: { description: 'Replaced.', schema: HostGroupSchema },
      201: { description: 'Created.', schema: HostGroupSchema, headers: { location: { description: 'The host group.' } } },
    },
    problems: [413, 415, 422],
    async handle({ params, body, ctx }) {
      const r = await putHostGroup(ctx, ctx.caller, params.name as string, body);
      if (r.userErrors.length) return refusedReply(r.userErrors, { name: 'name' });
      return r.created
        ? { status: 201, body: hostGroupView(r.group!), headers: { location: `${API_BASE}/host-groups/${r.group!.name}` } }
        : { status: 200, body: hostGroupView(r.group!) };
    },
  },
  {
    operationId: 'deleteHostGroup',
    role: 'admin',
    method: 'delete',
    path: '/host-groups/{name}',
    tag: TAG,
    summary: 'Deletes a host group (admins of every host): tokens limited to it see its hosts no more.',
    params: GroupParams,
    answers: { 204: { description: 'Deleted.' } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await deleteHostGroup(ctx, ctx.caller, params.name as string);
      return r.userErrors.length ? refusedReply(r.userErrors, { name: 'name' }) : { status: 204 };
    },
  },
);

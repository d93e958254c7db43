import { z } from 'zod';
import { HostKeyRotationInput, RegisterHypervisorInput } from '../../src/changes/inputs.ts';
import { refreshHypervisors, registerHypervisor, removeHypervisor, rotateHostKey } from '../../src/requests/hypervisor-requests.ts';
import type { RequestContext } from '../../src/requests/request-context.ts';
import { refreshVisibleFleet, visibleHost } from '../../src/requests/host-reads.ts';
import { Refusal } from '../../src/requests/refusal.ts';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { accepted, API_BASE, refusedReply } from '../replies.ts';
import { pageSchema, PageQuery } from '../schemas/common.ts';
import { HypervisorSchema, hypervisorView } from '../schemas/fleet.ts';
import { JobSchema, jobView } from '../schemas/job.ts';
import { QueryBoolean } from './change-operation.ts';
import { HostParams } from './params.ts';
import { pageOf } from './paging.ts';
import { ErrorCode } from '../../src/errors/codes.ts';

const TAG = 'Hypervisors';

/**
 * The host a path names, read first when `refresh` says so; null when it is not registered.
 * Out of the caller's scope (or a refresh its role does not allow): a Refusal, answered 403.
 */
export async function hostFromPath(ctx: RequestContext, name: string, refresh = false) {
  const r = await visibleHost(ctx, name, refresh);
  if (r.userErrors.length) throw new Refusal(r.userErrors, { name: 'name' });
  return r.view;
}

export const noHost = (name: unknown) => ({
  problem: problem(404, ErrorCode.UNKNOWN_HYPERVISOR, `no hypervisor named "${String(name)}"`, {
    errors: [{ field: ['name'], in: 'path', code: ErrorCode.UNKNOWN_HYPERVISOR, message: `name: no hypervisor named "${String(name)}"` }],
  }),
});

const RefreshQuery = z.object({ refresh: QueryBoolean.optional().describe('true: read the host(s) first (bounded wait), then answer.') });

const RegisteredSchema = z
  .object({ hypervisor: HypervisorSchema.nullable(), created: z.boolean(), job: JobSchema })
  .meta({ id: 'RegisteredHypervisor', description: 'The registration, and the job of its first read.' });

export const HYPERVISOR_OPERATIONS = defineOperations(
  {
    operationId: 'listHypervisors',
    method: 'get',
    path: '/hypervisors',
    tag: TAG,
    summary: 'Every registered hypervisor, by name, from the cache.',
    query: RefreshQuery.extend(PageQuery),
    answers: { 200: { description: 'A page of hypervisors.', schema: pageSchema('HypervisorPage', HypervisorSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const q = query as { limit: number; cursor?: string; refresh?: boolean };
      if (q.refresh) {
        const denied = await refreshVisibleFleet(ctx);
        if (denied.length) return refusedReply(denied, {}, 'query');
      }
      const all = (await ctx.fleet()).map((v) => hypervisorView(v, ctx.config.inventory.freshnessSeconds));
      return { status: 200, body: pageOf(all, q, (h) => h.name) };
    },
  },
  {
    operationId: 'registerHypervisor',
    role: 'admin',
    method: 'post',
    path: '/hypervisors',
    tag: TAG,
    summary: 'Adds (or replaces) a hypervisor in the registry and queues its first read.',
    body: { schema: RegisterHypervisorInput, validatedBy: 'handler' },
    idempotent: true,
    answers: {
      201: {
        description: 'Registered; the first read is queued.',
        schema: RegisteredSchema,
        headers: { location: { description: 'The hypervisor.' } },
      },
      200: { description: 'An existing registration was replaced; the first read is queued.', schema: RegisteredSchema },
    },
    problems: [413, 415, 422],
    async handle({ body, ctx }) {
      const r = await registerHypervisor(ctx, body, ctx);
      if (r.userErrors.length) return refusedReply(r.userErrors);
      const host = r.hypervisor ? hypervisorView(r.hypervisor, ctx.config.inventory.freshnessSeconds) : null;
      return {
        status: r.created ? 201 : 200,
        body: { hypervisor: host, created: r.created, job: jobView(r.job!) },
        headers: { location: `${API_BASE}/hypervisors/${encodeURIComponent((body as { name: string }).name)}` },
      };
    },
  },
  {
    operationId: 'getHypervisor',
    method: 'get',
    path: '/hypervisors/{name}',
    tag: TAG,
    summary: 'One hypervisor: connection, defaults, status and what the cache holds of it.',
    params: HostParams,
    query: RefreshQuery,
    answers: { 200: { description: 'The hypervisor.', schema: HypervisorSchema } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const view = await hostFromPath(ctx, params.name as string, query.refresh as boolean | undefined);
      return view ? { status: 200, body: hypervisorView(view, ctx.config.inventory.freshnessSeconds) } : noHost(params.name);
    },
  },
  {
    operationId: 'removeHypervisor',
    role: 'admin',
    method: 'delete',
    path: '/hypervisors/{name}',
    tag: TAG,
    summary: 'Forgets a hypervisor (registry and cached state). Nothing on the host changes.',
    params: HostParams,
    answers: { 204: { description: 'Forgotten.' } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await removeHypervisor(ctx, params.name as string, ctx);
      return r.userErrors.length ? refusedReply(r.userErrors, { name: 'name' }) : { status: 204 };
    },
  },
  {
    operationId: 'rotateHostKey',
    role: 'admin',
    method: 'put',
    path: '/hypervisors/{name}/host-key',
    tag: TAG,
    summary: "Re-pins the hypervisor's SSH host key after a rotation on the host, while the pinned one is `expectedFingerprint`.",
    description:
      '409 HOST_KEY_CONFLICT when another key is pinned now. `hostKeyFingerprint: null` pins the key the host presents at the next connection.',
    params: HostParams,
    body: { schema: HostKeyRotationInput, validatedBy: 'handler' },
    answers: { 200: { description: 'The hypervisor with its new key.', schema: HypervisorSchema } },
    problems: [404, 409, 413, 415],
    async handle({ params, body, ctx }) {
      const r = await rotateHostKey(ctx, params.name as string, body, ctx);
      if (r.userErrors.length) return refusedReply(r.userErrors, { name: 'name' });
      return { status: 200, body: hypervisorView(r.hypervisor!, ctx.config.inventory.freshnessSeconds) };
    },
  },
  {
    operationId: 'refreshHypervisor',
    method: 'post',
    path: '/hypervisors/{name}/refresh',
    tag: TAG,
    summary: 'Queues a read of the host into the cache; follow the job for the result.',
    params: HostParams,
    idempotent: true,
    answers: { 202: { description: 'The read job.', schema: JobSchema, headers: { location: { description: 'The job.' } } } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await refreshHypervisors(ctx, [params.name as string], ctx);
      return r.userErrors.length ? refusedReply(r.userErrors, { hypervisors: 'name' }) : accepted(r.job!);
    },
  },
);

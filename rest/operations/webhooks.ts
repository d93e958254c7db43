import { z } from 'zod';
import { ErrorCode } from '../../src/errors/codes.ts';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from '../../src/webhooks/inputs.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookEndpoints,
  redeliverWebhook,
  updateWebhookEndpoint,
} from '../../src/webhooks/requests.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../src/webhooks/types.ts';
import { defineOperations } from '../operation.ts';
import { problem } from '../problem.ts';
import { API_BASE, refusedReply } from '../replies.ts';
import { PageQuery, pageSchema } from '../schemas/common.ts';
import {
  CreatedWebhookEndpointSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  webhookDeliveryView,
  webhookEndpointView,
} from '../schemas/webhook.ts';
import { pageOf } from './paging.ts';

/*
 * Webhook endpoints and their delivery history (docs/webhooks.md): the same request modules as
 * the GraphQL mutations (src/webhooks/requests.ts), so both refuse the same inputs with the same codes.
 */

const TAG = 'Webhooks';
const location = (id: string) => `${API_BASE}/webhooks/${id}`;

// Ids are matched by form here, so a malformed one is a 404 like an unknown one (nothing to name in a 400).
const EndpointParams = z.object({ id: z.string().describe('The endpoint id (ep_…).') });
const DeliveryParams = EndpointParams.extend({ deliveryId: z.string().describe('The delivery id (msg_…): its webhook-id header.') });

const noEndpoint = (id: unknown) => ({
  problem: problem(404, ErrorCode.NOT_FOUND, `no webhook endpoint ${String(id)}`, {
    errors: [{ field: ['id'], in: 'path', code: ErrorCode.NOT_FOUND, message: `id: no webhook endpoint ${String(id)}` }],
  }),
});
const noDelivery = (id: unknown, deliveryId: unknown) => ({
  problem: problem(404, ErrorCode.NOT_FOUND, `no delivery ${String(deliveryId)} of webhook endpoint ${String(id)}`, {
    errors: [{ field: ['deliveryId'], in: 'path', code: ErrorCode.NOT_FOUND, message: `deliveryId: no delivery ${String(deliveryId)}` }],
  }),
});

export const WEBHOOK_OPERATIONS = defineOperations(
  {
    operationId: 'listWebhookEndpoints',
    method: 'get',
    path: '/webhooks',
    tag: TAG,
    role: 'admin',
    summary: 'Every webhook endpoint, oldest first (never with its secret).',
    query: z.object(PageQuery),
    answers: { 200: { description: 'A page of endpoints.', schema: pageSchema('WebhookEndpointPage', WebhookEndpointSchema) } },
    problems: [],
    async handle({ query, ctx }) {
      const all = (await listWebhookEndpoints(ctx)).map(webhookEndpointView);
      // Oldest first: keyed by creation time, then id (the cursor is the last item's key).
      return { status: 200, body: pageOf(all, query as { limit: number; cursor?: string }, (e) => `${e.createdAt}/${e.id}`) };
    },
  },
  {
    operationId: 'createWebhookEndpoint',
    method: 'post',
    path: '/webhooks',
    tag: TAG,
    role: 'admin',
    summary: 'Registers a webhook endpoint; the answer holds its signing secret, shown this once.',
    description:
      'Deliveries are POSTed as Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the secret. The URL must be http(s) and its destination on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS (422 WEBHOOK_URL_NOT_ALLOWED otherwise). The endpoint gets the job events after its creation that match its filter.',
    body: { schema: CreateWebhookEndpointInput, validatedBy: 'handler' },
    answers: {
      201: {
        description: 'Registered: the endpoint and its secret.',
        schema: CreatedWebhookEndpointSchema,
        headers: { location: { description: 'The endpoint.' } },
      },
    },
    problems: [413, 415, 422],
    async handle({ body, ctx }) {
      const r = await createWebhookEndpoint(ctx, body);
      if (r.userErrors.length) return refusedReply(r.userErrors);
      return {
        status: 201,
        body: { endpoint: webhookEndpointView(r.endpoint!), secret: r.secret! },
        headers: { location: location(r.endpoint!.id) },
      };
    },
  },
  {
    operationId: 'getWebhookEndpoint',
    method: 'get',
    path: '/webhooks/{id}',
    tag: TAG,
    role: 'admin',
    summary: 'One webhook endpoint (without its secret).',
    params: EndpointParams,
    answers: { 200: { description: 'The endpoint.', schema: WebhookEndpointSchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const e = await getWebhookEndpoint(ctx, params.id as string);
      return e ? { status: 200, body: webhookEndpointView(e) } : noEndpoint(params.id);
    },
  },
  {
    operationId: 'updateWebhookEndpoint',
    method: 'patch',
    path: '/webhooks/{id}',
    tag: TAG,
    role: 'admin',
    summary: 'Changes an endpoint: url, description, enabled, filter (replaced whole). Fields left out stay.',
    params: EndpointParams,
    body: { schema: UpdateWebhookEndpointInput, validatedBy: 'handler' },
    answers: { 200: { description: 'The endpoint after the change.', schema: WebhookEndpointSchema } },
    problems: [404, 413, 415, 422],
    async handle({ params, body, ctx }) {
      const r = await updateWebhookEndpoint(ctx, params.id as string, body);
      if (r.userErrors.length) return refusedReply(r.userErrors, { id: 'id' });
      return { status: 200, body: webhookEndpointView(r.endpoint!) };
    },
  },
  {
    operationId: 'deleteWebhookEndpoint',
    method: 'delete',
    path: '/webhooks/{id}',
    tag: TAG,
    role: 'admin',
    summary: 'Deletes an endpoint and its delivery history; deliveries still queued for it are dropped.',
    params: EndpointParams,
    answers: { 204: { description: 'Deleted.' } },
    problems: [404],
    async handle({ params, ctx }) {
      const r = await deleteWebhookEndpoint(ctx, params.id as string);
      return r.userErrors.length ? refusedReply(r.userErrors, { id: 'id' }) : { status: 204 };
    },
  },
  {
    operationId: 'listWebhookDeliveries',
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    tag: TAG,
    role: 'admin',
    summary: "The endpoint's deliveries, newest first, each with every attempt (kept: the newest TRUNKLINE_WEBHOOK_HISTORY).",
    params: EndpointParams,
    query: z.object({ ...PageQuery, status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this status.') }),
    answers: { 200: { description: 'A page of deliveries.', schema: pageSchema('WebhookDeliveryPage', WebhookDeliverySchema) } },
    problems: [404],
    async handle({ params, query, ctx }) {
      const id = params.id as string;
      if (!(await getWebhookEndpoint(ctx, id))) return noEndpoint(id);
      const q = query as { limit: number; cursor?: string; status?: DeliveryStatus };
      const { deliveries, more } = await ctx.webhooks.deliveries.list(id, {
        limit: q.limit,
        cursor: q.cursor ?? null,
        status: q.status ?? null,
      });
      return { status: 200, body: { items: deliveries.map(webhookDeliveryView), nextCursor: more ? deliveries.at(-1)!.id : null } };
    },
  },
  {
    operationId: 'getWebhookDelivery',
    method: 'get',
    path: '/webhooks/{id}/deliveries/{deliveryId}',
    tag: TAG,
    role: 'admin',
    summary: 'One delivery with every attempt: status, response codes, errors, latencies.',
    params: DeliveryParams,
    answers: { 200: { description: 'The delivery.', schema: WebhookDeliverySchema } },
    problems: [404],
    async handle({ params, ctx }) {
      const d = await getWebhookDelivery(ctx, params.id as string, params.deliveryId as string);
      return d ? { status: 200, body: webhookDeliveryView(d) } : noDelivery(params.id, params.deliveryId);
    },
  },
  {
    operationId: 'redeliverWebhook',
    method: 'post',
    path: '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    tag: TAG,
    role: 'admin',
    summary: 'Sends a delivery again, now, once: the same webhook-id and body, a new timestamp and signature.',
    description: 'Whatever its status. Refused (422 WEBHOOK_ENDPOINT_DISABLED) while the endpoint is disabled.',
    params: DeliveryParams,
    answers: { 202: { description: 'Queued: the delivery, PENDING until the attempt is made.', schema: WebhookDeliverySchema } },
    problems: [404, 422],
    async handle({ params, ctx }) {
      const r = await redeliverWebhook(ctx, params.id as string, params.deliveryId as string);
      if (r.userErrors.length) return refusedReply(r.userErrors, { endpointId: 'id', deliveryId: 'deliveryId' });
      return { status: 202, body: webhookDeliveryView(r.delivery!) };
    },
  },
);

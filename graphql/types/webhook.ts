import { ENDPOINT_ID } from '../../src/webhooks/endpoint-store.ts';
import { getWebhookEndpoint, listWebhookEndpoints } from '../../src/webhooks/requests.ts';
import {
  DELIVERY_STATUSES,
  type DeliveryAttempt,
  type DeliveryError,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookOwner,
} from '../../src/webhooks/types.ts';
import type { WebhookFilter } from '../../src/webhooks/filter.ts';
import { builder } from '../builder.ts';
import { connectionType, type Page, pageSize } from '../connection.ts';
import { fromGlobalId, toGlobalId } from '../global-id.ts';
import { JobEventTypeEnum, JobRef } from './job.ts';
import { NodeRef, registerNodeLoader } from './node.ts';
import { ErrorCodeEnum, JobKindEnum } from './vocabularies.ts';

/*
 * Webhook endpoints and their deliveries (docs/webhooks.md): the same records as REST's
 * /api/v1/webhooks, through src/webhooks/requests.ts. An endpoint's secret is never a field:
 * createWebhookEndpoint answers it once.
 */

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description:
    'PENDING: queued or between retries; SUCCEEDED: an attempt got a 2xx; FAILED: every attempt failed (or the endpoint was disabled).',
  values: DELIVERY_STATUSES,
});

/** An endpoint's key from its global id (the REST id ep_… is accepted too); unknown ids stay as they are and are not found. */
export function webhookEndpointKey(id: string): string {
  const decoded = fromGlobalId(id);
  if (decoded?.type === 'WebhookEndpoint') return decoded.key;
  return id;
}

export const WebhookFilterRef = builder.objectRef<WebhookFilter>('WebhookFilter').implement({
  description: 'Which job events an endpoint gets: every part that is set must match; an empty filter takes every event.',
  fields: (t) => ({
    eventTypes: t.field({ type: [JobEventTypeEnum], description: 'Only these job event types; empty: all.', resolve: (f) => f.eventTypes }),
    hypervisors: t.exposeStringList('hypervisors', {
      description: 'Only events about these hypervisors (job-level events: jobs touching one); empty: all.',
    }),
    kinds: t.field({ type: [JobKindEnum], description: 'Only jobs of these kinds; empty: all.', resolve: (f) => f.kinds }),
    ticketRefPrefix: t.exposeString('ticketRefPrefix', { nullable: true, description: 'Only jobs whose ticketRef starts with this.' }),
  }),
});

const DeliveryErrorRef = builder.objectRef<DeliveryError>('WebhookDeliveryError').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'e.g. WEBHOOK_TIMEOUT, WEBHOOK_DELIVERY_FAILED.', resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const DeliveryAttemptRef = builder.objectRef<DeliveryAttempt>('WebhookDeliveryAttempt').implement({
  description: 'One POST of a delivery.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1, 2, … over the life of the delivery (retries and redelivers alike).' }),
    at: t.expose('at', { type: 'DateTime' }),
    latencyMs: t.exposeInt('latencyMs', { description: 'From sending to the status line, or to the failure.' }),
    responseCode: t.exposeInt('responseCode', { nullable: true, description: 'null when no answer came (timeout, refused, not allowed).' }),
    error: t.field({ type: DeliveryErrorRef, nullable: true, resolve: (a) => a.error }),
    redelivery: t.exposeBoolean('redelivery', { description: 'Sent by redeliverWebhook.' }),
  }),
});

export const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One job event to one endpoint, with every attempt to send it.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'The message id: the webhook-id header of every attempt.' }),
    endpointId: t.id({ resolve: (d) => toGlobalId('WebhookEndpoint', d.endpointId) }),
    sequence: t.exposeString('sequence', { description: "The event's sequence in the fleet log (JobEvent.sequence)." }),
    jobId: t.id({ description: 'The Job (global id).', resolve: (d) => toGlobalId('Job', d.jobId) }),
    job: t.field({
      type: JobRef,
      nullable: true,
      description: 'The job as it is now (null once its record expired).',
      resolve: (d, _a, ctx) => ctx.store.get(d.jobId),
    }),
    jobEventType: t.field({ type: JobEventTypeEnum, resolve: (d) => d.jobEventType }),
    type: t.exposeString('type', { description: 'The payload type: job. + the event type in lower case, e.g. job.succeeded.' }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attemptCount: t.exposeInt('attemptCount'),
    lastResponseCode: t.exposeInt('lastResponseCode', { nullable: true }),
    lastError: t.field({ type: DeliveryErrorRef, nullable: true, resolve: (d) => d.lastError }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'About when the next automatic retry goes out, while PENDING after a failure.',
    }),
    redeliveries: t.exposeInt('redeliveries'),
    attempts: t.field({ type: [DeliveryAttemptRef], resolve: (d) => d.attempts }),
  }),
});

const WebhookDeliveryConnection = connectionType<WebhookDelivery>('WebhookDelivery', WebhookDeliveryRef);

const WebhookOwnerRef = builder.objectRef<WebhookOwner>('WebhookOwner').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    tokenId: t.exposeString('tokenId', { nullable: true }),
    hostGroups: t.exposeStringList('hostGroups', { nullable: true }),
  }),
});

export const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint').implement({
  description: 'Where job events are POSTed, signed as Standard Webhooks say. Its secret is answered once, by createWebhookEndpoint.',
  interfaces: [NodeRef],
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'url' in v && 'filter' in v && 'since' in v,
  fields: (t) => ({
    id: t.id({ resolve: (e) => toGlobalId('WebhookEndpoint', e.id) }),
    restId: t.exposeString('id', { description: 'The id REST uses (/api/v1/webhooks/{id}).' }),
    url: t.exposeString('url'),
    description: t.exposeString('description'),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled endpoint gets nothing.' }),
    filter: t.field({ type: WebhookFilterRef, resolve: (e) => e.filter }),
    owner: t.field({
      type: WebhookOwnerRef,
      nullable: true,
      description: "Who made it: deliveries carry only events of jobs within the owner's host groups (null groups: every host).",
      resolve: (e) => e.owner ?? null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: WebhookDeliveryConnection,
      description: 'Its deliveries, newest first, with every attempt (kept: the newest TRUNKLINE_WEBHOOK_HISTORY); `first` at most 100.',
      args: { first: t.arg.int(), after: t.arg.string(), status: t.arg({ type: WebhookDeliveryStatusEnum }) },
      resolve: async (e, { first, after, status }, ctx): Promise<Page<WebhookDelivery>> => {
        const { deliveries, more } = await ctx.webhooks.deliveries.list(e.id, { limit: pageSize(first), cursor: after ?? null, status });
        return {
          items: deliveries,
          cursors: deliveries.map((d) => d.id),
          hasNextPage: more,
          hasPreviousPage: Boolean(after),
          totalCount: null,
        };
      },
    }),
  }),
});

registerNodeLoader('WebhookEndpoint', (key, ctx) => (ENDPOINT_ID.test(key) ? getWebhookEndpoint(ctx, key) : Promise.resolve(null)));

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    description: 'Every webhook endpoint, oldest first.',
    resolve: (_root, _args, ctx) => listWebhookEndpoints(ctx),
  }),
  webhookEndpoint: t.field({
    type: WebhookEndpointRef,
    nullable: true,
    args: { id: t.arg.id({ required: true, description: 'Its global id (or the REST id, ep_…).' }) },
    resolve: (_root, { id }, ctx) => getWebhookEndpoint(ctx, webhookEndpointKey(String(id))),
  }),
}));

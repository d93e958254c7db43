import type { UserError } from '../../src/changes/user-errors.ts';
import { createWebhookEndpoint, deleteWebhookEndpoint, redeliverWebhook, updateWebhookEndpoint } from '../../src/webhooks/requests.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../src/webhooks/types.ts';
import { builder } from '../builder.ts';
import { toGlobalId } from '../global-id.ts';
import { JobEventTypeEnum } from '../types/job.ts';
import { UserErrorRef } from '../types/user-error.ts';
import { JobKindEnum } from '../types/vocabularies.ts';
import { WebhookDeliveryRef, WebhookEndpointRef, webhookEndpointKey } from '../types/webhook.ts';

/*
 * Webhook mutations: the requests of src/webhooks/requests.ts (the same as REST's), refusals as
 * userErrors. GraphQL nulls mean "not given", as REST's missing fields: they are dropped first.
 */

const WebhookFilterInputRef = builder.inputType('WebhookFilterInput', {
  description: 'Which job events an endpoint gets: every part that is set must match; leave everything out for all events.',
  fields: (t) => ({
    eventTypes: t.field({ type: [JobEventTypeEnum], description: 'Only these job event types (e.g. SUCCEEDED, FAILED).' }),
    hypervisors: t.stringList({ description: 'Only events about these hypervisors (job-level events: jobs touching one).' }),
    kinds: t.field({ type: [JobKindEnum], description: 'Only jobs of these kinds.' }),
    ticketRefPrefix: t.string({ description: 'Only jobs whose ticketRef starts with this.' }),
  }),
});

/** The input without its null fields (a filter keeps `ticketRefPrefix: null`: it means "any"). */
function given(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === null || v === undefined) continue;
    out[k] = k === 'filter' && typeof v === 'object' ? given(v as Record<string, unknown>) : v;
  }
  return out;
}

const CreateWebhookEndpointPayload = builder
  .objectRef<{ endpoint: WebhookEndpoint | null; secret: string | null; userErrors: UserError[] }>('CreateWebhookEndpointPayload')
  .implement({
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpointRef, nullable: true, resolve: (p) => p.endpoint }),
      secret: t.exposeString('secret', {
        nullable: true,
        description: 'The signing secret (whsec_…), answered this once: verify deliveries with it (Standard Webhooks).',
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: CreateWebhookEndpointPayload,
    description:
      'Registers a webhook endpoint: matching job events from now on are POSTed to it, signed (Standard Webhooks). The URL must be http(s) to a destination on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS (WEBHOOK_URL_NOT_ALLOWED).',
    args: {
      input: t.arg({
        type: builder.inputType('CreateWebhookEndpointInput', {
          fields: (f) => ({
            url: f.string({ required: true }),
            description: f.string(),
            enabled: f.boolean({ description: 'Default true.' }),
            filter: f.field({ type: WebhookFilterInputRef }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => createWebhookEndpoint(ctx, given(input)),
  }),
);

const EndpointPayload = builder
  .objectRef<{ endpoint: WebhookEndpoint | null; userErrors: UserError[] }>('UpdateWebhookEndpointPayload')
  .implement({
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpointRef, nullable: true, resolve: (p) => p.endpoint }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('updateWebhookEndpoint', (t) =>
  t.field({
    type: EndpointPayload,
    description: 'Changes an endpoint (url, description, enabled, filter: replaced whole); fields left out stay.',
    args: {
      input: t.arg({
        type: builder.inputType('UpdateWebhookEndpointInput', {
          fields: (f) => ({
            id: f.id({ required: true }),
            url: f.string(),
            description: f.string(),
            enabled: f.boolean(),
            filter: f.field({ type: WebhookFilterInputRef }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => {
      const { id, ...rest } = input;
      return updateWebhookEndpoint(ctx, webhookEndpointKey(String(id)), given(rest));
    },
  }),
);

const DeleteWebhookEndpointPayload = builder
  .objectRef<{ deletedId: string | null; userErrors: UserError[] }>('DeleteWebhookEndpointPayload')
  .implement({
    fields: (t) => ({
      deletedId: t.id({ nullable: true, resolve: (p) => (p.deletedId ? toGlobalId('WebhookEndpoint', p.deletedId) : null) }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.field({
    type: DeleteWebhookEndpointPayload,
    description: 'Deletes an endpoint and its delivery history; deliveries still queued for it are dropped.',
    args: {
      input: t.arg({
        type: builder.inputType('DeleteWebhookEndpointInput', { fields: (f) => ({ id: f.id({ required: true }) }) }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => deleteWebhookEndpoint(ctx, webhookEndpointKey(String(input.id))),
  }),
);

const RedeliverWebhookPayload = builder
  .objectRef<{ delivery: WebhookDelivery | null; userErrors: UserError[] }>('RedeliverWebhookPayload')
  .implement({
    fields: (t) => ({
      delivery: t.field({
        type: WebhookDeliveryRef,
        nullable: true,
        description: 'PENDING until the attempt is made.',
        resolve: (p) => p.delivery,
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationField('redeliverWebhook', (t) =>
  t.field({
    type: RedeliverWebhookPayload,
    description:
      'Sends a delivery again, now, once: the same webhook-id and body, a new timestamp and signature, whatever its status. Refused while the endpoint is disabled (WEBHOOK_ENDPOINT_DISABLED).',
    args: {
      input: t.arg({
        type: builder.inputType('RedeliverWebhookInput', {
          fields: (f) => ({
            endpointId: f.id({ required: true }),
            deliveryId: f.string({ required: true, description: 'WebhookDelivery.id (msg_…).' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: (_root, { input }, ctx) => redeliverWebhook(ctx, webhookEndpointKey(String(input.endpointId)), input.deliveryId),
  }),
);

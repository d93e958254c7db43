import { z } from 'zod';
import { JOB_EVENT_TYPES } from '../../src/jobs/job-types.ts';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/event-types.ts';
import { DELIVERY_STATUSES, type WebhookDelivery, type WebhookEndpoint } from '../../src/webhooks/types.ts';
import { DateTime, ErrorCodeSchema, JobKindSchema } from './common.ts';

/*
 * The REST representation of webhook endpoints and deliveries (the same fields as GraphQL's
 * WebhookEndpoint and WebhookDelivery). An endpoint's secret is in the creation answer only.
 */

export const WebhookFilterSchema = z
  .object({
    eventTypes: z.array(z.enum(JOB_EVENT_TYPES)).describe('Only these job event types; empty: all.'),
    hypervisors: z.array(z.string()).describe('Only events about these hypervisors (job-level events: jobs touching one); empty: all.'),
    kinds: z.array(JobKindSchema).describe('Only jobs of these kinds; empty: all.'),
    ticketRefPrefix: z.string().nullable().describe('Only jobs whose ticketRef starts with this; null: all.'),
  })
  .meta({ id: 'WebhookFilter', description: 'Which job events an endpoint gets: every part that is set must match.' });

export const WebhookEndpointSchema = z
  .object({
    id: z.string().describe('The endpoint id (ep_…).'),
    url: z.string().describe('Where deliveries are POSTed.'),
    description: z.string(),
    enabled: z.boolean().describe('A disabled endpoint gets nothing (deliveries queued for it are dropped as FAILED).'),
    filter: WebhookFilterSchema,
    owner: z
      .object({ name: z.string(), tokenId: z.string().nullable(), hostGroups: z.array(z.string()).nullable() })
      .nullable()
      .describe("Who made it: deliveries carry only events of jobs within the owner's host groups (null: every host)."),
    createdAt: DateTime,
    updatedAt: DateTime,
  })
  .meta({ id: 'WebhookEndpoint', description: 'A registered webhook endpoint (its secret is shown once, at creation).' });

export const CreatedWebhookEndpointSchema = z
  .object({
    endpoint: WebhookEndpointSchema,
    secret: z
      .string()
      .describe('The signing secret (whsec_ + base64 of 32 random bytes), shown this once: verify deliveries with it (Standard Webhooks).'),
  })
  .meta({ id: 'CreatedWebhookEndpoint' });

const DeliveryErrorSchema = z.object({ code: ErrorCodeSchema, message: z.string() }).meta({ id: 'WebhookDeliveryError' });

export const WebhookDeliverySchema = z
  .object({
    id: z.string().describe('The message id: the webhook-id header of every attempt (retries and redelivers alike).'),
    endpointId: z.string(),
    sequence: z.string().describe("The event's sequence in the fleet log."),
    jobId: z.string(),
    jobEventType: z.enum(JOB_EVENT_TYPES),
    type: z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]]).describe('The payload type, e.g. job.succeeded.'),
    status: z.enum(DELIVERY_STATUSES).describe('PENDING: queued or between retries; SUCCEEDED: a 2xx; FAILED: it gave up.'),
    attemptCount: z.number().int(),
    lastResponseCode: z.number().int().nullable(),
    lastError: DeliveryErrorSchema.nullable(),
    createdAt: DateTime,
    updatedAt: DateTime,
    deliveredAt: DateTime.nullable(),
    nextAttemptAt: DateTime.nullable().describe('About when the next automatic retry goes out, while PENDING after a failure.'),
    redeliveries: z.number().int().describe('How many manual redelivers were asked for.'),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        at: DateTime,
        latencyMs: z.number().int().describe('From sending to the status line, or to the failure.'),
        responseCode: z.number().int().nullable(),
        error: DeliveryErrorSchema.nullable(),
        redelivery: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery', description: 'One event to one endpoint, with every attempt to send it.' });

export function webhookEndpointView(e: WebhookEndpoint): z.infer<typeof WebhookEndpointSchema> {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    enabled: e.enabled,
    filter: e.filter,
    owner: e.owner ?? null,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export function webhookDeliveryView(d: WebhookDelivery): z.infer<typeof WebhookDeliverySchema> {
  return { ...d };
}

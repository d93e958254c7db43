import { z } from 'zod';
import { JOB_KINDS } from '../jobs/job-kinds.ts';
import { JOB_EVENT_TYPES } from '../jobs/job-types.ts';
import { HypervisorName } from '../validation/names.ts';

/*
 * Input schemas of the webhook requests, shared by GraphQL and REST (one validation, the same
 * field paths and codes). The URL is only checked for its form here; whether its destination is
 * allowed needs DNS and is checked by the request (src/webhooks/requests.ts) and at delivery.
 */

const MAX_URL = 2048;

export const WebhookUrl = z
  .string()
  .max(MAX_URL, `must be at most ${MAX_URL} characters`)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: `must be http:// or https://, not ${url.protocol}//` });
    // Credentials in a URL end up in logs and API answers; the signature authenticates instead.
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password' });
    if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'must name a host' });
  })
  .describe('Where deliveries are POSTed: http:// or https://, to a destination on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS.');

export const TicketRefPrefix = z
  .string()
  .min(1)
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9_.:#/-]+$/, 'may contain letters, digits and _ . : # / - only');

export const WebhookFilterInput = z
  .object({
    eventTypes: z
      .array(z.enum(JOB_EVENT_TYPES))
      .max(JOB_EVENT_TYPES.length)
      .default([])
      .describe('Only these job event types (e.g. SUCCEEDED, FAILED); empty: all.'),
    hypervisors: z
      .array(HypervisorName)
      .max(200)
      .default([])
      .describe('Only events about these hypervisors (job-level events: jobs touching one); empty: all.'),
    kinds: z.array(z.enum(JOB_KINDS)).max(JOB_KINDS.length).default([]).describe('Only jobs of these kinds; empty: all.'),
    ticketRefPrefix: TicketRefPrefix.nullable()
      .default(null)
      .describe('Only jobs whose ticketRef starts with this; null: all (with or without a ticketRef).'),
  })
  .strict();

const Description = z.string().max(500, 'must be at most 500 characters');

export const CreateWebhookEndpointInput = z
  .object({
    url: WebhookUrl,
    description: Description.default(''),
    enabled: z.boolean().default(true),
    filter: WebhookFilterInput.default({ eventTypes: [], hypervisors: [], kinds: [], ticketRefPrefix: null }),
  })
  .strict();
export type CreateWebhookEndpointInput = z.infer<typeof CreateWebhookEndpointInput>;

/** What an update may change; a field left out stays. `filter` replaces the whole filter. */
export const UpdateWebhookEndpointInput = z
  .object({
    url: WebhookUrl.optional(),
    description: Description.optional(),
    enabled: z.boolean().optional(),
    filter: WebhookFilterInput.optional(),
  })
  .strict();
export type UpdateWebhookEndpointInput = z.infer<typeof UpdateWebhookEndpointInput>;

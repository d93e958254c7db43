import { isScoped, manages, notVisible, roleDenials } from '../auth/authorize.ts';
import { type Caller, tokenIdOf } from '../auth/caller.ts';
import { inputError, userErrorsFromZod, type UserError } from '../changes/user-errors.ts';
import { Refusal } from '../requests/refusal.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { checkHost, type Resolve } from './allow-list.ts';
import { DELIVERY_ID } from './delivery-store.ts';
import { newEndpointId, publicEndpoint } from './endpoint-store.ts';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput } from './inputs.ts';
import { systemResolve } from './send.ts';
import type { StoredEndpoint, WebhookDelivery, WebhookEndpoint } from './types.ts';
import { newSecret } from './signature.ts';
import type { Webhooks } from './webhooks.ts';

/*
 * The webhook requests as both APIs take them (GraphQL mutations, REST operations): validate
 * with the shared schemas, check the URL's destination against the allow-list, then change
 * the stores. Field paths are rooted at `input`, as every userError's.
 */

export interface WebhookRequestDeps {
  /** Who asks: webhooks are admin work (an endpoint POSTs the fleet's events where its owner says). */
  caller: Caller;
  webhooks: Webhooks;
  /** For the fleet log's newest sequence: a new endpoint gets the events after it. */
  store: Pick<JobStore, 'lastSequence'>;
  /** How URLs' host names are resolved for the allow-list (tests give their own). */
  resolve?: Resolve;
}

const notFound = (field: string, what: string) => inputError(field, ErrorCode.NOT_FOUND, `no ${what}`);

const adminOnly = (deps: WebhookRequestDeps) => roleDenials(deps.caller, 'admin', 'webhook administration');

/** The endpoint if the caller manages it. */
async function managed(deps: WebhookRequestDeps, id: string) {
  const e = await deps.webhooks.endpoints.get(id);
  return e && manages(deps.caller, e.owner?.hostGroups) ? e : null;
}

/** "No such endpoint": FORBIDDEN for a caller limited to host groups (it may exist for someone else). */
const noEndpoint = (deps: WebhookRequestDeps, field: string, id: string) =>
  isScoped(deps.caller)
    ? inputError(field, ErrorCode.FORBIDDEN, notVisible('webhook endpoint', id))
    : notFound(field, `webhook endpoint ${id}`);

/** For reads that answer data, not userErrors: a Refusal (403) when the caller is not an admin. */
function requireAdmin(deps: WebhookRequestDeps): void {
  const denied = adminOnly(deps);
  if (denied.length) throw new Refusal(denied);
}

/** The URL in the one spelling it is stored and sent with, and a userError if its destination is not allowed. */
async function checkedUrl(deps: WebhookRequestDeps, raw: string): Promise<{ url: string; errors: UserError[] }> {
  const url = new URL(raw);
  const verdict = await checkHost(deps.webhooks.allowList, url.hostname, deps.resolve ?? systemResolve);
  return { url: url.href, errors: verdict.allowed ? [] : [inputError('url', ErrorCode.WEBHOOK_URL_NOT_ALLOWED, verdict.reason)] };
}

export interface CreateEndpointOutcome {
  endpoint: WebhookEndpoint | null;
  /** The signing secret: answered here once, never again. */
  secret: string | null;
  userErrors: UserError[];
}

export async function createWebhookEndpoint(deps: WebhookRequestDeps, input: unknown): Promise<CreateEndpointOutcome> {
  const denied = adminOnly(deps);
  if (denied.length) return { endpoint: null, secret: null, userErrors: denied };
  const parsed = CreateWebhookEndpointInput.safeParse(input);
  if (!parsed.success) return { endpoint: null, secret: null, userErrors: userErrorsFromZod(parsed.error) };
  const { url, errors } = await checkedUrl(deps, parsed.data.url);
  if (errors.length) return { endpoint: null, secret: null, userErrors: errors };
  const now = new Date().toISOString();
  const endpoint: StoredEndpoint = {
    id: newEndpointId(),
    url,
    description: parsed.data.description,
    enabled: parsed.data.enabled,
    filter: parsed.data.filter,
    createdAt: now,
    updatedAt: now,
    since: await deps.store.lastSequence(),
    owner: {
      name: deps.caller.name,
      tokenId: tokenIdOf(deps.caller),
      hostGroups: deps.caller.hostGroups,
    },
    secret: newSecret(),
  };
  await deps.webhooks.endpoints.create(endpoint);
  return { endpoint: publicEndpoint(endpoint), secret: endpoint.secret, userErrors: [] };
}

export async function updateWebhookEndpoint(
  deps: WebhookRequestDeps,
  id: string,
  input: unknown,
): Promise<{ endpoint: WebhookEndpoint | null; userErrors: UserError[] }> {
  const denied = adminOnly(deps);
  if (denied.length) return { endpoint: null, userErrors: denied };
  const parsed = UpdateWebhookEndpointInput.safeParse(input);
  if (!parsed.success) return { endpoint: null, userErrors: userErrorsFromZod(parsed.error) };
  if (!(await managed(deps, id))) return { endpoint: null, userErrors: [noEndpoint(deps, 'id', id)] };
  let url: string | undefined;
  if (parsed.data.url !== undefined) {
    const checked = await checkedUrl(deps, parsed.data.url);
    if (checked.errors.length) return { endpoint: null, userErrors: checked.errors };
    url = checked.url;
  }
  const { url: _u, ...rest } = parsed.data;
  const updated = await deps.webhooks.endpoints.update(id, (e) => ({
    ...e,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    ...(url ? { url } : {}),
    updatedAt: new Date().toISOString(),
  }));
  return updated
    ? { endpoint: publicEndpoint(updated), userErrors: [] }
    : { endpoint: null, userErrors: [notFound('id', `webhook endpoint ${id}`)] };
}

/** Deletes the endpoint and its history; deliveries still queued for it are dropped when their turn comes. */
export async function deleteWebhookEndpoint(
  deps: WebhookRequestDeps,
  id: string,
): Promise<{ deletedId: string | null; userErrors: UserError[] }> {
  const denied = adminOnly(deps);
  if (denied.length) return { deletedId: null, userErrors: denied };
  if (!(await managed(deps, id)) || !(await deps.webhooks.endpoints.delete(id)))
    return { deletedId: null, userErrors: [noEndpoint(deps, 'id', id)] };
  await deps.webhooks.deliveries.deleteEndpoint(id);
  return { deletedId: id, userErrors: [] };
}

export async function getWebhookEndpoint(deps: WebhookRequestDeps, id: string): Promise<WebhookEndpoint | null> {
  requireAdmin(deps);
  const e = await deps.webhooks.endpoints.get(id);
  if (e && manages(deps.caller, e.owner?.hostGroups)) return publicEndpoint(e);
  if (isScoped(deps.caller)) throw new Refusal([noEndpoint(deps, 'id', id)], { id: 'id' });
  return null;
}

export async function listWebhookEndpoints(deps: WebhookRequestDeps): Promise<WebhookEndpoint[]> {
  requireAdmin(deps);
  return (await deps.webhooks.endpoints.list()).filter((e) => manages(deps.caller, e.owner?.hostGroups)).map(publicEndpoint);
}

/** A delivery of an endpoint (null when either does not exist, or the delivery is another endpoint's). */
export async function getWebhookDelivery(
  deps: WebhookRequestDeps,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDelivery | null> {
  requireAdmin(deps);
  if (!DELIVERY_ID.test(deliveryId) || !(await managed(deps, endpointId))) return null;
  const d = await deps.webhooks.deliveries.get(deliveryId);
  return d && d.endpointId === endpointId ? d : null;
}

/**
 * Sends a delivery again, now, once (the same `webhook-id` and body, a new timestamp and
 * signature), whatever its status. Refused for a disabled endpoint.
 */
export async function redeliverWebhook(
  deps: WebhookRequestDeps,
  endpointId: string,
  deliveryId: string,
): Promise<{ delivery: WebhookDelivery | null; userErrors: UserError[] }> {
  const denied = adminOnly(deps);
  if (denied.length) return { delivery: null, userErrors: denied };
  const endpoint = await managed(deps, endpointId);
  if (!endpoint) return { delivery: null, userErrors: [noEndpoint(deps, 'endpointId', endpointId)] };
  const delivery = await getWebhookDelivery(deps, endpointId, deliveryId);
  if (!delivery)
    return { delivery: null, userErrors: [notFound('deliveryId', `delivery ${deliveryId} of webhook endpoint ${endpointId}`)] };
  if (!endpoint.enabled)
    return {
      delivery: null,
      userErrors: [
        inputError('endpointId', ErrorCode.WEBHOOK_ENDPOINT_DISABLED, `webhook endpoint ${endpointId} is disabled; enable it first`),
      ],
    };
  const n = await deps.webhooks.deliveries.startRedelivery(deliveryId);
  if (n === null) return { delivery: null, userErrors: [notFound('deliveryId', `delivery ${deliveryId} (it expired)`)] };
  await deps.webhooks.queue.redeliver({ deliveryId, endpointId }, n);
  return { delivery: await deps.webhooks.deliveries.get(deliveryId), userErrors: [] };
}

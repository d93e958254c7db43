import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GraphQLObjectType } from 'graphql';
import { schema } from '../../graphql/schema.ts';
import { fromGlobalId } from '../../graphql/global-id.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { type Proc, startProcess } from '../support/processes.ts';
import { type RestClient, restClient } from '../support/rest-client.ts';
import { startTrunkline, type Trunkline, waitForJob } from '../support/trunkline.ts';
import { type Receiver, type Received, startReceiver } from '../support/webhook-receiver.ts';

/**
 * Webhooks end to end: real gateway and worker processes, the private Redis and the lab's
 * hypervisors; receivers on loopback (node:http). Endpoints are registered through both APIs
 * (REST answers checked against openapi.yaml), jobs run on the lab, and what the receivers get
 * is verified with the `standardwebhooks` package. Retries use a short base delay (500 ms) so
 * their exponential gaps can be measured.
 */
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const labEnv = inject('labEnv');

const BACKOFF_MS = 500;
const MAX_ATTEMPTS = 4;
const TIMEOUT_MS = 1000;

let tl: Trunkline;
let secondWorker: Proc | undefined;
let api: RestClient;
const receivers: Receiver[] = [];
const bridges: string[] = [];
const newBridge = () => {
  const name = `wh${randomBytes(3).toString('hex')}`;
  bridges.push(name);
  return name;
};

beforeAll(async () => {
  tl = await startTrunkline({
    redisUrl,
    inventoryPath,
    env: {
      TRUNKLINE_WEBHOOK_BACKOFF_MS: String(BACKOFF_MS),
      TRUNKLINE_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      TRUNKLINE_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
  api = restClient(tl.url.replace(/\/graphql$/, '/'));
  // The first read of each host (SSH connections, libvirt's first answers) before anything is measured.
  const read = await gql(tl.url, 'mutation { refreshHypervisor { job { id } } }');
  expect((await waitForJob(tl.url, read.data.refreshHypervisor.job.id, '')).state).toBe('SUCCEEDED');
});

afterAll(async () => {
  // Receivers first: hanging requests are cut, so the worker stops promptly.
  await Promise.allSettled(receivers.map((r) => r.close()));
  await secondWorker?.stop();
  await tl?.stop();
  for (const b of bridges) await labExec(labEnv, 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', b]);
});

async function receiver(behaviour: Parameters<typeof startReceiver>[0] = 204): Promise<Receiver> {
  const r = await startReceiver(behaviour);
  receivers.push(r);
  return r;
}

interface Endpoint {
  id: string;
  /** The GraphQL global id. */
  gid: string;
  secret: string;
  receiver: Receiver;
}

const ENDPOINT_FIELDS = 'id restId url description enabled filter { eventTypes hypervisors kinds ticketRefPrefix } createdAt updatedAt';

async function registerRest(r: Receiver, body: Record<string, unknown> = {}): Promise<Endpoint> {
  const res = await api.call('POST', '/api/v1/webhooks', { body: { url: r.url, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.headers.get('location')).toBe(`/api/v1/webhooks/${res.body.endpoint.id}`);
  const gid = (await gql(tl.url, `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: res.body.endpoint.id })).data.webhookEndpoint
    .id;
  return { id: res.body.endpoint.id, gid, secret: res.body.secret, receiver: r };
}

async function registerGraphql(r: Receiver, input: Record<string, unknown> = {}): Promise<Endpoint> {
  const res = await gql(
    tl.url,
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } secret userErrors { field code message } } }`,
    { input: { url: r.url, ...input } },
  );
  expect(res.errors).toBeUndefined();
  const p = res.data.createWebhookEndpoint;
  expect(p.userErrors).toEqual([]);
  return { id: p.endpoint.restId, gid: p.endpoint.id, secret: p.secret, receiver: r };
}

const CREATE_BRIDGE = `mutation($input: CreateBridgeInput!) { createBridge(input: $input) { job { id } userErrors { field code message } } }`;
const JOB_TIMES = 'createdAt finishedAt';

/** The job's uuid (REST id, webhook data.jobId) from its GraphQL global id. */
const jobUuid = (gid: string) => fromGlobalId(gid)!.key;

async function createBridge(name: string, ticketRef?: string): Promise<{ id: string; state: string; durationMs: number }> {
  const res = await gql(tl.url, CREATE_BRIDGE, { input: { hypervisor: 'hv1', name, ...(ticketRef ? { ticketRef } : {}) } });
  expect(res.data.createBridge.userErrors).toEqual([]);
  const job = await waitForJob(tl.url, res.data.createBridge.job.id, JOB_TIMES);
  return {
    id: jobUuid(res.data.createBridge.job.id),
    state: job.state,
    durationMs: Date.parse(job.finishedAt) - Date.parse(job.createdAt),
  };
}

async function refresh(host: string): Promise<string> {
  const res = await gql(tl.url, `mutation($h: [String!]) { refreshHypervisor(input: { hypervisors: $h }) { job { id } } }`, { h: [host] });
  const gid = res.data.refreshHypervisor.job.id;
  expect((await waitForJob(tl.url, gid, '')).state).toBe('SUCCEEDED');
  return jobUuid(gid);
}

/** The job's events as REST shows them. */
async function eventsOf(jobId: string): Promise<any[]> {
  return (await api.call('GET', `/api/v1/jobs/${jobId}/events`)).body;
}

const ofJob = (jobId: string) => (rs: Received[]) => rs.filter((r) => r.json?.data?.jobId === jobId);

/** Every request verifies with the endpoint's secret (standardwebhooks), with the headers the spec names. */
function expectSigned(e: Endpoint, received: readonly Received[]): void {
  for (const r of received) {
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['webhook-id']).toMatch(/^msg_/);
    expect(r.headers['webhook-signature']).toMatch(/^v1,/);
    expect(new Webhook(e.secret).verify(r.body, r.headers as Record<string, string>)).toEqual(r.json);
  }
}

async function deliveries(e: Endpoint, query: Record<string, string> = {}): Promise<any[]> {
  const res = await api.call('GET', `/api/v1/webhooks/${e.id}/deliveries`, { query: { limit: 100, ...query } });
  expect(res.status).toBe(200);
  return res.body.items;
}

/** Polls the REST history until `done` holds for the delivery of `sequence`. */
async function waitForDelivery(e: Endpoint, jobId: string, done: (d: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = (await deliveries(e)).find((x) => x.jobId === jobId && x.jobEventType === 'SUCCEEDED');
    if (d && done(d)) return d;
    if (Date.now() > until) throw new Error(`delivery of ${jobId} to ${e.id}: not ${what} after ${timeoutMs} ms: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `probe` until it answers something (bounded). */
async function eventually<T>(probe: () => Promise<T | null>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const endpoints = {} as Record<'ticket' | 'outcomes' | 'hv2' | 'disabled' | 'all' | 'failing' | 'hanging' | 'good', Endpoint>;

describe('webhooks', () => {
  it('registers endpoints through both APIs: the secret is answered once, never listed', async () => {
    endpoints.ticket = await registerRest(await receiver(), {
      description: 'createBridge jobs of WH tickets',
      filter: { kinds: ['createBridge'], ticketRefPrefix: 'WH-' },
    });
    endpoints.outcomes = await registerGraphql(await receiver(), { filter: { eventTypes: ['SUCCEEDED', 'FAILED'] } });
    endpoints.hv2 = await registerRest(await receiver(), { filter: { hypervisors: ['hv2'] } });
    endpoints.disabled = await registerGraphql(await receiver(), { enabled: false, description: 'off' });
    endpoints.all = await registerRest(await receiver());

    for (const e of Object.values(endpoints)) expect(e.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(new Set(Object.values(endpoints).map((e) => e.secret)).size).toBe(5);

    const listed = await api.call('GET', '/api/v1/webhooks');
    expect(listed.body.items.map((e: any) => e.id)).toEqual(Object.values(endpoints).map((e) => e.id));
    expect(listed.body.items[0]).toMatchObject({
      url: endpoints.ticket!.receiver.url,
      description: 'createBridge jobs of WH tickets',
      enabled: true,
      filter: { eventTypes: [], hypervisors: [], kinds: ['createBridge'], ticketRefPrefix: 'WH-' },
    });
    expect(listed.body.items[3]).toMatchObject({
      enabled: false,
      filter: { eventTypes: [], hypervisors: [], kinds: [], ticketRefPrefix: null },
    });
    const one = await api.call('GET', `/api/v1/webhooks/${endpoints.outcomes!.id}`);
    expect(one.body).toMatchObject({ id: endpoints.outcomes!.id, filter: { eventTypes: ['SUCCEEDED', 'FAILED'] } });
    const viaGraphql = await gql(tl.url, `{ webhookEndpoints { ${ENDPOINT_FIELDS} } }`);
    expect(viaGraphql.data.webhookEndpoints.map((e: any) => e.restId)).toEqual(listed.body.items.map((e: any) => e.id));
    for (const e of Object.values(endpoints)) {
      const text = JSON.stringify([listed.body, one.body, viaGraphql.data]);
      expect(text).not.toContain(e.secret);
      expect(text).not.toContain('whsec_');
    }
    // Nor can the schema give it out (introspection is off on the gateway: the schema object says it).
    expect(Object.keys((schema.getType('WebhookEndpoint') as GraphQLObjectType).getFields())).not.toContain('secret');
    // node(id:) finds an endpoint by its global id.
    const node = await gql(tl.url, `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { restId } } }`, { id: endpoints.hv2!.gid });
    expect(node.data.node).toEqual({ restId: endpoints.hv2!.id });
  });

  it('refuses URLs that are not http(s), carry credentials or lead outside the allow-list, in both APIs; nothing is stored', async () => {
    const refused = async (url: string) => (await api.call('POST', '/api/v1/webhooks', { body: { url } })).body;
    expect(await refused('ftp://127.0.0.1/x')).toMatchObject({
      status: 400,
      code: 'INVALID_INPUT',
      errors: [{ field: ['url'], in: 'body', code: 'INVALID_INPUT' }],
    });
    expect(await refused('http://10.0.0.1/hook')).toMatchObject({
      status: 422,
      code: 'WEBHOOK_URL_NOT_ALLOWED',
      errors: [{ field: ['url'], code: 'WEBHOOK_URL_NOT_ALLOWED' }],
    });
    expect((await refused('http://hooks.example.invalid/')).detail).toMatch(/does not resolve/);
    expect((await refused('http://[::2]:80/')).code).toBe('WEBHOOK_URL_NOT_ALLOWED');
    const create = async (url: string) =>
      (
        await gql(
          tl.url,
          'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { field code message } } }',
          { input: { url } },
        )
      ).data.createWebhookEndpoint;
    expect(await create('http://169.254.169.254/latest/meta-data')).toMatchObject({
      endpoint: null,
      secret: null,
      userErrors: [{ field: ['input', 'url'], code: 'WEBHOOK_URL_NOT_ALLOWED' }],
    });
    expect((await create('http://user:pw@127.0.0.1/')).userErrors).toMatchObject([{ field: ['input', 'url'], code: 'INVALID_INPUT' }]);
    const patched = await api.call('PATCH', `/api/v1/webhooks/${endpoints.all!.id}`, { body: { url: 'http://192.168.1.1/' } });
    expect(patched.body).toMatchObject({ status: 422, code: 'WEBHOOK_URL_NOT_ALLOWED' });
    expect((await api.call('GET', `/api/v1/webhooks/${endpoints.all!.id}`)).body.url).toBe(endpoints.all!.receiver.url);
    expect((await api.call('GET', '/api/v1/webhooks')).body.items).toHaveLength(5);
  });

  it('delivers signed events to loopback receivers, each endpoint as its filter says, the disabled one nothing', async () => {
    const bridge = newBridge();
    const j1 = await createBridge(bridge, 'WH-1');
    const j2 = await createBridge(bridge, 'OPS-7');
    expect([j1.state, j2.state]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const j3 = await refresh('hv2');
    const jobs = [j1.id, j2.id, j3];
    const events = new Map<string, any[]>();
    for (const j of jobs) events.set(j, await eventsOf(j));

    // The catch-all endpoint gets every event of every job, once each.
    const { all, ticket, outcomes, hv2, disabled } = endpoints;
    const total = [...events.values()].reduce((n, es) => n + es.length, 0);
    await all.receiver.waitFor((rs) => jobs.every((j) => ofJob(j)(rs).length === events.get(j)!.length), `${total} events`);
    const got = all.receiver.received.filter((r) => jobs.includes(r.json.data.jobId));
    expect(got).toHaveLength(total);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(total);
    expectSigned(all, got);
    for (const [jobId, es] of events) {
      const byId = new Map(ofJob(jobId)(got).map((r) => [r.json.data.id, r.json]));
      for (const e of es) {
        const payload = byId.get(e.id);
        // type: job. + the event type in lower case; data: the event as REST shows it, with its fleet sequence.
        expect(payload.type).toBe(`job.${e.type.toLowerCase()}`);
        expect(payload.timestamp).toBe(e.at);
        expect(payload.data.sequence).toMatch(/^\d+-\d+$/);
        expect({ ...payload.data, sequence: null }).toEqual(e);
      }
    }
    // webhook-id is the delivery id in the history (each attempt is recorded once its answer came).
    const history = await eventually(async () => {
      const ds = (await deliveries(all)).filter((d: any) => jobs.includes(d.jobId));
      return ds.length === total && ds.every((d: any) => d.status === 'SUCCEEDED') ? ds : null;
    }, 'every delivery SUCCEEDED');
    expect(new Set(history.map((d: any) => d.id))).toEqual(new Set(got.map((r) => r.headers['webhook-id'])));
    for (const d of history)
      expect(d).toMatchObject({ attemptCount: 1, lastResponseCode: 204, attempts: [{ attempt: 1, responseCode: 204 }] });

    // kinds + ticketRef prefix: j1's events only.
    await ticket.receiver.waitFor((rs) => rs.length >= events.get(j1.id)!.length, "j1's events");
    expectSigned(ticket, ticket.receiver.received);
    expect(new Set(ticket.receiver.received.map((r) => r.json.data.jobId))).toEqual(new Set([j1.id]));
    // event types: the three jobs' SUCCEEDED.
    await outcomes.receiver.waitFor((rs) => rs.length >= 3, 'three outcomes');
    expectSigned(outcomes, outcomes.receiver.received);
    expect(outcomes.receiver.received.map((r) => r.json.type)).toEqual(['job.succeeded', 'job.succeeded', 'job.succeeded']);
    expect(new Set(outcomes.receiver.received.map((r) => r.json.data.jobId))).toEqual(new Set(jobs));
    // hypervisors: the read of hv2 only (its job-level events too: the job touches hv2).
    await hv2.receiver.waitFor((rs) => rs.length >= events.get(j3)!.length, "j3's events");
    expect(new Set(hv2.receiver.received.map((r) => r.json.data.jobId))).toEqual(new Set([j3]));

    // Every endpoint's deliveries of an event are recorded together, before any is sent: with the
    // catch-all's all there, the others' histories are complete.
    expect((await deliveries(ticket)).map((d: any) => d.jobId)).toEqual(events.get(j1.id)!.map(() => j1.id));
    expect((await deliveries(outcomes)).map((d: any) => d.jobEventType)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await deliveries(disabled)).toEqual([]);
    expect(disabled.receiver.received).toEqual([]);
    expect(ticket.receiver.received).toHaveLength(events.get(j1.id)!.length);
  });

  it('a failing and a hanging endpoint: retries with growing gaps, timeouts; neither holds up a job or the good endpoint', async () => {
    // Without them first.
    const before = await createBridge(newBridge(), 'WH-2');
    expect(before.state).toBe('SUCCEEDED');

    const onlySucceeded = { filter: { kinds: ['createBridge'], eventTypes: ['SUCCEEDED'] } };
    endpoints.failing = await registerRest(await receiver(500), onlySucceeded);
    endpoints.hanging = await registerGraphql(await receiver('hang'), onlySucceeded);
    endpoints.good = await registerRest(await receiver(), onlySucceeded);
    const { failing, hanging, good } = endpoints;

    const job = await createBridge(newBridge(), 'WH-3');
    expect(job.state).toBe('SUCCEEDED');
    const [delivered] = await good.receiver.waitFor((rs) => ofJob(job.id)(rs).length === 1, 'the job.succeeded delivery');
    expectSigned(good, [delivered!]);
    console.log(`createBridge job: ${before.durationMs} ms without the bad endpoints, ${job.durationMs} ms with them`);

    // The failing endpoint: every attempt, the same message id, each signed anew, then FAILED.
    const failed = await waitForDelivery(failing, job.id, (d) => d.status === 'FAILED', 'FAILED');
    const tries = ofJob(job.id)(failing.receiver.received);
    expect(tries).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(tries.map((r) => r.headers['webhook-id']))).toEqual(new Set([failed.id]));
    expectSigned(failing, tries);
    const gaps = tries.slice(1).map((r, i) => r.at - tries[i]!.at);
    console.log(`retry gaps of the failing endpoint: ${gaps.map((g) => Math.round(g)).join(', ')} ms`);
    // Exponential backoff: base × 1, 2, 4, … (never earlier), so each gap is longer than the one before.
    for (const [i, g] of gaps.entries()) expect(g).toBeGreaterThanOrEqual(BACKOFF_MS * 2 ** i - 5);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1]!);
    expect(failed).toMatchObject({
      attemptCount: MAX_ATTEMPTS,
      lastResponseCode: 500,
      lastError: { code: 'WEBHOOK_DELIVERY_FAILED', message: 'answered 500' },
      deliveredAt: null,
      nextAttemptAt: null,
    });
    expect(failed.attempts.map((a: any) => [a.attempt, a.responseCode, a.error.code, a.redelivery])).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, (_, i) => [i + 1, 500, 'WEBHOOK_DELIVERY_FAILED', false]),
    );

    // The hanging one: every attempt timed out.
    const timedOut = await waitForDelivery(hanging, job.id, (d) => d.status === 'FAILED', 'FAILED', 60_000);
    expect(timedOut).toMatchObject({ attemptCount: MAX_ATTEMPTS, lastResponseCode: null, lastError: { code: 'WEBHOOK_TIMEOUT' } });
    for (const a of timedOut.attempts) {
      expect(a).toMatchObject({ responseCode: null, error: { code: 'WEBHOOK_TIMEOUT', message: `no answer within ${TIMEOUT_MS} ms` } });
      expect(a.latencyMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    }
    const hung = ofJob(job.id)(hanging.receiver.received);
    expect(hung).toHaveLength(MAX_ATTEMPTS);
    expectSigned(hanging, hung);

    // The good endpoint had its event while both bad ones were still being retried.
    expect(delivered!.at).toBeLessThan(tries.at(-1)!.at);
    expect(delivered!.at).toBeLessThan(hung.at(-1)!.at);
    const goodDelivery = await waitForDelivery(good, job.id, (d) => d.status === 'SUCCEEDED', 'SUCCEEDED');
    expect(goodDelivery).toMatchObject({ attemptCount: 1, lastResponseCode: 204, lastError: null });
    expect(goodDelivery.attempts[0].latencyMs).toBeGreaterThanOrEqual(0);

    // The same history through GraphQL.
    const viaGraphql = await gql(
      tl.url,
      `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 10) { nodes { id status attemptCount lastResponseCode lastError { code }
        jobEventType type sequence job { id state } attempts { attempt responseCode latencyMs redelivery error { code message } } } } } }`,
      { id: failing.gid },
    );
    expect(viaGraphql.errors).toBeUndefined();
    const node = viaGraphql.data.webhookEndpoint.deliveries.nodes.find((n: any) => n.id === failed.id);
    expect(node).toMatchObject({
      status: 'FAILED',
      attemptCount: MAX_ATTEMPTS,
      lastResponseCode: 500,
      lastError: { code: 'WEBHOOK_DELIVERY_FAILED' },
      jobEventType: 'SUCCEEDED',
      type: 'job.succeeded',
      sequence: failed.sequence,
      job: { state: 'SUCCEEDED' },
    });
    expect(node.attempts).toEqual(failed.attempts.map(({ at: _at, ...a }: any) => a));
    const failedOnly = await deliveries(failing, { status: 'FAILED' });
    expect(failedOnly.map((d: any) => d.id)).toContain(failed.id);
    expect(await deliveries(failing, { status: 'SUCCEEDED' })).toEqual([]);
  });

  it('redeliver: the same message once more, through both APIs', async () => {
    const { failing, good } = endpoints;
    const [failed] = await deliveries(failing, { status: 'FAILED' });
    failing.receiver.answer(200);
    const res = await api.call('POST', `/api/v1/webhooks/${failing.id}/deliveries/${failed.id}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: failed.id, status: 'PENDING', redeliveries: 1 });
    const done = await waitForDelivery(failing, failed.jobId, (d) => d.status === 'SUCCEEDED', 'SUCCEEDED');
    expect(done).toMatchObject({ attemptCount: MAX_ATTEMPTS + 1, lastResponseCode: 200, lastError: null, redeliveries: 1 });
    expect(done.attempts.at(-1)).toMatchObject({ attempt: MAX_ATTEMPTS + 1, responseCode: 200, error: null, redelivery: true });
    const last = failing.receiver.received.at(-1)!;
    expect(last.headers['webhook-id']).toBe(failed.id);
    expectSigned(failing, [last]);

    const [goodOne] = await deliveries(good);
    const count = good.receiver.received.length;
    const viaGraphql = await gql(
      tl.url,
      'mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { delivery { id status redeliveries } userErrors { field code } } }',
      { input: { endpointId: good.gid, deliveryId: goodOne.id } },
    );
    expect(viaGraphql.data.redeliverWebhook).toMatchObject({
      delivery: { id: goodOne.id, status: 'PENDING', redeliveries: 1 },
      userErrors: [],
    });
    const again = await good.receiver.waitFor((rs) => rs.length > count, 'the redelivery');
    expect(again.at(-1)!.headers['webhook-id']).toBe(goodOne.id);
    expect(again.at(-1)!.body).toBe(again.find((r) => r.headers['webhook-id'] === goodOne.id)!.body);
    expectSigned(good, [again.at(-1)!]);

    const unknown = await api.call('POST', `/api/v1/webhooks/${good.id}/deliveries/msg_0000_1-0/redeliver`);
    expect(unknown.body).toMatchObject({ status: 404, code: 'NOT_FOUND', errors: [{ field: ['deliveryId'], in: 'path' }] });
    // Another endpoint's delivery is not this endpoint's.
    const foreign = await api.call('GET', `/api/v1/webhooks/${good.id}/deliveries/${failed.id}`);
    expect(foreign.status).toBe(404);
    expect((await api.call('GET', `/api/v1/webhooks/${failing.id}/deliveries/${failed.id}`)).body.id).toBe(failed.id);
    const noEndpoint = await gql(
      tl.url,
      'mutation($input: RedeliverWebhookInput!) { redeliverWebhook(input: $input) { delivery { id } userErrors { field code } } }',
      { input: { endpointId: 'ep_00000000000000000000', deliveryId: goodOne.id } },
    );
    expect(noEndpoint.data.redeliverWebhook).toEqual({
      delivery: null,
      userErrors: [{ field: ['input', 'endpointId'], code: 'NOT_FOUND' }],
    });
  });

  it('update and delete through both APIs: a disabled endpoint gets nothing and cannot be redelivered to', async () => {
    const { good, failing, hanging, all } = endpoints;
    const off = await gql(
      tl.url,
      `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } userErrors { field code } } }`,
      { input: { id: good.gid, enabled: false } },
    );
    expect(off.data.updateWebhookEndpoint.userErrors).toEqual([]);
    expect(off.data.updateWebhookEndpoint.endpoint).toMatchObject({
      enabled: false,
      filter: { kinds: ['createBridge'], eventTypes: ['SUCCEEDED'] },
    });
    const [goodOne] = await deliveries(good);
    const refused = await api.call('POST', `/api/v1/webhooks/${good.id}/deliveries/${goodOne.id}/redeliver`);
    expect(refused.body).toMatchObject({ status: 422, code: 'WEBHOOK_ENDPOINT_DISABLED' });

    const before = good.receiver.received.length;
    const job = await createBridge(newBridge(), 'WH-4');
    await all.receiver.waitFor((rs) => ofJob(job.id)(rs).some((r) => r.json.type === 'job.succeeded'), "the job's end");
    expect(good.receiver.received).toHaveLength(before);
    expect((await deliveries(good)).filter((d: any) => d.jobId === job.id)).toEqual([]);

    // A filter is replaced whole; other fields stay.
    const patched = await api.call('PATCH', `/api/v1/webhooks/${good.id}`, {
      body: { filter: { ticketRefPrefix: 'WH-' }, description: 'x' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      enabled: false,
      description: 'x',
      url: good.receiver.url,
      filter: { eventTypes: [], hypervisors: [], kinds: [], ticketRefPrefix: 'WH-' },
    });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(patched.body.createdAt));
    expect((await api.call('PATCH', '/api/v1/webhooks/ep_00000000000000000000', { body: { enabled: true } })).status).toBe(404);
    expect((await api.call('PATCH', `/api/v1/webhooks/${good.id}`, { body: { secret: 'mine' } })).status).toBe(400);

    expect((await api.call('DELETE', `/api/v1/webhooks/${failing.id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/webhooks/${failing.id}`)).status).toBe(404);
    expect((await api.call('GET', `/api/v1/webhooks/${failing.id}/deliveries`)).status).toBe(404);
    expect(await tl.redis.keys(`${tl.prefix}:webhook:endpoint:${failing.id}:*`)).toEqual([]);
    expect(await tl.redis.keys(`${tl.prefix}:webhook:delivery:msg_${failing.id.slice(3)}_*`)).toEqual([]);
    expect((await api.call('DELETE', `/api/v1/webhooks/${failing.id}`)).status).toBe(404);
    const deleted = await gql(
      tl.url,
      'mutation($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) { deletedId userErrors { field code } } }',
      { input: { id: hanging.gid } },
    );
    expect(deleted.data.deleteWebhookEndpoint).toEqual({ deletedId: hanging.gid, userErrors: [] });
    expect((await gql(tl.url, 'query($id: ID!) { webhookEndpoint(id: $id) { id } }', { id: hanging.gid })).data.webhookEndpoint).toBeNull();
    expect((await api.call('GET', '/api/v1/webhooks')).body.items.map((e: any) => e.id)).not.toContain(hanging.id);
  });

  it('events written while no worker ran are delivered after a restart; two workers share the log without duplicates', async () => {
    const { all } = endpoints;
    await tl.worker!.stop();
    // The gateway writes a job's QUEUED event itself: it waits in the log while no dispatcher reads.
    const bridge = newBridge();
    const res = await gql(tl.url, CREATE_BRIDGE, { input: { hypervisor: 'hv1', name: bridge, ticketRef: 'WH-6' } });
    const first = jobUuid(res.data.createBridge.job.id);
    await tl.startWorker();
    secondWorker = await startProcess('workers/main.ts', tl.env, 'worker ready');
    expect((await waitForJob(tl.url, res.data.createBridge.job.id, '')).state).toBe('SUCCEEDED');
    const more = [await createBridge(bridge, 'WH-7'), await createBridge(newBridge(), 'WH-8')].map((j) => j.id);
    const jobs = [first, ...more];
    const counts = new Map<string, number>();
    for (const j of jobs) counts.set(j, (await eventsOf(j)).length);
    await all.receiver.waitFor((rs) => jobs.every((j) => ofJob(j)(rs).length >= counts.get(j)!), "the three jobs' events");
    // Give a duplicate, if there were one, the time to arrive: until every delivery is recorded SUCCEEDED.
    await eventually(async () => {
      const ds = (await deliveries(all)).filter((d: any) => jobs.includes(d.jobId));
      return ds.length === [...counts.values()].reduce((a, b) => a + b, 0) && ds.every((d: any) => d.status === 'SUCCEEDED') ? ds : null;
    }, 'every delivery SUCCEEDED');
    for (const j of jobs) {
      const got = ofJob(j)(all.receiver.received);
      expect(got).toHaveLength(counts.get(j)!);
      expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(counts.get(j)!);
    }
    expect(ofJob(first)(all.receiver.received).map((r) => r.json.type)).toContain('job.queued');
    // Both consumers are in the group, and nothing is left unacknowledged.
    const groups = (await tl.redis.call('xinfo', 'groups', `${tl.prefix}:events`)) as unknown[][];
    const group = Object.fromEntries(Array.from({ length: groups[0]!.length / 2 }, (_, i) => [groups[0]![2 * i], groups[0]![2 * i + 1]]));
    expect(group).toMatchObject({ name: 'webhooks', consumers: 2, pending: 0 });
  });
});

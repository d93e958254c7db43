import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type GraphQLArgument,
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import { createClient } from 'graphql-ws';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { toGlobalId } from '../../graphql/global-id.ts';
import { schema } from '../../graphql/schema.ts';
import { compareStreamIds } from '../../src/jobs/stream-id.ts';
import { aliasFlood } from '../../bench/support/abusive-queries.ts';
import { authorization } from '../support/credentials.ts';
import { refusedStream } from '../support/streamed-post.ts';
import { freePort } from '../support/free-port.ts';
import { gql, subscribeSse } from '../support/graphql-client.ts';
import { type Proc, startProcess } from '../support/processes.ts';
import { DOCUMENTED_OPERATIONS, exercised, operationFor, type RestClient, restClient } from '../support/rest-client.ts';
import { startTrunkline, type Trunkline, waitForJob } from '../support/trunkline.ts';
import { type Receiver, startReceiver } from '../support/webhook-receiver.ts';

/**
 * The security suite (issue 12), each case a named test, on real gateway and worker processes,
 * the private Redis and the lab's two hypervisors: authentication on every entry point, roles,
 * host-group scope on every read, change and stream, token and host-group administration through
 * both APIs and the token command. REST answers are checked against openapi.yaml.
 */
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const run = promisify(execFile);

let tl: Trunkline;
let base: string;
let api: RestClient;
let other: Proc | undefined;
const tokens: Record<string, string> = {};
const seen: { operation: string; status: number; text: string }[] = [];
let restoreFetch = () => {};

const sfx = randomBytes(3).toString('hex');
const GROUP_A = `team-a-${sfx}`; // hv1
const GROUP_B = `team-b-${sfx}`; // hv2

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  base = tl.url.replace(/\/graphql$/, '');
  // Every answer of this file's requests (REST, GraphQL, pages; every client here uses fetch) is
  // kept for the scan for secrets at the end.
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    // (Not a new Request of input and init: that would take a streamed body from the real request.)
    const { pathname } = new URL(input instanceof Request ? input.url : String(input));
    const method = input instanceof Request ? input.method : (init?.method ?? 'GET');
    const operation = pathname === '/graphql' ? 'graphql' : (operationFor(method, pathname)?.operationId ?? pathname);
    // Streams stay unread here (reading a clone would wait for their end); the rest is kept.
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
      seen.push({ operation, status: res.status, text: await res.clone().text() });
    return res;
  };
  restoreFetch = () => {
    globalThis.fetch = realFetch;
  };
  api = restClient(`${base}/`);
  for (const [name, hypervisors] of [
    [GROUP_A, ['hv1']],
    [GROUP_B, ['hv2']],
  ] as const) {
    const put = await api.call('PUT', `/api/v1/host-groups/${name}`, { body: { hypervisors, description: `the lab's ${hypervisors[0]}` } });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
  }
  tokens.viewer = await tl.issueToken({ name: 'a-viewer', role: 'viewer' });
  tokens.operator = await tl.issueToken({ name: 'an-operator', role: 'operator' });
  tokens.operator2 = await tl.issueToken({ name: 'another-operator', role: 'operator' });
  tokens.teamA = await tl.issueToken({ name: 'team-a-operator', role: 'operator', hostGroups: [GROUP_A] });
  tokens.teamAdmin = await tl.issueToken({ name: 'team-a-admin', role: 'admin', hostGroups: [GROUP_A] });
  // Both hosts read once, so the views have something to show.
  const read = await gql(tl.url, 'mutation { refreshHypervisor { job { id } } }');
  expect((await waitForJob(tl.url, read.data.refreshHypervisor.job.id, '')).state).toBe('SUCCEEDED');
});

afterAll(async () => {
  restoreFetch();
  await other?.stop();
  await tl?.stop();
});

const jobCount = async () => (await tl.redis.keys(`${tl.prefix}:job:*`)).filter((k) => /:job:[0-9a-f-]{36}$/.test(k)).length;

/** A GraphQL value of the right type for every required argument and field: enough to pass validation. */
function placeholder(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return [placeholder(type.ofType)];
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, placeholder(f.type)]),
    );
  if (isEnumType(type)) return type.getValues()[0]!.name;
  const named = getNamedType(type);
  if (isScalarType(named))
    return (
      { Int: 1, Float: 1, Boolean: false, DateTime: '2030-01-01T00:00:00Z', ID: '00000000-0000-4000-8000-000000000000', String: 'hv1' }[
        named.name
      ] ?? 'x'
    );
  return null;
}
const inputTypeName = (a: GraphQLArgument) => String(a.type);

describe('authentication on every entry point', () => {
  /** Credentials that must all be refused: none, malformed, wrong secret, unknown id, expired, revoked. */
  async function refusedCredentials(): Promise<Record<string, string | null>> {
    const good = await tl.issueToken({ name: `victim-${sfx}`, role: 'viewer' });
    const id = good.split('_')[1]!;
    const expiring = await tl.issueToken({ name: `expiring-${sfx}`, role: 'viewer', expiresAt: new Date(Date.now() + 1500).toISOString() });
    const revoked = await tl.issueToken({ name: `revoked-${sfx}`, role: 'viewer' });
    expect((await api.call('DELETE', `/api/v1/tokens/tl_${revoked.split('_')[1]}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    return {
      none: null,
      malformed: 'not-a-token',
      'wrong secret': `tl_${id}_${randomBytes(32).toString('base64url')}`,
      'unknown id': `tl_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`,
      expired: expiring,
      revoked,
    };
  }

  it('no, a malformed, wrong, unknown, expired and revoked token: 401 UNAUTHENTICATED on GraphQL HTTP, SSE, WebSocket, REST, REST SSE, docs and /healthz', async () => {
    const before = await jobCount();
    for (const [what, token] of Object.entries(await refusedCredentials())) {
      const header: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
      const post = (path: string, accept: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept, ...header },
          body: JSON.stringify(body),
        });
      const cases: [string, Promise<Response>][] = [
        ['GraphQL query', post('/graphql', 'application/graphql-response+json', { query: '{ hypervisors { name } }' })],
        ['GraphQL mutation', post('/graphql', 'application/json', { query: 'mutation { refreshHypervisor { job { id } } }' })],
        ['GraphQL SSE', post('/graphql', 'text/event-stream', { query: 'subscription { jobEvents { type } }' })],
        ['REST', fetch(`${base}/api/v1/hypervisors`, { headers: header })],
        ['REST change', fetch(`${base}/api/v1/hypervisors/hv1/refresh`, { method: 'POST', headers: header })],
        ['REST SSE', fetch(`${base}/api/v1/events`, { headers: { accept: 'text/event-stream', ...header } })],
        ['API reference', fetch(`${base}/api/docs`, { headers: header })],
        ['OpenAPI document', fetch(`${base}/api/openapi.json`, { headers: header })],
        ['GraphiQL page', fetch(`${base}/graphql`, { headers: { accept: 'text/html', ...header } })],
        ['/healthz', fetch(`${base}/healthz`, { headers: header })],
      ];
      for (const [entry, pending] of cases) {
        const res = await pending;
        const text = await res.text();
        expect(res.status, `${what} on ${entry}: ${text}`).toBe(401);
        expect(JSON.parse(text), `${what} on ${entry}`).toMatchObject(
          entry.startsWith('GraphQL') && entry !== 'GraphiQL page'
            ? { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] }
            : { code: 'UNAUTHENTICATED', status: 401 },
        );
        // Pages a browser opens prompt for credentials (Basic: the token as the password); APIs say Bearer.
        const page = entry === 'API reference' || entry === 'OpenAPI document' || entry === 'GraphiQL page';
        expect(res.headers.get('www-authenticate'), `${what} on ${entry}`).toMatch(
          page && entry !== 'OpenAPI document' ? /^Basic realm="Trunkline"/ : /^(Bearer|Basic) realm="Trunkline"/,
        );
      }
      // The REST answer is the documented problem.
      const documented = await api.call('GET', '/api/v1/hypervisors', { token });
      expect(documented.status).toBe(401);
      // WebSocket: the connection is closed with 4401.
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        const client = createClient({
          url: tl.url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: false,
          connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
          on: { closed: (e) => resolve({ code: (e as CloseEvent).code, reason: (e as CloseEvent).reason }) },
          onNonLazyError: () => {},
        });
        setTimeout(() => void client.dispose(), 5000);
      });
      expect(closed.code, `${what} over WebSocket: ${closed.reason}`).toBe(4401);
      expect(closed.reason).toMatch(/^Unauthorized/);
    }
    expect(await jobCount()).toBe(before);
  });

  it('a valid token passes every entry point, as Bearer and as the Basic password; requestedBy is its name, whatever headers say', async () => {
    const bearer = authorization(base);
    const basic = { authorization: `Basic ${Buffer.from(`anyone:${tl.adminToken}`).toString('base64')}` };
    for (const h of [bearer, basic]) {
      expect((await fetch(`${base}/api/v1/me`, { headers: h })).status).toBe(200);
      expect((await fetch(`${base}/api/docs`, { headers: h })).status).toBe(200);
      expect((await fetch(`${base}/healthz`, { headers: h })).status).toBe(200);
      const res = await fetch(tl.url, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ me { name role } }' }),
      });
      expect(await res.json()).toEqual({ data: { me: { name: 'test-admin', role: 'ADMIN' } } });
    }
    // Every answer: no sniffing, no framing, no Referer; the API reference under a CSP of its own origin.
    for (const path of ['/api/docs', '/api/v1/me', '/healthz', '/api/openapi.json']) {
      const res = await fetch(`${base}${path}`, { headers: bearer });
      expect([
        path,
        res.headers.get('x-content-type-options'),
        res.headers.get('x-frame-options'),
        res.headers.get('referrer-policy'),
      ]).toEqual([path, 'nosniff', 'DENY', 'no-referrer']);
    }
    expect((await fetch(`${base}/api/docs`, { headers: bearer })).headers.get('content-security-policy')).toMatch(
      /^default-src 'self';.*frame-ancestors 'none'/,
    );
    const graphqlAnswer = await fetch(tl.url, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"query":"{ me { name } }"}',
    });
    expect(graphqlAnswer.headers.get('x-frame-options')).toBe('DENY');
    // No CORS: a page of another origin gets no Access-Control-Allow-Origin.
    const cors = await fetch(tl.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(cors.headers.get('access-control-allow-origin')).toBeNull();
    const me = await api.call('GET', '/api/v1/me', { token: tokens.teamA });
    expect(me.body).toEqual({
      name: 'team-a-operator',
      role: 'operator',
      hostGroups: [GROUP_A],
      tokenId: `tl_${tokens.teamA!.split('_')[1]}`,
    });
    // A header naming someone else changes nothing: who asked comes from the token.
    const job = await api.call('POST', '/api/v1/hypervisors/hv1/refresh', {
      token: tokens.operator,
      headers: { 'x-trunkline-user': 'mallory' },
    });
    expect(job.status).toBe(202);
    expect(job.body.requestedBy).toBe('an-operator');
    // Over WebSocket too.
    const seen = await new Promise<unknown>((resolve, reject) => {
      const client = createClient({
        url: tl.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${tokens.viewer}` },
      });
      client.subscribe({ query: '{ me { name } }' }, { next: (v) => resolve(v), error: reject, complete: () => void client.dispose() });
    });
    expect(seen).toEqual({ data: { me: { name: 'a-viewer' } } });
  });

  it('a revoked token is refused at once on its gateway and within about a second on another', async () => {
    const port = await freePort();
    other = await startProcess('gateway/main.ts', { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port) }, 'gateway listening');
    const otherBase = `http://127.0.0.1:${port}`;
    const token = await tl.issueToken({ name: `short-lived-${sfx}`, role: 'viewer' });
    const me = (b: string) => fetch(`${b}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect([await me(base), await me(otherBase)]).toEqual([200, 200]);
    const revoked = await gql(
      tl.url,
      'mutation($id: ID!) { revokeApiToken(input: { id: $id }) { token { revokedAt } userErrors { code } } }',
      { id: `tl_${token.split('_')[1]}` },
    );
    expect(revoked.data.revokeApiToken.userErrors).toEqual([]);
    expect(await me(base)).toBe(401);
    // The other gateway cached the record for at most a second.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await me(otherBase)).toBe(401);
  });
});

describe('an identity provider (OIDC)', () => {
  it("accepts its JWTs as callers (role and host groups from the claims) and refuses another issuer's, audience's or key's, and expired ones", async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const { privateKey: otherKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    // The provider's JWKS, on loopback.
    const jwks = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    const issuer = 'https://idp.test.invalid/';
    const port = await freePort();
    const gw = await startProcess(
      'gateway/main.ts',
      {
        ...tl.env,
        TRUNKLINE_LISTEN_PORT: String(port),
        TRUNKLINE_OIDC_ISSUER: issuer,
        TRUNKLINE_OIDC_AUDIENCE: 'trunkline',
        TRUNKLINE_OIDC_JWKS_URL: jwksUrl,
      },
      'gateway listening',
    );
    try {
      const sign = (claims: Record<string, unknown>, o: { key?: CryptoKey; iss?: string; aud?: string; exp?: string | number } = {}) =>
        new SignJWT({ preferred_username: 'alice', ...claims })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setSubject('user-42')
          .setIssuer(o.iss ?? issuer)
          .setAudience(o.aud ?? 'trunkline')
          .setIssuedAt()
          .setExpirationTime(o.exp ?? '5m')
          .sign(o.key ?? privateKey);
      const me = async (jwt: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { authorization: `Bearer ${jwt}` } });
        return { status: res.status, body: await res.json() };
      };
      expect(await me(await sign({ trunkline_role: ['viewer', 'operator'], trunkline_host_groups: [GROUP_A] }))).toEqual({
        status: 200,
        body: { name: 'alice', role: 'operator', hostGroups: [GROUP_A], tokenId: null },
      });
      // Its scope holds as a token's does.
      const team = await sign({ trunkline_role: 'operator', trunkline_host_groups: [GROUP_A] });
      const hosts = await gql(`http://127.0.0.1:${port}/graphql`, '{ hypervisors { name } }', {}, { token: team });
      expect(hosts.data.hypervisors).toEqual([{ name: 'hv1' }]);
      const job = await fetch(`http://127.0.0.1:${port}/api/v1/hypervisors/hv1/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${team}` },
      });
      expect([job.status, (await job.json()).requestedBy]).toEqual([202, 'alice']);
      for (const [why, jwt] of [
        ['another key', await sign({ trunkline_role: 'admin' }, { key: otherKey })],
        ['another issuer', await sign({ trunkline_role: 'admin' }, { iss: 'https://evil.invalid/' })],
        ['another audience', await sign({ trunkline_role: 'admin' }, { aud: 'someone-else' })],
        ['expired', await sign({ trunkline_role: 'admin' }, { exp: Math.floor(Date.now() / 1000) - 60 })],
        ['no role', await sign({})],
      ] as const) {
        const r = await me(jwt);
        expect([why, r.status, r.body.code]).toEqual([why, 401, 'UNAUTHENTICATED']);
      }
    } finally {
      await gw.stop();
      await new Promise((r) => jwks.close(r));
    }
  });
});

describe('roles', () => {
  it('a viewer reads, and every mutation and REST change is refused FORBIDDEN: nothing queued, no host touched', async () => {
    expect((await gql(tl.url, '{ hypervisors { name } }', {}, { token: tokens.viewer })).data.hypervisors.map((h: any) => h.name)).toEqual([
      'hv1',
      'hv2',
    ]);
    const before = await jobCount();
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(25);
    for (const m of mutations) {
      const args = m.args;
      const vars = Object.fromEntries(args.map((a) => [a.name, placeholder(a.type)]));
      const query = `mutation(${args.map((a) => `$${a.name}: ${inputTypeName(a)}`).join(', ')}) { ${m.name}${args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : ''} { userErrors { code field message } } }`;
      const res = await gql(tl.url, query.replace('mutation()', 'mutation'), vars, { token: tokens.viewer });
      expect(res.errors, `${m.name}: ${JSON.stringify(res.errors)}`).toBeUndefined();
      const errors = (res.data[m.name] as { userErrors: { code: string }[] }).userErrors;
      expect(
        errors.map((e) => e.code),
        `${m.name}: ${JSON.stringify(errors)}`,
      ).toContain('FORBIDDEN');
    }
    for (const op of DOCUMENTED_OPERATIONS.filter((o) => o.method !== 'GET')) {
      const path = op.path.replace(/\{[^}]+\}/g, (p) => ({ '{name}': 'hv1', '{tag}': '1771', '{mac}': '52:54:00:00:00:01' })[p] ?? 'x');
      const res = await api.call(op.method, path, { token: tokens.viewer, body: op.method === 'DELETE' ? undefined : {} });
      expect(res.status, `${op.operationId}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    expect(await jobCount()).toBe(before);
  });

  it('an operator changes hosts but does no admin work: hosts, tokens, host groups, webhooks', async () => {
    const before = await jobCount();
    const denied = [
      await api.call('POST', '/api/v1/hypervisors', { token: tokens.operator, body: { name: 'hv9', address: '127.0.0.1', user: 'x' } }),
      await api.call('DELETE', '/api/v1/hypervisors/hv2', { token: tokens.operator }),
      await api.call('GET', '/api/v1/tokens', { token: tokens.operator }),
      await api.call('POST', '/api/v1/tokens', { token: tokens.operator, body: { name: 'escalate', role: 'admin' } }),
      await api.call('PUT', `/api/v1/host-groups/${GROUP_A}`, { token: tokens.operator, body: { hypervisors: ['hv1', 'hv2'] } }),
      await api.call('GET', '/api/v1/webhooks', { token: tokens.operator }),
      await api.call('POST', '/api/v1/webhooks', { token: tokens.operator, body: { url: 'http://127.0.0.1:9/x' } }),
    ];
    for (const r of denied) expect([r.operationId, r.status, r.body.code]).toEqual([r.operationId, 403, 'FORBIDDEN']);
    const viaGraphql = await gql(tl.url, '{ apiTokens { name } }', {}, { token: tokens.operator });
    expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const webhooks = await gql(tl.url, '{ webhookEndpoints { url } }', {}, { token: tokens.operator });
    expect(webhooks.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await jobCount()).toBe(before);
    // What an operator may: a change (a dry run here) and a refresh.
    const plan = await api.call('POST', '/api/v1/hypervisors/hv1/bridges', {
      token: tokens.operator,
      body: { name: `sec${sfx}` },
      query: { dryRun: 'true' },
    });
    expect(plan.status).toBe(200);
  });

  it('an operator cancels its own jobs only; an admin any', async () => {
    const job = await api.call('POST', '/api/v1/hypervisors/hv2/refresh', { token: tokens.operator });
    expect(job.status).toBe(202);
    await waitForJob(tl.url, toGlobalId('Job', job.body.id), '');
    // Another operator: not its job.
    const theirs = await api.call('POST', `/api/v1/jobs/${job.body.id}/cancel`, { token: tokens.operator2 });
    expect([theirs.status, theirs.body.code]).toEqual([403, 'FORBIDDEN']);
    // Its own, and an admin: allowed (the job has ended, so the answer is JOB_FINISHED).
    for (const token of [tokens.operator, tl.adminToken]) {
      const mine = await api.call('POST', `/api/v1/jobs/${job.body.id}/cancel`, { token });
      expect([mine.status, mine.body.code]).toEqual([409, 'JOB_FINISHED']);
    }
  });
});

describe('a team token (host group team-a: hv1) neither sees nor touches hv2', () => {
  let hv2Job: string;
  beforeAll(async () => {
    const r = await api.call('POST', '/api/v1/hypervisors/hv2/refresh');
    hv2Job = r.body.id;
    await waitForJob(tl.url, toGlobalId('Job', hv2Job), '');
  });

  it('GraphQL reads: hypervisors, hypervisor(name:), node(id:) with guessed ids, vlans, jobs, job(id:)', async () => {
    const q = (query: string, variables = {}) => gql(tl.url, query, variables, { token: tokens.teamA });
    expect((await q('{ hypervisors { name } }')).data.hypervisors).toEqual([{ name: 'hv1' }]);
    for (const name of ['hv2', 'no-such-host']) {
      const r = await q('query($n: String!) { hypervisor(name: $n) { name } }', { n: name });
      expect(r.errors?.[0]).toMatchObject({
        message: `name: hypervisor ${name} does not exist or is not allowed to this token`,
        extensions: { code: 'FORBIDDEN' },
      });
    }
    for (const id of [
      toGlobalId('Hypervisor', 'hv2'),
      toGlobalId('Bridge', 'hv2/ovsbr0'),
      toGlobalId('Port', 'hv2/ovsbr0/enp5s0f0'),
      toGlobalId('Network', 'hv2/ovs-network'),
      toGlobalId('Vm', 'hv2/00000000-0000-0000-0000-000000000000'),
      toGlobalId('Job', hv2Job),
    ]) {
      const r = await q('query($id: ID!) { node(id: $id) { id } }', { id });
      expect(r.errors?.[0]?.extensions?.code, `${id}: ${JSON.stringify(r)}`).toBe('FORBIDDEN');
    }
    const own = await q('query($id: ID!) { node(id: $id) { ... on Hypervisor { name } } }', { id: toGlobalId('Hypervisor', 'hv1') });
    expect(own.data.node).toEqual({ name: 'hv1' });
    const vlans = await q('{ vlans { tag hypervisors { name } interfaces { hypervisor } } }');
    for (const v of vlans.data.vlans) {
      expect(v.hypervisors.map((h: any) => h.name).filter((n: string) => n !== 'hv1')).toEqual([]);
      expect(v.interfaces.filter((i: any) => i.hypervisor !== 'hv1')).toEqual([]);
    }
    const jobs = await q('{ jobs(first: 100) { nodes { id hypervisors } } }');
    expect(jobs.data.jobs.nodes.length).toBeGreaterThan(0);
    for (const j of jobs.data.jobs.nodes) expect(j.hypervisors).toEqual(['hv1']);
    const guessed = await q('query($id: ID!) { job(id: $id) { id } }', { id: hv2Job });
    expect(guessed.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Following another team's job: refused at the subscription's start.
    const sub = await fetch(tl.url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${tokens.teamA}` },
      body: JSON.stringify({ query: 'subscription($id: ID!) { jobProgress(id: $id) { type } }', variables: { id: hv2Job } }),
    });
    expect(await sub.text()).toContain('FORBIDDEN');
    // A job id that does not exist answers the same.
    const none = await q('query($id: ID!) { job(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' });
    expect(none.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('REST reads: lists filtered, hv2 and its objects 403 whether they exist or not', async () => {
    const list = await api.call('GET', '/api/v1/hypervisors', { token: tokens.teamA });
    expect(list.body.items.map((h: any) => h.name)).toEqual(['hv1']);
    for (const path of [
      '/api/v1/hypervisors/hv2',
      '/api/v1/hypervisors/hv2/bridges',
      '/api/v1/hypervisors/hv2/vms',
      '/api/v1/hypervisors/hv2/networks',
      '/api/v1/hypervisors/nonexistent/bridges',
      `/api/v1/jobs/${hv2Job}`,
      `/api/v1/jobs/${hv2Job}/events`,
    ]) {
      const r = await api.call('GET', path, { token: tokens.teamA });
      expect([path, r.status, r.body.code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    const jobs = await api.call('GET', '/api/v1/jobs', { token: tokens.teamA, query: { limit: 100 } });
    for (const j of jobs.body.items) expect(j.hypervisors).toEqual(['hv1']);
    expect(jobs.body.items.map((j: any) => j.id)).not.toContain(hv2Job);
  });

  it('changes naming hv2 are refused whole, through both APIs; nothing queued', async () => {
    const before = await jobCount();
    const one = await gql(
      tl.url,
      'mutation { createBridge(input: { hypervisor: "hv2", name: "nope" }) { job { id } userErrors { field code message } } }',
      {},
      { token: tokens.teamA },
    );
    expect(one.data.createBridge).toEqual({
      job: null,
      userErrors: [
        {
          field: ['input', 'hypervisor'],
          code: 'FORBIDDEN',
          message: 'hypervisor: hypervisor hv2 does not exist or is not allowed to this token',
        },
      ],
    });
    const fleet = await gql(
      tl.url,
      'mutation { ensureVlan(input: { tag: 1771, hypervisors: ["hv1", "hv2"], dryRun: true }) { plan { hypervisors } userErrors { field code } } }',
      {},
      { token: tokens.teamA },
    );
    expect(fleet.data.ensureVlan).toEqual({ plan: null, userErrors: [{ field: ['input', 'hypervisors', '1'], code: 'FORBIDDEN' }] });
    const rest = await api.call('PUT', '/api/v1/vlans/1771', { token: tokens.teamA, body: { hypervisors: ['hv1', 'hv2'] } });
    expect([rest.status, rest.body.errors[0]]).toEqual([
      403,
      {
        field: ['hypervisors', '1'],
        in: 'body',
        code: 'FORBIDDEN',
        message: 'hypervisors.1: hypervisor hv2 does not exist or is not allowed to this token',
      },
    ]);
    const refresh = await api.call('POST', '/api/v1/hypervisors/hv2/refresh', { token: tokens.teamA });
    expect(refresh.status).toBe(403);
    // An admin of team-a cannot register or remove hv2 either.
    const removed = await api.call('DELETE', '/api/v1/hypervisors/hv2', { token: tokens.teamAdmin });
    expect(removed.status).toBe(403);
    expect(await jobCount()).toBe(before);
    // Its own host: allowed; a refresh of "all" is all of its scope.
    const all = await gql(
      tl.url,
      'mutation { refreshHypervisor { job { hypervisors } userErrors { code } } }',
      {},
      { token: tokens.teamA },
    );
    expect(all.data.refreshHypervisor).toEqual({ job: { hypervisors: ['hv1'] }, userErrors: [] });
  });

  it('subscriptions deliver only the events of its hosts (GraphQL jobEvents, REST /events)', async () => {
    const abort = new AbortController();
    const seen: any[] = [];
    const stream = (async () => {
      for await (const msg of subscribeSse(
        tl.url,
        'subscription { jobEvents(filter: { types: [SUCCEEDED] }) { job { hypervisors } } }',
        {},
        abort.signal,
        { token: tokens.teamA },
      ))
        seen.push(msg.data.jobEvents);
    })().catch(() => {});
    const rest = await api.sse('/api/v1/events', { token: tokens.teamA, query: { types: 'SUCCEEDED' } });
    await new Promise((r) => setTimeout(r, 300));
    const jobs = [await api.call('POST', '/api/v1/hypervisors/hv2/refresh'), await api.call('POST', '/api/v1/hypervisors/hv1/refresh')];
    for (const j of jobs) await waitForJob(tl.url, toGlobalId('Job', j.body.id), '');
    const restSeen: any[] = [];
    for await (const e of rest.events) {
      restSeen.push(e.data);
      if (e.data.jobId === jobs[1]!.body.id) break;
    }
    rest.close();
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await stream;
    // Its own job's event came; the one of hv2 did not (other jobs of hv1 may have ended meanwhile).
    expect(seen.length).toBeGreaterThan(0);
    for (const e of seen) expect(e).toEqual({ job: { hypervisors: ['hv1'] } });
    expect(restSeen.map((e) => e.jobId)).toContain(jobs[1]!.body.id);
    expect(restSeen.map((e) => e.jobId)).not.toContain(jobs[0]!.body.id);
  });
});

describe("a team admin's webhook endpoint", () => {
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await receiver?.close();
  });

  it('gets only the events of its hosts; other teams neither see nor change it', async () => {
    receiver = await startReceiver();
    const made = await api.call('POST', '/api/v1/webhooks', {
      token: tokens.teamAdmin,
      body: { url: receiver.url, filter: { eventTypes: ['SUCCEEDED'] } },
    });
    expect(made.status).toBe(201);
    const id = made.body.endpoint.id;
    expect(made.body.endpoint.owner).toEqual({
      name: 'team-a-admin',
      tokenId: `tl_${tokens.teamAdmin!.split('_')[1]}`,
      hostGroups: [GROUP_A],
    });
    const teamB = await tl.issueToken({ name: 'team-b-admin', role: 'admin', hostGroups: [GROUP_B] });
    expect((await api.call('GET', `/api/v1/webhooks/${id}`, { token: teamB })).status).toBe(403);
    expect((await api.call('PATCH', `/api/v1/webhooks/${id}`, { token: teamB, body: { enabled: false } })).status).toBe(403);
    expect((await api.call('DELETE', `/api/v1/webhooks/${id}`, { token: teamB })).status).toBe(403);
    const listed = await api.call('GET', '/api/v1/webhooks', { token: teamB });
    expect(listed.body.items.map((e: any) => e.id)).not.toContain(id);
    expect((await api.call('GET', `/api/v1/webhooks/${id}`)).body.owner.hostGroups).toEqual([GROUP_A]);
    // Jobs on both hosts (an admin of every host asks): the endpoint gets hv1's only.
    const hv2 = await api.call('POST', '/api/v1/hypervisors/hv2/refresh');
    const hv1 = await api.call('POST', '/api/v1/hypervisors/hv1/refresh');
    for (const j of [hv2, hv1]) await waitForJob(tl.url, toGlobalId('Job', j.body.id), '');
    await receiver.waitFor((rs) => rs.some((r) => r.json?.data?.jobId === hv1.body.id), 'the hv1 job');
    // One more job of hv1, after both in the fleet log: once its event is there, hv2's would be too, had it been dispatched.
    const last = await api.call('POST', '/api/v1/hypervisors/hv1/refresh');
    await waitForJob(tl.url, toGlobalId('Job', last.body.id), '');
    await receiver.waitFor((rs) => rs.some((r) => r.json?.data?.jobId === last.body.id), 'the last hv1 job');
    expect(receiver.received.map((r) => r.json?.data?.jobId)).not.toContain(hv2.body.id);
    expect((await api.call('DELETE', `/api/v1/webhooks/${id}`, { token: tokens.teamAdmin })).status).toBe(204);
  });
});

describe('token and host-group administration', () => {
  it('admins create, list, read and revoke tokens through both APIs; the secret is answered once and never listed', async () => {
    const created = await gql(
      tl.url,
      'mutation { createApiToken(input: { name: "ci-bot", role: OPERATOR, expiresAt: "2099-01-01T00:00:00Z" }) { token { tokenId name role hostGroups expiresAt createdBy revokedAt } secret userErrors { code } } }',
    );
    const { token, secret } = created.data.createApiToken;
    expect(token).toMatchObject({
      name: 'ci-bot',
      role: 'OPERATOR',
      hostGroups: null,
      expiresAt: '2099-01-01T00:00:00.000Z',
      createdBy: 'test-admin',
      revokedAt: null,
    });
    expect(secret).toMatch(/^tl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(`${token.tokenId}_`)).toBe(true);
    expect((await api.call('GET', '/api/v1/me', { token: secret })).body.name).toBe('ci-bot');
    const listed = await api.call('GET', '/api/v1/tokens', { query: { limit: 100 } });
    const mine = listed.body.items.find((t: any) => t.id === token.tokenId);
    expect(mine).toMatchObject({ name: 'ci-bot', role: 'operator', revokedAt: null });
    // The secret part: after tl_ and the 16-character id.
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(20));
    const one = await api.call('GET', `/api/v1/tokens/${token.tokenId}`);
    expect(one.body.lastUsedAt).not.toBeNull();
    const viaRest = await api.call('POST', '/api/v1/tokens', { body: { name: 'rest-made', role: 'viewer', hostGroups: [GROUP_B] } });
    expect(viaRest.status).toBe(201);
    expect(viaRest.headers.get('location')).toBe(`/api/v1/tokens/${viaRest.body.token.id}`);
    const bad = await api.call('POST', '/api/v1/tokens', { body: { name: 'x', role: 'root', hostGroups: ['no-such-group'] } });
    expect([bad.status, bad.body.errors.map((e: any) => e.field.join('.'))]).toEqual([400, ['role']]);
    const unknownGroup = await api.call('POST', '/api/v1/tokens', { body: { name: 'x', role: 'viewer', hostGroups: ['no-such-group'] } });
    expect([unknownGroup.status, unknownGroup.body.code]).toEqual([422, 'NOT_FOUND']);
    const revoked = await api.call('DELETE', `/api/v1/tokens/${token.tokenId}`);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await api.call('GET', '/api/v1/me', { token: secret })).status).toBe(401);
    expect((await api.call('GET', '/api/v1/tokens/tl_0000000000000000')).status).toBe(404);
  });

  it('an admin limited to a host group makes tokens within its groups only, and cannot change groups', async () => {
    const own = await api.call('POST', '/api/v1/tokens', {
      token: tokens.teamAdmin,
      body: { name: 'team-a-bot', role: 'viewer', hostGroups: [GROUP_A] },
    });
    expect(own.status).toBe(201);
    for (const body of [
      { name: 'wide', role: 'viewer' },
      { name: 'other-team', role: 'viewer', hostGroups: [GROUP_B] },
    ]) {
      const r = await api.call('POST', '/api/v1/tokens', { token: tokens.teamAdmin, body });
      expect([r.status, r.body.code]).toEqual([403, 'FORBIDDEN']);
    }
    const listed = await api.call('GET', '/api/v1/tokens', { token: tokens.teamAdmin, query: { limit: 100 } });
    for (const t of listed.body.items) expect(t.hostGroups).toEqual([GROUP_A]);
    const widen = await api.call('PUT', `/api/v1/host-groups/${GROUP_A}`, {
      token: tokens.teamAdmin,
      body: { hypervisors: ['hv1', 'hv2'] },
    });
    expect(widen.status).toBe(403);
    const groups = await api.call('GET', '/api/v1/host-groups', { token: tokens.teamA });
    expect(groups.body.items.map((g: any) => g.name)).toEqual([GROUP_A]);
    expect((await api.call('GET', `/api/v1/host-groups/${GROUP_B}`, { token: tokens.teamA })).status).toBe(403);
  });

  it('host groups through both APIs; deleting one takes its hosts from the tokens limited to it', async () => {
    const name = `tmp-${sfx}`;
    const put = await gql(
      tl.url,
      'mutation($n: String!) { putHostGroup(input: { name: $n, hypervisors: ["hv2", "hv2"] }) { group { name hypervisors } userErrors { code } } }',
      { n: name },
    );
    expect(put.data.putHostGroup).toEqual({ group: { name, hypervisors: ['hv2'] }, userErrors: [] });
    const token = await tl.issueToken({ name: 'tmp-viewer', role: 'viewer', hostGroups: [name] });
    expect((await gql(tl.url, '{ hypervisors { name } }', {}, { token })).data.hypervisors).toEqual([{ name: 'hv2' }]);
    const replaced = await api.call('PUT', `/api/v1/host-groups/${name}`, { body: { hypervisors: ['hv1'] } });
    expect([replaced.status, replaced.body.hypervisors]).toEqual([200, ['hv1']]);
    expect((await gql(tl.url, '{ hypervisors { name } }', {}, { token })).data.hypervisors).toEqual([{ name: 'hv1' }]);
    expect((await api.call('GET', `/api/v1/host-groups/${name}`)).body.name).toBe(name);
    const bad = await api.call('PUT', '/api/v1/host-groups/Bad Name', { body: { hypervisors: ['hv1;reboot'] } });
    expect(bad.status).toBe(400);
    expect((await api.call('DELETE', `/api/v1/host-groups/${name}`)).status).toBe(204);
    expect((await gql(tl.url, '{ hypervisors { name } }', {}, { token })).data.hypervisors).toEqual([]);
    expect((await api.call('DELETE', `/api/v1/host-groups/${name}`)).status).toBe(404);
    const gone = await gql(tl.url, 'mutation($n: String!) { deleteHostGroup(input: { name: $n }) { userErrors { code } } }', { n: name });
    expect(gone.data.deleteHostGroup.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
  });

  it('the token command: create prints the token alone, list names it, revoke refuses it', async () => {
    const env = { ...process.env, ...tl.env };
    const cmd = (...args: string[]) =>
      run(process.execPath, ['gateway/token-command.ts', ...args], { env, cwd: new URL('../../', import.meta.url).pathname });
    const created = await cmd('create', '--name', 'cli-made', '--role', 'viewer', '--expires', '1d');
    const token = created.stdout.trim();
    expect(token).toMatch(/^tl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/^created tl_[0-9a-f]{16} \(cli-made, viewer, expires /);
    expect((await api.call('GET', '/api/v1/me', { token })).body).toMatchObject({ name: 'cli-made', role: 'viewer' });
    const listed = await cmd('list');
    expect(listed.stdout).toContain(`${token.split('_').slice(0, 2).join('_')}\tcli-made\tviewer`);
    expect(listed.stdout).not.toContain(token.slice(20));
    await cmd('revoke', token.split('_').slice(0, 2).join('_'));
    // Revoked in Redis by another process: the gateway's cache keeps the record a second at most.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await api.call('GET', '/api/v1/me', { token })).status).toBe(401);
    await expect(cmd('create', '--name', 'x', '--role', 'root')).rejects.toMatchObject({
      stderr: expect.stringMatching(/one of viewer, operator, admin/),
    });
  });
});

describe('abuse', () => {
  it('the 2,000-alias query, a batch, an oversized body and introspection are refused before they run', async () => {
    const flood = await gql(tl.url, aliasFlood(2000));
    expect(flood.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens' });
    expect(flood.data).toBeUndefined();
    const batch = await fetch(tl.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization(base) },
      body: JSON.stringify([{ query: '{ me { name } }' }, { query: '{ me { name } }' }]),
    });
    expect(batch.status).toBe(400);
    // Bodies over TRUNKLINE_GRAPHQL_BODY_LIMIT_BYTES (1 MiB): 413, with a Content-Length or streamed.
    const big = JSON.stringify({ query: `{ me { name } }${' '.repeat(2 * 1024 * 1024)}` });
    const declared = await fetch(tl.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization(base) },
      body: big,
    });
    expect([declared.status, (await declared.json()).errors[0].extensions.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const streamed = await refusedStream(tl.url, [big.slice(0, 1_000_000), big.slice(1_000_000)], authorization(base));
    if (streamed.error) expect(streamed.error).toMatch(/EPIPE|ECONNRESET|UND_ERR_SOCKET/);
    else expect(streamed.status).toBe(413);
    // Either way the gateway goes on: the next request is answered (on a new connection).
    expect((await gql(tl.url, '{ me { name } }')).data).toEqual({ me: { name: 'test-admin' } });
    const intro = await gql(tl.url, '{ __schema { types { name } } }');
    expect(intro.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
  });

  it('an operation that runs past TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS is answered EXECUTION_TIMEOUT (504)', async () => {
    // A gateway of its own prefix with no worker: a refresh it queues is never taken, so `refresh: true` waits.
    const prefix = `${tl.prefix}-slow`;
    const port = await freePort();
    const gw = await startProcess(
      'gateway/main.ts',
      {
        ...tl.env,
        TRUNKLINE_PREFIX: prefix,
        TRUNKLINE_LISTEN_PORT: String(port),
        TRUNKLINE_AUTH_MODE: 'off',
        TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS: '500',
      },
      'gateway listening',
    );
    try {
      const url = `http://127.0.0.1:${port}/graphql`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ hypervisors(refresh: true) { name } }' }),
      });
      expect([res.status, (await res.json()).errors[0].extensions.code]).toEqual([504, 'EXECUTION_TIMEOUT']);
      // (The refresh wait alone would have answered the hosts, after 15 s: this answer is the bound.)
      expect((await gql(url, '{ hypervisors { name } }', {}, { token: null })).data.hypervisors.length).toBeGreaterThan(0);
    } finally {
      await gw.stop();
      const keys = await tl.redis.keys(`${prefix}:*`);
      if (keys.length) await tl.redis.del(...keys);
    }
  });

  it('a gateway refuses to start without a pepper, or with authentication off on a public address', async () => {
    const all: Record<string, string | undefined> = { ...process.env, ...tl.env, TRUNKLINE_LISTEN_PORT: String(await freePort()) };
    const { TRUNKLINE_AUTH_PEPPER: _pepper, ...env } = all;
    const fail = async (extra: Record<string, string>) => {
      const r = await run(process.execPath, ['gateway/main.ts'], {
        env: { ...env, ...extra },
        cwd: new URL('../../', import.meta.url).pathname,
      }).catch((e) => e);
      expect(r.code).not.toBe(0);
      return `${r.stdout}${r.stderr}`;
    };
    expect(await fail({})).toMatch(/API tokens need a server pepper: set TRUNKLINE_AUTH_PEPPER_FILE/);
    expect(await fail({ TRUNKLINE_AUTH_MODE: 'off', TRUNKLINE_LISTEN_HOST: '0.0.0.0' })).toMatch(
      /only allowed when the gateway listens on loopback/,
    );
  });
});

describe('rate limits', () => {
  const limited: Proc[] = [];
  afterAll(async () => {
    await Promise.allSettled(limited.map((p) => p.stop()));
  });

  it('hold across two gateways: the change and read limits of a token answer 429 with Retry-After; other tokens go on', async () => {
    const bases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const env = {
        ...tl.env,
        TRUNKLINE_LISTEN_PORT: String(port),
        TRUNKLINE_RATE_CHANGES_PER_MINUTE: '4',
        TRUNKLINE_RATE_READS_PER_MINUTE: '6',
      };
      limited.push(await startProcess('gateway/main.ts', env, 'gateway listening'));
      bases.push(`http://127.0.0.1:${port}`);
    }
    const token = await tl.issueToken({ name: `burst-${sfx}`, role: 'operator' });
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const dryRun = (b: string) =>
      fetch(`${b}/api/v1/hypervisors/hv1/bridges?dryRun=true`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: `rl${sfx}` }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await dryRun(bases[i % 2]!)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    for (const b of bases) {
      const over = await dryRun(b);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await over.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    }
    // GraphQL counts against the same limit.
    const mutation = await fetch(`${bases[0]}/graphql`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        query: 'mutation { createBridge(input: { hypervisor: "hv1", name: "x", dryRun: true }) { userErrors { code } } }',
      }),
    });
    expect(mutation.status).toBe(429);
    expect((await mutation.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
    // Reads: 6 a minute, whichever gateway and API.
    const reads: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res =
        i % 2 === 0
          ? await fetch(`${bases[i % 2]}/api/v1/me`, { headers: auth })
          : await fetch(`${bases[i % 2]}/graphql`, { method: 'POST', headers: auth, body: JSON.stringify({ query: '{ me { name } }' }) });
      reads.push(res.status);
    }
    expect(reads).toEqual([200, 200, 200, 200, 200, 200, 429]);
    // A read that refreshes reads every host it names: it counts as a change.
    const reader = await tl.issueToken({ name: `refresher-${sfx}`, role: 'operator' });
    const refresh = (b: string) => fetch(`${b}/api/v1/hypervisors?refresh=true`, { headers: { authorization: `Bearer ${reader}` } });
    const refreshes: number[] = [];
    for (let i = 0; i < 5; i++) refreshes.push((await refresh(bases[i % 2]!)).status);
    expect(refreshes).toEqual([200, 200, 200, 200, 429]);
    const graphqlRefresh = await gql(`${bases[0]}/graphql`, '{ hypervisors(refresh: true) { name } }', {}, { token: reader });
    expect(graphqlRefresh.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another token is not held back.
    const other = await fetch(`${bases[1]}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(other.status).toBe(200);
  });
});

describe('the audit log', () => {
  const entries = async (filter: Record<string, unknown> = {}) => {
    const r = await gql(
      tl.url,
      'query($f: AuditFilter) { auditLog(first: 100, filter: $f) { nodes { id at api operation outcome code message actor { name tokenId role hostGroups } source inputJson ticketRef idempotencyKey jobId } } }',
      { f: filter },
    );
    expect(r.errors).toBeUndefined();
    return r.data.auditLog.nodes as any[];
  };

  it('records changes (accepted, dry run, refused), denials, refused credentials and administration, with who, from where and what', async () => {
    const key = `audit-${sfx}`;
    const dry = await gql(
      tl.url,
      'mutation($i: CreateBridgeInput!) { createBridge(input: $i) { plan { hypervisors } userErrors { code } } }',
      { i: { hypervisor: 'hv1', name: `au${sfx}`, dryRun: true, ticketRef: `CHG-${sfx}`, idempotencyKey: key } },
      { token: tokens.operator },
    );
    expect(dry.data.createBridge.userErrors).toEqual([]);
    const [planned] = await entries({ operation: 'createBridge', ticketRef: `CHG-${sfx}` });
    expect(planned).toMatchObject({
      api: 'graphql',
      outcome: 'DRY_RUN',
      actor: { name: 'an-operator', role: 'OPERATOR', hostGroups: null },
      idempotencyKey: key,
      jobId: null,
    });
    expect(planned.source).toMatch(/127\.0\.0\.1/);
    expect(JSON.parse(planned.inputJson)).toMatchObject({ input: { hypervisor: 'hv1', name: `au${sfx}`, dryRun: true } });

    const accepted = await api.call('POST', '/api/v1/hypervisors/hv1/refresh', { token: tokens.operator });
    const acceptedEntry = (await entries({ operation: 'refreshHypervisor', outcome: 'ACCEPTED' })).find(
      (e) => e.jobId === accepted.body.id,
    );
    expect(acceptedEntry).toMatchObject({ api: 'rest', actor: { name: 'an-operator' } });
    const restDry = await api.call('POST', '/api/v1/hypervisors/hv1/bridges', {
      token: tokens.operator,
      query: { dryRun: 'true' },
      body: { name: `au${sfx}`, ticketRef: `CHG-R-${sfx}` },
      headers: { 'idempotency-key': `${key}-rest` },
    });
    expect(restDry.status).toBe(200);
    expect((await entries({ ticketRef: `CHG-R-${sfx}` }))[0]).toMatchObject({
      api: 'rest',
      operation: 'createBridge',
      outcome: 'DRY_RUN',
      idempotencyKey: `${key}-rest`,
    });

    // Denials: a viewer's change (both APIs) and a team's read of another team's host.
    const denied = await entries({ outcome: 'DENIED' });
    expect(
      denied.some((e) => e.api === 'graphql' && e.operation === 'createBridge' && e.actor.name === 'a-viewer' && e.code === 'FORBIDDEN'),
    ).toBe(true);
    expect(denied.some((e) => e.api === 'rest' && e.operation === 'createBridge' && e.actor.name === 'a-viewer')).toBe(true);
    expect(denied.some((e) => e.api === 'graphql' && e.operation === 'hypervisor' && e.actor.name === 'team-a-operator')).toBe(true);
    expect(denied.some((e) => e.api === 'rest' && e.operation === 'getHypervisor' && e.actor.name === 'team-a-operator')).toBe(true);
    for (const operation of ['node', 'job', 'jobProgress'])
      expect(
        denied.some((e) => e.operation === operation && e.actor.name === 'team-a-operator'),
        operation,
      ).toBe(true);
    // Refused credentials: no actor, the path and why.
    const refused = await entries({ outcome: 'UNAUTHENTICATED' });
    expect(refused.find((e) => e.operation === 'GET /api/v1/hypervisors')).toMatchObject({
      api: 'gateway',
      actor: null,
      code: 'UNAUTHENTICATED',
    });
    expect(refused.map((e) => e.message).join('\n')).toMatch(/revoked: API token tl_[0-9a-f]{16} was revoked/);
    // Administration, also from the token command.
    expect((await entries({ operation: 'createApiToken' })).map((e) => e.api)).toEqual(
      expect.arrayContaining(['graphql', 'rest', 'command']),
    );
    expect((await entries({ operation: 'putHostGroup' })).length).toBeGreaterThan(0);
    expect((await entries({ operation: 'revokeApiToken' })).length).toBeGreaterThan(0);
    // No secret of any token is in the log.
    const all = JSON.stringify(await entries());
    for (const t of [tl.adminToken, ...Object.values(tokens)]) expect(all).not.toContain(t.slice(20));
  });

  it('is for admins of every host; REST pages it and exports it as JSON lines', async () => {
    for (const token of [tokens.viewer, tokens.operator, tokens.teamAdmin]) {
      expect((await api.call('GET', '/api/v1/audit', { token })).status).toBe(403);
      expect((await gql(tl.url, '{ auditLog { nodes { id } } }', {}, { token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const page = await api.call('GET', '/api/v1/audit', { query: { limit: 5 } });
    expect(page.body.items).toHaveLength(5);
    const next = await api.call('GET', '/api/v1/audit', { query: { limit: 5, cursor: page.body.nextCursor } });
    expect(compareStreamIds(next.body.items[0].id, page.body.items[4].id)).toBeLessThan(0);
    const res = await fetch(`${base}/api/v1/audit?outcome=DENIED`, { headers: { accept: 'application/x-ndjson', ...authorization(base) } });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l.outcome).toBe('DENIED');
    // Oldest first.
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort(compareStreamIds));
  });
});

describe('host keys', () => {
  it('trust on first use only when asked; a rotation re-pins only from the key pinned now; a wrong key fails the job before any command', async () => {
    const hv1 = (JSON.parse(readFileSync(inventoryPath, 'utf8')) as { hypervisors: Record<string, any>[] }).hypervisors.find(
      (h) => h.name === 'hv1',
    )!;
    const name = `tofu-${sfx}`;
    const body = { name, address: hv1.address, port: hv1.port, user: hv1.user, privateKeyPath: hv1.privateKeyPath };
    const bogus = `SHA256:${'A'.repeat(43)}`;
    const refresh = async () => {
      const r = await api.call('POST', `/api/v1/hypervisors/${name}/refresh`);
      await waitForJob(tl.url, toGlobalId('Job', r.body.id), '');
      return (await api.call('GET', `/api/v1/jobs/${r.body.id}`)).body;
    };
    try {
      const refused = await api.call('POST', '/api/v1/hypervisors', { body });
      expect([refused.status, refused.body.errors[0].field]).toEqual([400, ['hostKeyFingerprint']]);
      const both = await api.call('POST', '/api/v1/hypervisors', {
        body: { ...body, hostKeyFingerprint: hv1.hostKeyFingerprint, trustOnFirstUse: true },
      });
      expect([both.status, both.body.errors[0].field]).toEqual([400, ['trustOnFirstUse']]);
      const reg = await api.call('POST', '/api/v1/hypervisors', { body: { ...body, trustOnFirstUse: true } });
      expect(reg.status).toBe(201);
      expect(reg.body.hypervisor.hostKeyFingerprint).toBeNull();
      await waitForJob(tl.url, toGlobalId('Job', reg.body.job.id), '');
      // The first connection pinned the key the host presented: the lab's own.
      expect((await api.call('GET', `/api/v1/hypervisors/${name}`)).body.hostKeyFingerprint.replace(/=+$/, '')).toBe(
        hv1.hostKeyFingerprint.replace(/=+$/, ''),
      );
      // A rotation from a key that is not pinned: 409, nothing changes.
      const stale = await api.call('PUT', `/api/v1/hypervisors/${name}/host-key`, {
        body: { expectedFingerprint: bogus, hostKeyFingerprint: bogus },
      });
      expect([stale.status, stale.body.code]).toEqual([409, 'HOST_KEY_CONFLICT']);
      // From the pinned one to a key the host does not have: every job fails before any command.
      const rotated = await gql(
        tl.url,
        'mutation($i: RotateHostKeyInput!) { rotateHostKey(input: $i) { hypervisor { hostKeyFingerprint } userErrors { code } } }',
        { i: { name, expectedFingerprint: hv1.hostKeyFingerprint, hostKeyFingerprint: bogus } },
      );
      expect(rotated.data.rotateHostKey).toEqual({ hypervisor: { hostKeyFingerprint: bogus }, userErrors: [] });
      const failed = await refresh();
      expect(failed.state).toBe('FAILED');
      expect(JSON.stringify(failed)).toContain('SSH_HOST_KEY_MISMATCH');
      // Back to the host's key: reads again.
      const back = await api.call('PUT', `/api/v1/hypervisors/${name}/host-key`, {
        body: { expectedFingerprint: bogus, hostKeyFingerprint: hv1.hostKeyFingerprint },
      });
      expect(back.status).toBe(200);
      expect((await refresh()).state).toBe('SUCCEEDED');
      // An operator may not rotate keys.
      expect(
        (
          await api.call('PUT', `/api/v1/hypervisors/${name}/host-key`, {
            token: tokens.operator,
            body: { expectedFingerprint: hv1.hostKeyFingerprint, hostKeyFingerprint: bogus },
          })
        ).status,
      ).toBe(403);
    } finally {
      await api.call('DELETE', `/api/v1/hypervisors/${name}`);
    }
  });
});

describe('transport', () => {
  it('with introspection on (development), GraphiQL and introspection still need a token', async () => {
    const port = await freePort();
    const gw = await startProcess(
      'gateway/main.ts',
      { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port), TRUNKLINE_GRAPHQL_INTROSPECTION: 'true' },
      'gateway listening',
    );
    try {
      const url = `http://127.0.0.1:${port}/graphql`;
      const page = (headers: Record<string, string>) => fetch(url, { headers: { accept: 'text/html', ...headers } });
      const none = await page({});
      expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="Trunkline", charset="UTF-8"']);
      const basic = await page({ authorization: `Basic ${Buffer.from(`me:${tl.adminToken}`).toString('base64')}` });
      expect([basic.status, basic.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^text\/html/)]);
      expect(await basic.text()).toMatch(/GraphiQL/i);
      const intro = await gql(url, '{ __schema { queryType { name } } }', {}, { token: tl.adminToken });
      expect(intro.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect((await gql(url, '{ __schema { queryType { name } } }', {}, { token: null })).errors?.[0]?.extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
    } finally {
      await gw.stop();
    }
  });

  it('serves HTTPS with the configured certificate and key; plain HTTP to that port gets no answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-tls-'));
    let gw: Proc | undefined;
    try {
      await run('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...[
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
      ]);
      const port = await freePort();
      gw = await startProcess(
        'gateway/main.ts',
        {
          ...tl.env,
          TRUNKLINE_LISTEN_PORT: String(port),
          TRUNKLINE_TLS_CERT_FILE: join(dir, 'cert.pem'),
          TRUNKLINE_TLS_KEY_FILE: join(dir, 'key.pem'),
        },
        'gateway listening',
      );
      expect(gw.output()).toContain(`https://127.0.0.1:${port}/graphql`);
      const get = (opts: { ca?: Buffer }) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/v1/me', headers: authorization(base), ca: opts.ca }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const ok = await get({ ca: readFileSync(join(dir, 'cert.pem')) });
      expect([ok.status, JSON.parse(ok.body).name]).toEqual([200, 'test-admin']);
      // Without the certificate as a trusted CA: refused by the client.
      await expect(get({})).rejects.toThrow(/self-signed|unable to verify/);
      // Plain HTTP to the TLS port: no HTTP answer.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    } finally {
      await gw?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('secrets stay secret', () => {
  it('no token secret, server pepper or SSH private key in any Redis key, log line or answer (REST, GraphQL, pages) of this run', async () => {
    // Every answer the REST client of this file got (token creations answer their own secret once: those are left out).
    const answers = seen
      .filter((a) => !(a.operation === 'createApiToken' && a.status === 201) && !a.text.includes('"createApiToken"'))
      .map((a) => a.text);
    expect(seen.some((a) => a.operation === 'graphql')).toBe(true);
    // Everything under the prefix, whatever its type.
    const stored: string[] = [];
    for (const key of await tl.redis.keys(`${tl.prefix}:*`)) {
      const type = await tl.redis.type(key);
      const value =
        type === 'string'
          ? await tl.redis.get(key)
          : type === 'hash'
            ? await tl.redis.hgetall(key)
            : type === 'list'
              ? await tl.redis.lrange(key, 0, -1)
              : type === 'set'
                ? await tl.redis.smembers(key)
                : type === 'zset'
                  ? await tl.redis.zrange(key, 0, -1)
                  : type === 'stream'
                    ? await tl.redis.xrange(key, '-', '+')
                    : null;
      stored.push(`${key} ${JSON.stringify(value)}`);
    }
    const logs = [tl.gateway.output(), tl.worker?.output() ?? '', other?.output() ?? ''];
    const inventory = JSON.parse(readFileSync(inventoryPath, 'utf8')) as { hypervisors: { privateKeyPath: string }[] };
    const keyText = readFileSync(inventory.hypervisors[0]!.privateKeyPath, 'utf8');
    const keyLines = keyText.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(0);
    const secrets = {
      ...Object.fromEntries(Object.entries({ admin: tl.adminToken, ...tokens }).map(([k, t]) => [`token ${k}`, t.slice(20)])),
      pepper: tl.env.TRUNKLINE_AUTH_PEPPER!,
      ...Object.fromEntries(keyLines.map((l, i) => [`private key line ${i}`, l])),
    };
    expect(stored.length).toBeGreaterThan(20);
    expect(answers.length).toBeGreaterThan(50);
    for (const [where, texts] of Object.entries({ redis: stored, logs, answers })) {
      const all = texts.join('\n');
      for (const [what, secret] of Object.entries(secrets)) expect(all.includes(secret), `${what} in ${where}`).toBe(false);
      expect(/PRIVATE KEY/.test(all), `key material in ${where}`).toBe(false);
    }
  });
});

describe('coverage', () => {
  it('every Access operation of openapi.yaml (and the host-key rotation) was called', () => {
    // The REST client records each documented operation it called (rest-client.ts).
    const access = DOCUMENTED_OPERATIONS.filter((o) => o.tags.includes('Access') || o.path.endsWith('/host-key')).map((o) => o.operationId);
    expect(access.length).toBe(11);
    expect(access.filter((id) => !exercised.has(id))).toEqual([]);
  });
});

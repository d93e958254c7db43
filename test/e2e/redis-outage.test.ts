import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HostOrder } from '../../src/jobs/host-order.ts';
import { JobStore } from '../../src/jobs/job-store.ts';
import type { JobRecord } from '../../src/jobs/job-types.ts';
import { newJobRecord } from '../../src/jobs/submit-change.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { authorization } from '../support/credentials.ts';
import { spawnEntry, stopChild } from '../support/processes.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';
import { restClient } from '../support/rest-client.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/*
 * Redis outages and a Redis that refuses writes (issue 13), on a Redis of this file's own
 * (persisting to an append-only file, so a restart keeps the tokens and jobs):
 *   - the gateway answers 503 SERVICE_UNAVAILABLE with Retry-After (GraphQL and REST) instead of
 *     hanging, and nothing is accepted;
 *   - /healthz/live stays 200, /healthz/ready says what is missing (Redis, workers);
 *   - a worker started while Redis refuses writes (MISCONF) waits instead of exiting;
 *   - after each outage, gateway and worker serve again without a restart.
 */
const inventoryPath = inject('inventoryPath');
const dir = mkdtempSync(join(tmpdir(), 'tl-outage-'));
let server: RedisServer;
let admin: Redis;
let tl: Trunkline;
// CONFIG SET dir (to make the disk vanish under it) is a protected setting since Redis 7.
const REDIS_ARGS = ['--enable-protected-configs', 'yes'];

const base = () => tl.url.replace(/\/graphql$/, '');
const rest = () => restClient(base());
const health = async (path: string) => {
  const res = await fetch(`${base()}${path}`);
  return { status: res.status, body: (await res.json()) as any };
};
/** A one-step change on hv1 (the bridges the accepted ones make are removed in afterAll). */
const bridges = new Set<string>();
const createBridge = (name: string, idempotencyKey?: string) => {
  bridges.add(name);
  return fetch(tl.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorization(tl.url) },
    body: JSON.stringify({
      query: 'mutation($input: CreateBridgeInput!) { createBridge(input: $input) { job { id } userErrors { code } } }',
      variables: { input: { hypervisor: 'hv1', name, dryRun: false, ...(idempotencyKey ? { idempotencyKey } : {}) } },
    }),
  });
};

async function expectUnavailable(res: Response, what: RegExp): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  const body = (await res.json()) as any;
  expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  expect(body.errors[0].message).toMatch(what);
}

async function jobCount(): Promise<number> {
  const res = await gql(tl.url, '{ jobs(first: 100) { nodes { id } } }');
  return res.data.jobs.nodes.length;
}

beforeAll(async () => {
  server = await startRedisServer({ dir, args: REDIS_ARGS });
  admin = new Redis(server.url);
  admin.on('error', () => {}); // while the server is down on purpose
  // Health checks without a token (as for a load balancer): they must answer while Redis is down.
  tl = await startTrunkline({
    redisUrl: server.url,
    inventoryPath,
    env: { TRUNKLINE_REDIS_COMMAND_TIMEOUT_MS: '1000', TRUNKLINE_HEALTHZ_PUBLIC: 'true', TRUNKLINE_ORPHAN_SWEEP_SECONDS: '1' },
  });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
});

afterAll(async () => {
  if (starting) await stopChild(starting.child);
  await tl?.stop().catch(() => {});
  admin?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const name of bridges) await labExec(inject('labEnv'), 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', name]);
});

describe('half-written submissions', () => {
  it('a job recorded but never queued (its gateway died in between) ends FAILED with QUEUE_UNAVAILABLE and gives its place up: the next job on the host runs', async () => {
    const store = new JobStore(tl.redis, { prefix: tl.prefix, ttlSeconds: 3600 });
    const order = new HostOrder(tl.redis, tl.prefix);
    // What a gateway that stopped between the two writes leaves: the record and the host place, no BullMQ job.
    const orphan = newJobRecord(
      'createBridge',
      { hypervisor: 'hv1', name: 'orphan' },
      { kind: 'createBridge', hypervisors: ['hv1'], steps: [] },
      { requestedBy: 'test', ticketRef: 'T-orphan' },
      new Date(Date.now() - 120_000),
    );
    await store.create(orphan, 'queued createBridge on hv1');
    await order.accept(orphan.id, ['hv1']);
    const next = await createBridge('afterorphan');
    const nextJob = ((await next.json()) as any).data.createBridge.job.id;
    const done = await waitForJob(tl.url, nextJob, 'error { code }', 90_000);
    expect(done.state).toBe('SUCCEEDED');
    const ended = await waitForRecord(store, orphan.id, (j) => j.state !== 'QUEUED');
    expect(ended.state).toBe('FAILED');
    expect(ended.error).toMatchObject({ code: 'QUEUE_UNAVAILABLE', message: expect.stringMatching(/never queued/) });
    expect(await order.place(orphan.id, 'hv1')).toBeNull();
  });
});

describe('Redis outages', () => {
  it('readiness: 200 with a worker, 503 naming the missing worker without one; liveness always 200', async () => {
    const ready = await health('/healthz/ready');
    expect(ready).toEqual({ status: 200, body: { status: 'ready', redis: 'ok', workers: 1, reasons: [] } });
    await tl.worker!.stop();
    const without = await health('/healthz/ready');
    expect(without.status).toBe(503);
    expect(without.body).toMatchObject({ status: 'not ready', redis: 'ok', workers: 0 });
    expect(without.body.reasons[0]).toMatch(/no worker consumes the change queue/);
    expect(await health('/healthz/live')).toEqual({ status: 200, body: { status: 'ok' } });
    await tl.startWorker();
  });

  it('memory full under noeviction (OOM): a change is refused 503 through both APIs, none is left queued; served again once Redis is', async () => {
    const before = await jobCount();
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      await expectUnavailable(await createBridge('oomgql'), /Redis refuses writes \(OOM\)/);
      const answer = await rest().call('POST', '/api/v1/hypervisors/hv1/bridges', { body: { name: 'oomrest' } });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // A record the gateway wrote before Redis refused the queue entry ends FAILED (QUEUE_UNAVAILABLE), never QUEUED.
    const nodes = (await gql(tl.url, '{ jobs(first: 100) { nodes { state error { code } } } }')).data.jobs.nodes;
    const jobs = nodes.slice(0, nodes.length - before);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job).toEqual({ state: 'FAILED', error: { code: 'QUEUE_UNAVAILABLE' } });
    const ok = await createBridge('oomafter');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as any;
    const job = await waitForJob(tl.url, body.data.createBridge.job.id, 'error { code }');
    // The worker carried on through the outage: the job ran (hv1 got the bridge).
    expect(job.state).toBe('SUCCEEDED');
  });

  it('Redis down: 503 at once through GraphQL, REST and readiness, liveness 200; after a restart from its append-only file everything is served again without restarting anything, and a subscription held through it goes on', async () => {
    // A notifier following every job over WebSocket: the outage must be a pause for it, not an error.
    const ws = createClient({
      url: tl.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${tl.adminToken}` },
    });
    const seen: { type: string; jobId: string; job: { id: string } | null }[] = [];
    const problems: unknown[] = [];
    ws.on('closed', (e) => problems.push(`closed ${(e as CloseEvent).code}`));
    const connected = new Promise<void>((r) => ws.on('connected', () => r()));
    ws.subscribe(
      { query: 'subscription { jobEvents(filter: { types: [SUCCEEDED] }) { type sequence jobId job { id } } }' },
      { next: (m) => seen.push(m.data?.jobEvents as never), error: (e) => problems.push(e), complete: () => problems.push('completed') },
    );
    await connected;
    await new Promise((r) => setTimeout(r, 300));
    await server.stop();
    try {
      await expectUnavailable(
        await fetch(tl.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authorization(tl.url) },
          body: JSON.stringify({ query: '{ hypervisors { name } }' }),
        }),
        /Redis is unreachable/,
      );
      const answer = await rest().call('GET', '/api/v1/hypervisors');
      expect(answer.status).toBe(503);
      expect(answer.body.code).toBe('SERVICE_UNAVAILABLE');
      const ready = await health('/healthz/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'not ready', redis: 'unavailable', workers: null });
      expect(await health('/healthz/live')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      server = await startRedisServer({ dir, port: server.port, args: REDIS_ARGS });
    }
    const until = Date.now() + 30_000;
    while ((await health('/healthz/ready').catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > until) throw new Error('the gateway did not become ready again');
      await new Promise((r) => setTimeout(r, 200));
    }
    const res = await createBridge('afterrestart');
    const jobId = ((await res.json()) as any).data.createBridge.job.id;
    const job = await waitForJob(tl.url, jobId, 'error { code }');
    expect(job.state).toBe('SUCCEEDED');
    const heard = Date.now() + 15_000;
    while (!seen.some((e) => e.jobId === jobId) && Date.now() < heard) await new Promise((r) => setTimeout(r, 100));
    expect(problems, JSON.stringify(problems)).toEqual([]);
    await ws.dispose();
    expect(seen.map((e) => e.jobId)).toContain(jobId);
    expect(seen.find((e) => e.jobId === jobId)?.job?.id).toBe(jobId);
  });

  it('a request refused while Redis was frozen leaves no idempotency claim behind: its claim, carried out when Redis woke, is released and a retry is accepted', async () => {
    const mutation = (key: string) => createBridge('idemfrozen', key);
    const key = `frozen-${Date.now()}`;
    // Warm the token cache, so that the request gets as far as claiming its key while Redis is frozen.
    await gql(tl.url, '{ hypervisors { name } }');
    process.kill(server.proc.pid!, 'SIGSTOP');
    let refused: Response;
    try {
      refused = await mutation(key);
    } finally {
      process.kill(server.proc.pid!, 'SIGCONT');
    }
    expect(refused.status).toBe(503);
    // The claim reached Redis's socket before the gateway gave up: Redis carries it out on waking.
    const until = Date.now() + 15_000;
    let body: any;
    for (;;) {
      body = await (await mutation(key)).json();
      if (!body.data?.createBridge?.userErrors?.some((e: any) => e.code === 'IDEMPOTENCY_KEY_IN_PROGRESS')) break;
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(body.data.createBridge.userErrors).toEqual([]);
    expect((await waitForJob(tl.url, body.data.createBridge.job.id, 'error { code }')).state).toBe('SUCCEEDED');
  });

  it('a worker started while Redis refuses writes (MISCONF: its disk is gone) waits, saying so, and starts once Redis accepts writes', async () => {
    const disk = mkdtempSync(join(tmpdir(), 'tl-misconf-'));
    await admin.config('SET', 'save', '3600 1');
    await admin.config('SET', 'dir', disk);
    rmSync(disk, { recursive: true, force: true });
    await admin.bgsave();
    await waitForBgsave();
    expect(await admin.set(`${tl.prefix}:probe`, '1').catch((e: Error) => e.message)).toMatch(/^MISCONF/);
    try {
      await expectUnavailable(await createBridge('misconf'), /Redis refuses writes \(MISCONF\)/);
      // Its output is read while it starts (startProcess resolves only once it is ready).
      starting = spawnEntry('workers/main.ts', { ...tl.env, TRUNKLINE_REFRESH_INTERVAL_SECONDS: '60' });
      // It says why it waits, and does not exit on the refused write.
      await waitFor(starting.output, /schedule the fleet refresh: Redis cannot serve it yet; retrying/);
      expect(starting.child.exitCode).toBeNull();
    } finally {
      const back = mkdtempSync(join(tmpdir(), 'tl-misconf-'));
      await admin.config('SET', 'dir', back);
      await admin.bgsave();
      await waitForBgsave();
      await admin.config('SET', 'dir', dir);
      await admin.config('SET', 'save', '');
      rmSync(back, { recursive: true, force: true });
    }
    await waitFor(starting.output, /worker ready/);
    expect(starting.child.exitCode).toBeNull();
    const res = await createBridge('aftermisconf');
    const job = await waitForJob(tl.url, ((await res.json()) as any).data.createBridge.job.id, 'error { code }');
    expect(job.state).toBe('SUCCEEDED');
  });
});

let starting: { child: ChildProcess; output: () => string } | undefined;

async function waitFor(get: () => string, pattern: RegExp): Promise<void> {
  const until = Date.now() + 60_000;
  while (!pattern.test(get())) {
    if (Date.now() > until) throw new Error(`not seen: ${pattern}\n${get().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForRecord(store: JobStore, id: string, done: (job: JobRecord) => boolean): Promise<JobRecord> {
  const until = Date.now() + 30_000;
  for (;;) {
    const job = await store.get(id);
    if (job && done(job)) return job;
    if (Date.now() > until) throw new Error(`job ${id} still ${job?.state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForBgsave(): Promise<void> {
  for (;;) {
    const info = await admin.info('persistence');
    if (/rdb_bgsave_in_progress:0/.test(info)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

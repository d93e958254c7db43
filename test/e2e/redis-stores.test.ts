import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HostStateCache } from '../../src/hosts/host-state-cache.ts';
import { unknownHostState } from '../../src/hosts/host-state.ts';
import { RedisHostRegistry } from '../../src/inventory/redis-host-registry.ts';
import { RedisHostLocks } from '../../src/jobs/host-locks.ts';
import { JobEventHub } from '../../src/jobs/job-event-hub.ts';
import { JobStore, type HostPart } from '../../src/jobs/job-store.ts';
import { newJobRecord } from '../../src/jobs/submit-change.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createChangeQueue } from '../../src/jobs/change-queue.ts';
import { HostOrder } from '../../src/jobs/host-order.ts';
import type { JobKind } from '../../src/jobs/job-kinds.ts';
import { finishChangeJob } from '../../workers/finish-change-job.ts';
import { awaitTurn, handOver, NotYourTurn, type TurnDeps } from '../../workers/host-turn.ts';
import { fixtureHostState } from '../support/fixture-host-state.ts';

/** The Redis-backed stores against a real Redis: memoised reads never serve stale data. */
const redis = new Redis(inject('redisUrl'));
const prefix = `tl-test-${randomBytes(4).toString('hex')}`;
const queue = createChangeQueue({ url: inject('redisUrl'), maxRetriesPerRequest: null }, prefix);
const order = new HostOrder(redis, prefix);
const turnsFor = (store: JobStore): TurnDeps => ({ order, store, queue });
afterAll(async () => {
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('HostStateCache', () => {
  it('re-reads a host only after it was written, by this process or another', async () => {
    const reader = new HostStateCache(redis, prefix);
    const writer = new HostStateCache(redis, prefix); // another process, as far as memos go
    expect((await reader.getMany(['hv1', 'hv2'])).get('hv1')).toBeNull();
    await writer.put(fixtureHostState('hv1'));
    const first = (await reader.getMany(['hv1'])).get('hv1')!;
    expect(first.libvirt?.domains.length).toBeGreaterThan(0);
    // Unchanged: the same parsed object is served again.
    expect((await reader.getMany(['hv1'])).get('hv1')).toBe(first);
    await writer.put({ ...unknownHostState('hv1'), status: 'UNREACHABLE', error: { code: 'SSH_CONNECT_FAILED', message: 'x' } });
    expect((await reader.get('hv1'))!.status).toBe('UNREACHABLE');
    await writer.delete('hv1');
    expect(await reader.get('hv1')).toBeNull();
  });
});

describe('RedisHostRegistry', () => {
  it('sees registrations and removals made through another instance', async () => {
    const a = new RedisHostRegistry(redis, prefix);
    const b = new RedisHostRegistry(redis, prefix);
    const host = {
      name: 'hvx',
      address: '198.18.0.6',
      port: 22,
      user: 'trunkline',
      privateKeyPath: '/k',
      hostKeyFingerprint: 'SHA256:uQ8t0pXo3rXGZ2n2cB8Hn8kqJvJY4m6bXo0mJq3mZ7c',
      defaults: { bridge: 'ovsbr0' },
    };
    expect(await a.list()).toEqual([]);
    expect(await b.put(host)).toBe(true);
    expect(await b.put(host)).toBe(false);
    expect((await a.list()).map((h) => h.name)).toEqual(['hvx']);
    expect(await b.remove('hvx')).toBe(true);
    expect(await a.list()).toEqual([]);
  });
});

describe('RedisHostLocks', () => {
  it('serialises holders of one host across instances, and lets unrelated hosts through', async () => {
    const l1 = new RedisHostLocks(redis, prefix, 2000);
    const l2 = new RedisHostLocks(redis, prefix, 2000);
    const log: string[] = [];
    const hold = (locks: RedisHostLocks, hosts: string[], tag: string) =>
      locks.withHosts(hosts, async () => {
        log.push(`${tag}+`);
        await new Promise((r) => setTimeout(r, 150));
        log.push(`${tag}-`);
      });
    await Promise.all([hold(l1, ['hv1'], 'a'), hold(l2, ['hv1', 'hv2'], 'b')]);
    // One after the other, never interleaved.
    expect([log.join(' ')]).toContainEqual(expect.stringMatching(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/));
    log.length = 0;
    await Promise.all([hold(l1, ['hv3'], 'c'), hold(l2, ['hv4'], 'd')]);
    expect(log.slice(0, 2).sort()).toEqual(['c+', 'd+']);
  });

  it('a lock left by a dead holder expires', async () => {
    await redis.set(`${prefix}:lock:host:hv9`, 'dead-worker', 'PX', 300);
    const waits: string[] = [];
    await new RedisHostLocks(redis, prefix, 2000).withHosts(
      ['hv9'],
      async () => {},
      (h) => waits.push(h),
    );
    expect(waits).toEqual(['hv9']);
  });
});

describe('JobStore', () => {
  const plan = (hosts: string[]) => ({
    kind: 'ensureVlan' as const,
    hypervisors: hosts,
    steps: hosts.flatMap((host) =>
      [0, 1].map((i) => ({
        host,
        description: `step ${i} on ${host}`,
        subject: 's',
        probe: { kind: 'ovs-bridge' as const, argv: ['true'] },
        wanted: 'x',
        apply: { argv: ['true'] },
        observed: null,
        changes: null,
      })),
    ),
  });

  it('host parts written concurrently by different writers never overwrite each other; the job starts once', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const other = new JobStore(redis, { prefix, ttlSeconds: 60 }); // another worker process
    const hosts = ['hv1', 'hv2', 'hv3'];
    const job = newJobRecord('ensureVlan', { tag: 1003 }, plan(hosts), { requestedBy: null, ticketRef: null });
    await store.create(job, 'queued');
    expect((await store.get(job.id))!.state).toBe('QUEUED');

    // Each host's part finishes its two steps, the three parts interleaved across two stores.
    const runPart = async (s: JobStore, host: string) => {
      const part: HostPart = {
        run: { ...job.hosts.find((h) => h.host === host)!, state: 'RUNNING', attempts: 1 },
        steps: structuredClone(job.steps.filter((x) => x.host === host)),
        rollback: [],
      };
      await s.recordHost(job, part, 'HOST_STARTED', `${host}: started`);
      for (const step of part.steps) {
        step.state = 'SUCCEEDED';
        step.changed = step.index % 2 === 0;
        await s.recordHost(job, part, 'STEP_FINISHED', `${host}: step done`, step);
      }
      part.run.state = 'SUCCEEDED';
      return s.recordHost(job, part, 'HOST_FINISHED', `${host}: done`);
    };
    await Promise.all(hosts.map((h, i) => runPart(i % 2 ? other : store, h)));

    const record = (await store.get(job.id))!;
    expect(record.state).toBe('RUNNING');
    expect(record.startedAt).not.toBeNull();
    expect(record.steps.map((s) => [s.index, s.host, s.state])).toEqual(job.steps.map((s) => [s.index, s.host, 'SUCCEEDED']));
    expect(record.hosts.map((h) => [h.host, h.state])).toEqual(hosts.map((h) => [h, 'SUCCEEDED']));
    expect(record.progress).toMatchObject({ done: 6, total: 6 });

    const events = await store.events(job.id);
    expect(events.filter((e) => e.type === 'STARTED')).toHaveLength(1);
    expect(events[1]!.type).toBe('STARTED');
    expect(
      events
        .filter((e) => e.type === 'HOST_FINISHED')
        .map((e) => e.host)
        .sort(),
    ).toEqual(hosts);
    // Progress counts finished steps over every host, so the last event has them all.
    expect(events.at(-1)!.progress).toMatchObject({ done: 6, total: 6 });
    const dones = events.filter((e) => e.type === 'STEP_FINISHED').map((e) => e.progress.done);
    expect([...dones].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);

    // The parent settles the whole record; a listing reads it back the same.
    await store.record({ ...record, state: 'SUCCEEDED', finishedAt: new Date().toISOString() }, 'SUCCEEDED', 'done');
    const listed = await store.list({ limit: 10, keep: (j) => j.id === job.id });
    expect(listed.jobs[0]).toMatchObject({ state: 'SUCCEEDED', hosts: record.hosts, steps: record.steps });
  });

  it("a stale worker's unfenced write of a part another attempt ran is dropped: no WAITING over a finished part, none after the job's end", async () => {
    // Seed 4163915687: a worker SIGSTOPped while its part waited for the host lock woke after
    // another worker had run the part and ended the job, and wrote its PENDING copy back.
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const job = newJobRecord('ensureVlan', { tag: 1004 }, plan(['hv1']), { requestedBy: null, ticketRef: null });
    await store.create(job, 'queued');
    const stale: HostPart = { run: structuredClone(job.hosts[0]!), steps: structuredClone(job.steps), rollback: [] };
    expect(await store.recordHost(job, stale, 'WAITING', 'hv1: waiting for the host lock')).not.toBeNull();
    // The worker that took the part over runs it (attempt 1).
    const run: HostPart = { run: { ...job.hosts[0]!, state: 'RUNNING', attempts: 1 }, steps: structuredClone(job.steps), rollback: [] };
    await store.recordHost(job, run, 'HOST_STARTED', 'hv1: started');
    // Mid-part, and once the part ended, the stale copy (0 attempts, or the same attempts and not ended) is not written.
    expect(await store.recordHost(job, stale, 'WAITING', 'hv1: waiting for the host lock')).toBeNull();
    for (const s of run.steps) Object.assign(s, { state: 'SUCCEEDED', changed: true });
    run.run.state = 'SUCCEEDED';
    await store.recordHost(job, run, 'HOST_FINISHED', 'hv1: done');
    const behind: HostPart = { ...run, run: { ...run.run, state: 'RUNNING' } };
    expect(await store.recordHost(job, behind, 'WAITING', 'hv1: waiting for the host lock')).toBeNull();
    const ended = (await store.get(job.id))!;
    expect(ended.hosts[0]).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    await store.record({ ...ended, state: 'SUCCEEDED', finishedAt: new Date().toISOString() }, 'SUCCEEDED', 'done');
    expect(await store.recordHost(job, stale, 'WAITING', 'hv1: waiting for the host lock')).toBeNull();
    // A fenced writer (a lease holder) whose part is stale stops: LOCK_LOST.
    const locks = new RedisHostLocks(redis, prefix, 3000);
    await locks.withHosts(['hv1'], async (lease) => {
      const fence = { lockKey: lease.lockKey('hv1'), token: lease.token };
      await expect(store.recordHost(job, stale, 'HOST_STARTED', 'x', null, job.steps.length, fence)).rejects.toMatchObject({
        code: 'LOCK_LOST',
      });
    });
    const record = (await store.get(job.id))!;
    expect(record.hosts[0]).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    expect(record.steps.map((s) => s.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // The stream ends with the job's end: nothing was written after it.
    expect((await store.events(job.id)).map((e) => e.type)).toEqual([
      'QUEUED',
      'WAITING',
      'STARTED',
      'HOST_STARTED',
      'HOST_FINISHED',
      'SUCCEEDED',
    ]);
  });

  it('a part written after the record expired is dropped, not resurrected', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const job = newJobRecord('ensureVlan', {}, plan(['hv1']), { requestedBy: null, ticketRef: null });
    const part = { run: job.hosts[0]!, steps: job.steps, rollback: [] };
    expect(await store.recordHost(job, part, 'HOST_STARTED', 'x')).toBeNull();
    expect(await store.get(job.id)).toBeNull();
  });
});

describe("JobStore: a VLAN's last verification", () => {
  const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
  /** A verifyVlan job of `tag` on record; `end` writes its end as run-verify-job does, with a verification. */
  async function verifyJob(tag: number, finishedAt: string, state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' = 'SUCCEEDED') {
    const plan = { kind: 'verifyVlan' as const, hypervisors: ['hv1'], steps: [] };
    const job = newJobRecord('verifyVlan', { tag }, plan, { requestedBy: null, ticketRef: null });
    await store.create(job, 'queued');
    const verification = { tag, isolationFrom: [], results: [], ok: state === 'SUCCEEDED' };
    return { id: job.id, end: () => store.record({ ...job, state, finishedAt, verification }, state, 'ended') };
  }
  const lastOf = async (tag: number) => (await store.lastVerification(tag))?.id ?? null;

  it('is the verifyVlan job that ended last: an earlier end written later, a cancelled one or another VLAN do not replace it', async () => {
    expect(await lastOf(1201)).toBeNull();
    const earlier = await verifyJob(1201, '2030-01-01T00:00:01.000Z');
    const later = await verifyJob(1201, '2030-01-01T00:00:02.000Z', 'FAILED');
    await later.end();
    expect(await lastOf(1201)).toBe(later.id);
    // Ended first, its end written last (a worker slow to write): the later verification stays.
    await earlier.end();
    expect(await lastOf(1201)).toBe(later.id);
    // Written again (a retried write): the same.
    await later.end();
    expect(await lastOf(1201)).toBe(later.id);
    await (await verifyJob(1201, '2030-01-01T00:00:03.000Z', 'CANCELLED')).end();
    await (await verifyJob(1202, '2030-01-01T00:00:04.000Z')).end();
    expect(await lastOf(1201)).toBe(later.id);
    const latest = await verifyJob(1201, '2030-01-01T00:00:05.000Z');
    await latest.end();
    expect(await lastOf(1201)).toBe(latest.id);
    // It expires with the job it names.
    const ttl = await redis.ttl(`${prefix}:vlan-verification:1201`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    // Its job gone (expired): none.
    await redis.del(`${prefix}:job:${latest.id}:record`);
    expect(await lastOf(1201)).toBeNull();
  });
});

describe('JobEventHub', () => {
  it('a follower misses no event whose message was lost while its subscription reconnected (a Redis restart)', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const subscriber = new Redis(inject('redisUrl'));
    const hub = new JobEventHub(subscriber, store, createLogger('test', 'silent'));
    const job = newJobRecord(
      'createBridge',
      {},
      { kind: 'createBridge', hypervisors: ['hv1'], steps: [] },
      { requestedBy: null, ticketRef: null },
    );
    await store.create(job, 'queued');
    const follower = hub.follow(job.id);
    const got: string[] = [];
    expect((await follower.next()).value?.message).toBe('queued');
    // The subscription is gone while two events are written: their messages reach nobody.
    const ended = new Promise<void>((r) => subscriber.once('end', () => r()));
    subscriber.disconnect();
    await ended;
    await store.record({ ...job, state: 'RUNNING' }, 'STARTED', 'lost 1');
    await store.record({ ...job, state: 'RUNNING' }, 'WAITING', 'lost 2');
    const resubscribed = new Promise<void>((r) => subscriber.once('ready', () => r()));
    await subscriber.connect();
    await resubscribed;
    await new Promise((r) => setTimeout(r, 100));
    // The next event comes live; the two before it must come first, in order.
    await store.record({ ...job, state: 'SUCCEEDED' }, 'SUCCEEDED', 'live');
    for (let e = await follower.next(); !e.done; e = await follower.next()) got.push(e.value.message);
    expect(got).toEqual(['lost 1', 'lost 2', 'live']);
    subscriber.disconnect();
  });
});

describe('finishChangeJob (the flow parent)', () => {
  const steps = (hosts: string[]) => ({
    kind: 'ensureVlan' as const,
    hypervisors: hosts,
    steps: hosts.map((host) => ({
      host,
      description: `step on ${host}`,
      subject: 's',
      probe: { kind: 'ovs-bridge' as const, argv: ['true'] },
      wanted: 'x',
      apply: { argv: ['true'] },
      observed: null,
      changes: null,
    })),
  });

  it('a host part whose worker died for good is reported failed with BullMQ’s reason; the finished host stands', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const job = newJobRecord('ensureVlan', {}, steps(['hv1', 'hv2']), { requestedBy: null, ticketRef: null });
    await store.create(job, 'queued');
    const done: HostPart = {
      run: { ...job.hosts[0]!, state: 'SUCCEEDED', attempts: 1 },
      steps: [{ ...job.steps[0]!, state: 'SUCCEEDED', changed: true }],
      rollback: [],
    };
    const open = { worker: 'b:2', startedAt: '2026-12-01T00:00:01.000Z', endedAt: null, outcome: 'RUNNING' as const, reason: null };
    const dead: HostPart = {
      run: {
        ...job.hosts[1]!,
        state: 'RUNNING',
        attempts: 2,
        attemptLog: [
          { ...open, number: 1, worker: 'a:1', endedAt: open.startedAt, outcome: 'TAKEN_OVER', reason: 'a:1 stopped' },
          { ...open, number: 2 },
        ],
      },
      steps: [{ ...job.steps[1]!, state: 'RUNNING' }],
      rollback: [],
    };
    await store.recordHost(job, done, 'HOST_FINISHED', 'hv1: done');
    await store.recordHost(job, dead, 'STEP_STARTED', 'hv2: step 2');

    const logger = createLogger('test', 'silent');
    const settled = await finishChangeJob(
      { store, logger, turns: turnsFor(store) },
      job.id,
      new Map([['hv2', 'job stalled more than allowable limit']]),
    );
    expect(settled.state).toBe('FAILED');
    expect(settled.error).toMatchObject({ code: 'WORKER_FAILED' });
    expect(settled.error!.message).toMatch(/hv2: its worker stopped .*stalled more than allowable limit/);
    expect(settled.hosts.map((h) => [h.host, h.state])).toEqual([
      ['hv1', 'SUCCEEDED'],
      ['hv2', 'FAILED'],
    ]);
    expect(settled.steps.map((s) => s.state)).toEqual(['SUCCEEDED', 'SKIPPED']);
    expect(settled.attempts).toBe(2);
    // The attempt whose worker died is closed too: no attempt stays RUNNING on an ended part.
    const log = settled.hosts[1]!.attemptLog!;
    expect(log.map((a) => [a.number, a.outcome])).toEqual([
      [1, 'TAKEN_OVER'],
      [2, 'FAILED'],
    ]);
    expect(log[1]!.endedAt).not.toBeNull();
    expect(log[1]!.reason).toBe('its worker stopped: job stalled more than allowable limit');
    // Settling again changes nothing (a redelivered parent).
    expect((await finishChangeJob({ store, logger, turns: turnsFor(store) }, job.id, new Map())).state).toBe('FAILED');
    expect((await store.events(job.id)).filter((e) => e.type === 'FAILED')).toHaveLength(1);
  });

  it('hosts never started after a cancel are cancelled, and so is the job', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const job = newJobRecord('ensureVlan', {}, steps(['hv1']), { requestedBy: null, ticketRef: null });
    await store.create(job, 'queued');
    await store.requestCancel(job.id);
    const settled = await finishChangeJob({ store, logger: createLogger('test', 'silent'), turns: turnsFor(store) }, job.id, new Map());
    expect(settled.state).toBe('CANCELLED');
    expect(settled.hosts[0]!.state).toBe('CANCELLED');
  });
});

describe('HostOrder and turns: jobs on a host run in the order they were accepted', () => {
  const job = (kind: JobKind = 'setPortVlans', hosts = ['hv1']) =>
    newJobRecord(kind, {}, { kind, hypervisors: hosts, steps: [] }, { requestedBy: null, ticketRef: null });
  const noWait = { onWait: async () => {}, cancelRequested: async () => false };

  it('gives every host the same order; a job waits only for jobs accepted before it on its hosts', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const a = job('ensureVlan', ['oa1', 'oa2']);
    const b = job('setPortVlans', ['oa2']);
    const c = job('verifyVlan', ['oa1', 'oa2']);
    for (const j of [a, b, c]) await store.create(j, 'queued');
    const [ta, tb, tc] = [
      await order.accept(a.id, a.hypervisors),
      await order.accept(b.id, b.hypervisors),
      await order.accept(c.id, c.hypervisors),
    ];
    expect(ta).toBeLessThan(tb);
    expect(tb).toBeLessThan(tc);
    expect(await order.place(a.id, 'oa1')).toEqual({ ahead: 0, first: a.id, previous: null });
    expect(await order.place(b.id, 'oa2')).toEqual({ ahead: 1, first: a.id, previous: a.id });
    expect(await order.place(c.id, 'oa1')).toEqual({ ahead: 1, first: a.id, previous: a.id });
    expect(await order.place(c.id, 'oa2')).toEqual({ ahead: 2, first: a.id, previous: b.id });
    // Accepting again keeps the first place (a retried submission does not jump the queue).
    await order.accept(a.id, a.hypervisors);
    expect((await order.place(a.id, 'oa1'))!.ahead).toBe(0);

    const turns = turnsFor(store);
    expect(await awaitTurn(turns, a.id, 'oa2', noWait)).toBe('TURN');
    // Two jobs ahead: it gives its worker slot up at once, saying where it stands.
    const err = await awaitTurn(turns, c.id, 'oa2', noWait).catch((e) => e);
    expect(err).toBeInstanceOf(NotYourTurn);
    expect((err as NotYourTurn).place).toMatchObject({ ahead: 2, first: a.id });
    // Next in line: waits in place until the job ahead hands the host over.
    const said: string[] = [];
    const waiting = awaitTurn(turns, b.id, 'oa2', {
      onWait: async (p) => void said.push(p.first!),
      cancelRequested: async () => false,
      inPlaceMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 100));
    await handOver(turns, a.id, 'oa2');
    expect(await waiting).toBe('TURN');
    expect(said[0]).toBe(a.id);
    // a still holds oa1: c waits there for a alone.
    expect(await order.place(c.id, 'oa1')).toMatchObject({ ahead: 1, first: a.id });
    await handOver(turns, a.id, 'oa1');
    await handOver(turns, b.id, 'oa2');
    expect(await awaitTurn(turns, c.id, 'oa1', noWait)).toBe('TURN');
    expect(await awaitTurn(turns, c.id, 'oa2', noWait)).toBe('TURN');
    await handOver(turns, c.id, 'oa1');
    await handOver(turns, c.id, 'oa2');
    expect(await order.next('oa1', 5)).toEqual([]);
  });

  it('a first place whose job has ended or expired is released by whoever waits behind it', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const ended = job();
    const gone = job();
    const waiter = job();
    await store.create(ended, 'queued');
    await store.record({ ...ended, state: 'SUCCEEDED' }, 'SUCCEEDED', 'done');
    await store.create(waiter, 'queued');
    for (const j of [ended, gone, waiter]) await order.accept(j.id, ['ob1']);
    // `gone` never had a record (expired): both stale places go, and it is the waiter's turn.
    expect(await awaitTurn(turnsFor(store), waiter.id, 'ob1', noWait)).toBe('TURN');
    expect(await order.next('ob1', 5)).toEqual([waiter.id]);
    await handOver(turnsFor(store), waiter.id, 'ob1');
  });

  it('a job cancelled while it waits in place says so', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const first = job();
    const second = job();
    for (const j of [first, second]) {
      await store.create(j, 'queued');
      await order.accept(j.id, ['oc1']);
    }
    setTimeout(() => void store.requestCancel(second.id), 100);
    expect(
      await awaitTurn(turnsFor(store), second.id, 'oc1', {
        ...noWait,
        cancelRequested: () => store.cancelRequested(second.id),
        inPlaceMs: 10_000,
      }),
    ).toBe('CANCELLED');
    await order.release(first.id, ['oc1']);
    await order.release(second.id, ['oc1']);
  });

  it('the flow parent releases the places of parts BullMQ gave up on', async () => {
    const store = new JobStore(redis, { prefix, ttlSeconds: 60 });
    const j = newJobRecord(
      'ensureVlan',
      {},
      { kind: 'ensureVlan', hypervisors: ['od1', 'od2'], steps: [] },
      { requestedBy: null, ticketRef: null },
    );
    await store.create(j, 'queued');
    await order.accept(j.id, j.hypervisors);
    await finishChangeJob(
      { store, logger: createLogger('test', 'silent'), turns: turnsFor(store) },
      j.id,
      new Map([
        ['od1', 'stalled'],
        ['od2', 'stalled'],
      ]),
    );
    expect(await order.place(j.id, 'od1')).toBeNull();
    expect(await order.place(j.id, 'od2')).toBeNull();
  });
});

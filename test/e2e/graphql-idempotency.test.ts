import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeClient } from '../support/changes.ts';
import { gql, subscribeSse } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * GraphQL's half of idempotent retries and notifier resumption: `idempotencyKey` on a change
 * mutation, and jobEvents(since:) across a reconnect. (REST's half is in rest.test.ts.)
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const BRIDGES = ['tl-idem-a', 'tl-idem-b', 'tl-idem-c'];

let tl: Trunkline;
const { change } = changeClient(() => tl.url);
const jobCount = async () => (await gql(tl.url, '{ jobs(first: 100) { edges { node { id } } } }')).data.jobs.edges.length as number;
const clean = async () => {
  for (const b of BRIDGES) await labExec(labEnv, 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', b]);
};

beforeAll(async () => {
  await clean();
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
});

afterAll(async () => {
  await tl?.stop();
  await clean();
});

describe('idempotencyKey on GraphQL change mutations', () => {
  it('a retry with the same key and input answers the first job; another input with the key is refused; nothing new is queued', async () => {
    const input = { hypervisor: 'hv1', name: BRIDGES[0], idempotencyKey: 'ticket-42-bridge', ticketRef: 'TICKET-42' };
    const first = await change('createBridge', input);
    expect(first.userErrors).toEqual([]);
    const before = await jobCount();
    const again = await change('createBridge', input);
    expect(again.userErrors).toEqual([]);
    expect(again.job.id).toBe(first.job.id);
    expect(again.plan).toEqual(first.plan);
    const reused = await change('createBridge', { ...input, name: BRIDGES[1] });
    expect(reused.job).toBeNull();
    expect(reused.userErrors).toEqual([expect.objectContaining({ field: ['input', 'idempotencyKey'], code: 'IDEMPOTENCY_KEY_REUSED' })]);
    expect(await jobCount()).toBe(before);
    const done = await waitForJob(tl.url, first.job.id, 'id state');
    expect(done.state).toBe('SUCCEEDED');
    // The same key after the job ended: still the same job, not a second run.
    expect((await change('createBridge', input)).job.id).toBe(first.job.id);
  });

  it('identical requests racing with one key make one job', async () => {
    const input = { hypervisor: 'hv1', name: BRIDGES[2], idempotencyKey: 'race-1' };
    const before = await jobCount();
    const answers = await Promise.all(Array.from({ length: 6 }, () => change('createBridge', input)));
    const ids = new Set(answers.filter((a) => a.job).map((a) => a.job.id));
    expect(ids.size).toBe(1);
    for (const a of answers.filter((x) => !x.job)) expect(a.userErrors.map((e: any) => e.code)).toEqual(['IDEMPOTENCY_KEY_IN_PROGRESS']);
    expect(await jobCount()).toBe(before + 1);
    await waitForJob(tl.url, [...ids][0]!, 'id state');
  });

  it('a key that is no printable ASCII is refused naming the field', async () => {
    const r = await change('createBridge', { hypervisor: 'hv1', name: 'tl-idem-x', idempotencyKey: 'é' });
    expect(r.userErrors).toEqual([expect.objectContaining({ field: ['input', 'idempotencyKey'], code: 'INVALID_INPUT' })]);
  });
});

describe('jobEvents(since:)', () => {
  const SUB =
    'subscription($since: String, $t: String) { jobEvents(since: $since, filter: { ticketRef: $t }) { id sequence type ticketRef } }';

  it('a notifier that reconnects with the last sequence it saw gets the rest: nothing lost, nothing twice', async () => {
    const abort = new AbortController();
    const seen: Array<{ id: string; sequence: string; type: string; ticketRef: string }> = [];
    // First connection: from the start of the log (only this ticket's events), until the first few arrived.
    const first = (async () => {
      for await (const msg of subscribeSse(tl.url, SUB, { since: '0-0', t: 'TICKET-77' }, abort.signal)) {
        seen.push(msg.data.jobEvents);
        if (seen.length === 3) abort.abort();
      }
    })().catch(() => {});
    const r = await change('deleteBridge', { hypervisor: 'hv1', name: BRIDGES[0], ticketRef: 'TICKET-77' });
    const job = await waitForJob(tl.url, r.job.id, 'id state events { id }');
    await first;
    expect(seen.length).toBe(3);
    // Second connection, resuming after the last one seen: the rest of the job's events.
    const rest: typeof seen = [];
    const abort2 = new AbortController();
    const last = job.events.at(-1).id;
    await (async () => {
      for await (const msg of subscribeSse(tl.url, SUB, { since: seen.at(-1)!.sequence, t: 'TICKET-77' }, abort2.signal)) {
        rest.push(msg.data.jobEvents);
        if (msg.data.jobEvents.id === last) abort2.abort();
      }
    })().catch((err) => {
      if ((err as Error).name !== 'AbortError') throw err;
    });
    const all = [...seen, ...rest];
    expect(all.map((e) => e.id)).toEqual(job.events.map((e: any) => e.id));
    expect(new Set(all.map((e) => e.sequence)).size).toBe(all.length);
    expect(all.every((e) => e.ticketRef === 'TICKET-77')).toBe(true);
  });

  it('since must be a sequence', async () => {
    const abort = new AbortController();
    const msgs = [];
    for await (const msg of subscribeSse(tl.url, SUB, { since: 'yesterday' }, abort.signal)) msgs.push(msg);
    expect(msgs[0]?.errors?.[0]?.message).toMatch(/since: not an event sequence/);
  });
});

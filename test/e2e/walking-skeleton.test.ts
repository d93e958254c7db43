import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compareStreamIds } from '../../src/jobs/stream-id.ts';
import { gql, subscribeSse } from '../support/graphql-client.ts';
import { lab, labExec } from '../support/lab.ts';
import { startTrunkline, waitForJob as waitForJobState, type Trunkline } from '../support/trunkline.ts';

/**
 * The walking skeleton end to end: real gateway and worker processes, a private Redis, the
 * test lab's hypervisors over real SSH, and checks made independently inside the hosts.
 */
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const labEnv = inject('labEnv');
const bridge = `tb${randomBytes(3).toString('hex')}`;

let tl: Trunkline;
let url: string;

const JOB_FIELDS = `id kind state hypervisors changedSteps error { code message step }
  progress { done total percent message }
  steps { index host description command state changed observed wanted durationMs }`;

const CREATE_BRIDGE = `mutation($input: CreateBridgeInput!) {
  createBridge(input: $input) { job { ${JOB_FIELDS} } plan { steps { command } } userErrors { field code message } }
}`;

const waitForJob = (id: string, deadlineMs?: number) => waitForJobState(url, id, JOB_FIELDS, deadlineMs);

async function queuedJobCount(): Promise<number> {
  const counts = await tl.queue.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  url = tl.url;
});

afterAll(async () => {
  await tl?.stop();
  await labExec(labEnv, 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', bridge]);
});

describe('walking skeleton on the lab', () => {
  it('lists both lab hypervisors as reachable', async () => {
    const res = await gql(url, '{ hypervisors(refresh: true) { name address status lastError { code } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.hypervisors.map((h: any) => [h.name, h.status])).toEqual([
      ['hv1', 'REACHABLE'],
      ['hv2', 'REACHABLE'],
    ]);
  });

  it('createBridge: events stream in order, the bridge exists on the host, a rerun changes nothing', async () => {
    // No worker for a moment: the job waits in the queue while we subscribe, so later events arrive live.
    await tl.worker!.stop();
    const created = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv1', name: bridge, ticketRef: 'NET-42' } });
    expect(created.errors).toBeUndefined();
    expect(created.data.createBridge.userErrors).toEqual([]);
    const job = created.data.createBridge.job;
    expect(job).toMatchObject({ kind: 'createBridge', state: 'QUEUED', hypervisors: ['hv1'] });

    const events: any[] = [];
    const sub = subscribeSse(
      url,
      `subscription($id: ID!) { jobProgress(id: $id) {
        id type state message step { index changed state } progress { done total } } }`,
      { id: job.id },
    );
    const first = await sub.next();
    events.push(first.value.data.jobProgress);
    expect(events[0]).toMatchObject({ type: 'QUEUED', state: 'QUEUED' });

    await tl.startWorker();
    for await (const msg of sub) {
      expect(msg.errors).toBeUndefined();
      events.push(msg.data.jobProgress);
    }
    // A change job is a flow: the job starts, its one host part starts, runs its step, ends.
    expect(events.map((e) => e.type)).toEqual([
      'QUEUED',
      'STARTED',
      'HOST_STARTED',
      'HOST_PLANNED',
      'STEP_STARTED',
      'STEP_FINISHED',
      'HOST_FINISHED',
      'SUCCEEDED',
    ]);
    expect(events[3].message).toMatch(/hv1: planned from the host as it is .*1 step, 1 to change/);
    expect(events[5].step).toMatchObject({ index: 0, changed: true, state: 'SUCCEEDED' });
    expect(events[5].progress).toMatchObject({ done: 1, total: 1 });
    expect(events.at(-1)).toMatchObject({ state: 'SUCCEEDED', progress: { done: 1, total: 1 } });
    // Event ids increase: clients can resume from the last one they saw.
    const ids = events.map((e) => e.id);
    expect([...ids].sort(compareStreamIds)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    // Checked on the host itself, not through Trunkline.
    expect((await labExec(labEnv, 'hv1', ['ovs-vsctl', 'br-exists', bridge])).code).toBe(0);
    expect((await labExec(labEnv, 'hv1', ['ovs-vsctl', 'get', 'Bridge', bridge, 'datapath_type'])).stdout.trim()).toBe('netdev');
    expect((await labExec(labEnv, 'hv2', ['ovs-vsctl', 'br-exists', bridge])).code).toBe(2);

    const again = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv1', name: bridge } });
    const rerun = await waitForJob(again.data.createBridge.job.id);
    expect(rerun.state).toBe('SUCCEEDED');
    expect(rerun.steps).toHaveLength(1);
    expect(rerun.steps[0]).toMatchObject({ changed: false, observed: 'datapath_type=netdev', wanted: 'datapath_type=netdev' });
    expect(rerun.changedSteps).toBe(0);

    const listed = await gql(url, '{ hypervisor(name: "hv1") { bridges { name datapathType ports { name tag trunks } } } }');
    const found = listed.data.hypervisor.bridges.find((b: any) => b.name === bridge);
    expect(found).toMatchObject({ name: bridge, datapathType: 'netdev', ports: [{ name: bridge, tag: null, trunks: [] }] });
  });

  it('a late subscriber gets the whole history of a finished job, then the stream ends', async () => {
    const created = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv1', name: bridge } });
    const id = created.data.createBridge.job.id;
    await waitForJob(id);
    const types: string[] = [];
    for await (const msg of subscribeSse(url, 'subscription($id: ID!) { jobProgress(id: $id) { type } }', { id })) {
      types.push(msg.data.jobProgress.type);
    }
    expect(types).toEqual([
      'QUEUED',
      'STARTED',
      'HOST_STARTED',
      'HOST_PLANNED',
      'STEP_STARTED',
      'STEP_FINISHED',
      'HOST_FINISHED',
      'SUCCEEDED',
    ]);
  });

  it('dryRun returns the plan and queues nothing', async () => {
    const before = await queuedJobCount();
    const res = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv2', name: 'drybr0', dryRun: true } });
    expect(res.data.createBridge.job).toBeNull();
    expect(res.data.createBridge.plan.steps[0].command).toContain('add-br drybr0');
    expect(await queuedJobCount()).toBe(before);
    expect((await labExec(labEnv, 'hv2', ['ovs-vsctl', 'br-exists', 'drybr0'])).code).toBe(2);
  });

  it.each([
    [{ hypervisor: 'hv1', name: 'br0; rm -rf /' }, ['input', 'name'], 'INVALID_INPUT'],
    [{ hypervisor: 'hv1', name: 'abcdefghijklmnop' }, ['input', 'name'], 'INVALID_INPUT'],
    [{ hypervisor: 'hv1', name: '' }, ['input', 'name'], 'INVALID_INPUT'],
    [{ hypervisor: 'hv9', name: 'br1' }, ['input', 'hypervisor'], 'UNKNOWN_HYPERVISOR'],
    [{ hypervisor: 'hv1', name: 'br1', ticketRef: '$(reboot)' }, ['input', 'ticketRef'], 'INVALID_INPUT'],
  ])('refuses %j with a userError on %j and enqueues nothing', async (input, field, code) => {
    const before = await queuedJobCount();
    const jobKeys = (await tl.redis.keys(`${tl.prefix}:job:*`)).length;
    const res = await gql(url, CREATE_BRIDGE, { input });
    expect(res.errors).toBeUndefined();
    const payload = res.data.createBridge;
    expect(payload.job).toBeNull();
    expect(payload.userErrors).toHaveLength(1);
    expect(payload.userErrors[0]).toMatchObject({ field, code });
    expect(payload.userErrors[0].message).toMatch(new RegExp(field[1]!));
    expect(await queuedJobCount()).toBe(before);
    expect((await tl.redis.keys(`${tl.prefix}:job:*`)).length).toBe(jobKeys);
  });

  it('a host whose sshd died: its job fails with a clear error, the other host still answers', async () => {
    await lab(labEnv, 'kill-sshd', 'hv2');
    try {
      const res = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv2', name: 'deadbr0' } });
      const job = await waitForJob(res.data.createBridge.job.id, 30_000);
      expect(job.state).toBe('FAILED');
      expect(['SSH_CONNECT_FAILED', 'SSH_DISCONNECTED']).toContain(job.error.code);
      // The part plans from the host as it is: a host it cannot read is not touched at all.
      expect(job.error.message).toMatch(/hv2: could not read the host to plan from it, nothing was changed/);
      expect(job.error.step).toBeNull();
      expect(job.steps[0].state).toBe('SKIPPED');

      const listed = await gql(url, '{ hypervisors(refresh: true) { name status stale lastError { code message } bridges { name } } }');
      expect(listed.errors).toBeUndefined();
      const [hv1, hv2] = listed.data.hypervisors;
      expect(hv1).toMatchObject({ name: 'hv1', status: 'REACHABLE', lastError: null });
      expect(hv1.bridges.map((b: any) => b.name)).toContain(bridge);
      // The last known state is kept and flagged: stale, with the reason.
      expect(hv2).toMatchObject({ name: 'hv2', status: 'UNREACHABLE', stale: true });
      expect(hv2.lastError.code).toBe('SSH_CONNECT_FAILED');
    } finally {
      await lab(labEnv, 'up');
    }
    // Once sshd is back, the same change goes through: no stale connection is kept.
    const res = await gql(url, CREATE_BRIDGE, { input: { hypervisor: 'hv2', name: 'deadbr0' } });
    const job = await waitForJob(res.data.createBridge.job.id);
    expect(job.state).toBe('SUCCEEDED');
    await labExec(labEnv, 'hv2', ['ovs-vsctl', '--if-exists', 'del-br', 'deadbr0']);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Job } from 'bullmq';
import { hostJobId } from '../../src/jobs/change-queue.ts';
import { changeClient } from '../support/changes.ts';
import { freePort } from '../support/free-port.ts';
import { gql } from '../support/graphql-client.ts';
import { useToken } from '../support/credentials.ts';
import { labExec } from '../support/lab.ts';
import { startProcess, type Proc } from '../support/processes.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * Changes compose: requests that arrive back to back (two tickets a minute, or a millisecond,
 * apart) take effect on each host in the order they were accepted, each planned from the host as
 * it is when its turn comes; also across gateways and when a worker dies mid-stream.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const HOSTS = ['hv1', 'hv2'];
const sfx = randomBytes(2).toString('hex');
const BR = `to${sfx}`;
const UP = `to${sfx}u`;
const NET = `tonet-${sfx}`;
const TAG = 1201;

let tl: Trunkline;
const extra: Proc[] = [];
const { apply } = changeClient(() => tl.url);
const on = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).stdout.trim();

// Seeded, printed: a failing order can be replayed with TRUNKLINE_TEST_SEED.
const seed = Number(process.env.TRUNKLINE_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
let prng = seed;
const random = () => {
  prng = (prng + 0x6d2b79f5) | 0;
  let t = Math.imul(prng ^ (prng >>> 15), 1 | prng);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jobUuid = (id: string) => Buffer.from(id, 'base64url').toString('utf8').replace(/^Job:/, '');

const HOST_FIELDS =
  'id state kind error { code message } hosts { hypervisor state attempts { number worker outcome reason endedAt } startedAt finishedAt planNote } steps { host state changed }';

async function clean(): Promise<void> {
  for (const h of HOSTS) {
    await labExec(labEnv, h, ['virsh', 'net-destroy', NET]);
    await labExec(labEnv, h, ['virsh', 'net-undefine', NET]);
    await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
  }
}

beforeAll(async () => {
  console.log(`ordering.test.ts: TRUNKLINE_TEST_SEED=${seed}`);
  await clean();
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
  // Each host: a bridge whose uplink trunks VLAN 1001 (so removing TAG never empties it), and a network.
  for (const h of HOSTS) {
    await apply('createBridge', { hypervisor: h, name: BR });
    await apply('addPort', { hypervisor: h, bridge: BR, name: UP, type: 'INTERNAL', trunks: [1001] });
    await apply('defineNetwork', { hypervisor: h, name: NET, bridge: BR, portgroups: [{ name: 'vlan-0001', isDefault: true }] });
  }
});

afterAll(async () => {
  for (const p of extra) await p.stop();
  await tl?.stop();
  await clean();
});

type Kind = 'ensureVlan' | 'removeVlan';
const inputOf = (kind: Kind) =>
  kind === 'ensureVlan'
    ? { tag: TAG, hypervisors: HOSTS, bridge: BR, uplink: UP, network: NET }
    : { tag: TAG, hypervisors: HOSTS, uplink: UP, network: NET, force: true };

/** Submits ensure, remove, ensure, … (`count` requests) back to back with random gaps; returns the job ids in order of acceptance. */
async function burst(count: number, urls: string[] = [tl.url]): Promise<{ ids: string[]; last: Kind }> {
  const ids: string[] = [];
  let last: Kind = 'ensureVlan';
  for (let i = 0; i < count; i++) {
    last = i % 2 === 0 ? 'ensureVlan' : 'removeVlan';
    const res = await gql(
      urls[i % urls.length]!,
      `mutation($input: ${last === 'ensureVlan' ? 'EnsureVlanInput' : 'RemoveVlanInput'}!) { ${last}(input: $input) { job { id } userErrors { field code message } } }`,
      {
        input: inputOf(last),
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data[last].userErrors).toEqual([]);
    ids.push(res.data[last].job.id);
    await sleep(Math.floor(random() * 200));
  }
  return { ids, last };
}

/** On the hosts themselves: does VLAN TAG sit on the uplink and as portgroup vlan-TAG, live and persistent? */
async function vlanOnHost(h: string): Promise<{ uplink: boolean; live: boolean; persistent: boolean }> {
  const trunks = await on(h, 'ovs-vsctl', 'get', 'Port', UP, 'trunks');
  return {
    uplink: trunks
      .replace(/[[\]\s]/g, '')
      .split(',')
      .includes(String(TAG)),
    live: (await on(h, 'virsh', 'net-dumpxml', NET)).includes(`portgroup name='vlan-${TAG}'`),
    persistent: (await on(h, 'virsh', 'net-dumpxml', '--inactive', NET)).includes(`portgroup name='vlan-${TAG}'`),
  };
}

/** Every host part of job i+1 started after the part of job i on the same host finished. */
function expectHostOrder(jobs: any[], hosts = HOSTS): void {
  for (const h of hosts) {
    const parts = jobs.map((j) => ({ id: j.id, ...j.hosts.find((x: any) => x.hypervisor === h) }));
    for (let i = 1; i < parts.length; i++) {
      const before = parts[i - 1]!;
      const after = parts[i]!;
      expect(
        Date.parse(after.startedAt),
        `${h}: job ${i} (${after.id}) started before job ${i - 1} (${before.id}) finished`,
      ).toBeGreaterThanOrEqual(Date.parse(before.finishedAt));
    }
  }
}

async function expectHostsHold(last: Kind): Promise<void> {
  const wanted = last === 'ensureVlan';
  for (const h of HOSTS)
    expect(await vlanOnHost(h), `${h} after a burst ending with ${last}`).toEqual({ uplink: wanted, live: wanted, persistent: wanted });
}

describe('changes compose', () => {
  it('ensure, remove, ensure, … of one VLAN on two hosts, back to back with random gaps: the hosts hold what the last request asked for', async () => {
    for (const count of [20, 19]) {
      const { ids, last } = await burst(count);
      const jobs = await Promise.all(ids.map((id) => waitForJob(tl.url, id, HOST_FIELDS, 120_000)));
      expect(jobs.map((j) => [j.kind, j.state])).toEqual(jobs.map((_j, i) => [i % 2 === 0 ? 'ensureVlan' : 'removeVlan', 'SUCCEEDED']));
      expectHostOrder(jobs);
      await expectHostsHold(last);
      // Each request changed the hosts (planned when its turn came, not from the cache at submission).
      for (const j of jobs)
        for (const h of HOSTS)
          expect(j.steps.filter((s: any) => s.host === h && s.changed).length, `${j.kind} ${j.id} on ${h}`).toBeGreaterThan(0);
    }
  });

  it('two gateways accepting interleaved requests for one host: they take effect in the order of acceptance, and a waiting job says which job it waits for', async () => {
    const port = await freePort();
    const gw = await startProcess('gateway/main.ts', { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port) }, 'gateway listening');
    extra.push(gw);
    const urls = [tl.url, `http://127.0.0.1:${port}/graphql`];
    useToken(urls[1]!, tl.adminToken);
    const ids: string[] = [];
    // No gaps: most jobs are accepted while earlier ones still run.
    for (let i = 0; i < 8; i++) {
      const res = await gql(
        urls[i % 2]!,
        'mutation($input: SetPortVlansInput!) { setPortVlans(input: $input) { job { id } userErrors { message } } }',
        {
          input: { hypervisor: 'hv1', name: UP, trunks: [1001, 1300 + i] },
        },
      );
      expect(res.data.setPortVlans.userErrors).toEqual([]);
      ids.push(res.data.setPortVlans.job.id);
    }
    const jobs = await Promise.all(ids.map((id) => waitForJob(tl.url, id, HOST_FIELDS)));
    expect(jobs.map((j) => j.state)).toEqual(jobs.map(() => 'SUCCEEDED'));
    expectHostOrder(jobs, ['hv1']);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', UP, 'trunks')).toBe('[1001, 1307]');
    // Somebody waited, and said for which job (an earlier one).
    let waits = 0;
    for (const [i, id] of ids.entries()) {
      const events = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { events { type message } } }', { id })).data?.job?.events;
      if (!events) continue;
      for (const e of events.filter((x: any) => x.type === 'WAITING')) {
        waits++;
        const named = ids
          .slice(0, i)
          .map(jobUuid)
          .filter((u) => e.message.includes(u));
        expect(named, e.message).toHaveLength(1);
      }
    }
    expect(waits).toBeGreaterThan(0);
    await apply('setPortVlans', { hypervisor: 'hv1', name: UP, trunks: [1001] });
  });

  it('the same stream with a worker killed mid-part and restarted: the same outcome, no part runs before an earlier one of its host, take-over within ~15 s', async () => {
    const workers = [tl.worker!, await startProcess('workers/main.ts', tl.env, 'worker ready')];
    extra.push(workers[1]!);
    const stream = burst(12);
    // Kill the worker that runs a host part (BullMQ records its name, host:pid): SIGKILL mid-batch.
    const until = Date.now() + 30_000;
    let killedAt = 0;
    while (!killedAt && Date.now() < until) {
      const jobs = (await gql(tl.url, '{ jobs(first: 20) { nodes { id hosts { hypervisor state } } } }')).data.jobs.nodes;
      const running = jobs.flatMap((j: any) =>
        j.hosts.filter((h: any) => h.state === 'RUNNING').map((h: any) => hostJobId(jobUuid(j.id), h.hypervisor)),
      )[0];
      const bull = running ? await Job.fromId(tl.queue, running) : undefined;
      const victim = workers.find((w) => bull?.processedBy?.endsWith(`:${w.child.pid}`));
      if (victim) {
        victim.child.kill('SIGKILL');
        killedAt = Date.now();
        // Restarted: it comes back as a new process; the part is taken over by whichever worker notices first.
        extra.push(await startProcess('workers/main.ts', tl.env, 'worker ready'));
      } else await sleep(5);
    }
    expect(killedAt).toBeGreaterThan(0);
    const { ids, last } = await stream;
    const jobs = await Promise.all(ids.map((id) => waitForJob(tl.url, id, HOST_FIELDS, 120_000)));
    expect(jobs.map((j) => j.state)).toEqual(jobs.map(() => 'SUCCEEDED'));
    expectHostOrder(jobs);
    await expectHostsHold(last);
    // The part that was running is taken over (attempt 2) and keeps its place.
    const taken = jobs.flatMap((j) => j.hosts.filter((h: any) => h.attempts.length > 1).map((h: any) => ({ job: j.id, ...h })));
    expect(taken.length).toBeGreaterThan(0);
    for (const t of taken) {
      // Both attempts are reported: the killed worker's as taken over, and why; the other's as the part ended.
      const [first, second] = t.attempts;
      expect(first).toMatchObject({ number: 1, outcome: 'TAKEN_OVER' });
      expect(first.reason).toContain(`worker ${first.worker} stopped renewing its claim`);
      expect(second).toMatchObject({ number: 2, outcome: 'SUCCEEDED' });
      expect(second.worker).not.toBe(first.worker);
      const events = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { events { type at hypervisor message } } }', { id: t.job })).data
        .job.events;
      const restart = events.find((e: any) => e.type === 'HOST_STARTED' && e.hypervisor === t.hypervisor && /attempt 2/.test(e.message));
      expect(restart).toBeDefined();
      const after = Date.parse(restart.at) - killedAt;
      console.log(`ordering.test.ts: ${t.hypervisor} part of ${t.job} taken over ${after} ms after the kill`);
      expect(after).toBeLessThan(16_000);
    }
  });

  it('a job cancelled while it waits, and an earlier job that fails, give their places up: the next job runs right after', async () => {
    const vm = `to-vm-${sfx}`;
    try {
      expect((await apply('defineVm', { hypervisor: 'hv1', name: vm, memoryMiB: 32, nics: [{ network: NET }] })).state).toBe('SUCCEEDED');
      expect((await apply('startVm', { hypervisor: 'hv1', name: vm })).state).toBe('SUCCEEDED');
      const submit = async (name: string, input: Record<string, unknown>) => {
        const cap = name[0]!.toUpperCase() + name.slice(1);
        const res = await gql(tl.url, `mutation($input: ${cap}Input!) { ${name}(input: $input) { job { id } userErrors { message } } }`, {
          input,
        });
        expect(res.data[name].userErrors).toEqual([]);
        return res.data[name].job.id as string;
      };
      // A: a guest without an OS ignores the ACPI shutdown: without force it fails after 3 s.
      const a = await submit('stopVm', { hypervisor: 'hv1', name: vm, timeoutSeconds: 3 });
      const b = await submit('setPortVlans', { hypervisor: 'hv1', name: UP, trunks: [1001, 1340] });
      const c = await submit('setPortVlans', { hypervisor: 'hv1', name: UP, trunks: [1001, 1341] });
      // b waits for a (and says so); cancelled while it waits.
      const until = Date.now() + 10_000;
      let events: any[] = [];
      while (Date.now() < until && !events.some((e) => e.type === 'WAITING')) {
        events = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { events { type message } } }', { id: b })).data.job.events;
        await sleep(50);
      }
      expect(events.find((e) => e.type === 'WAITING')?.message).toContain(jobUuid(a));
      const cancelled = await gql(tl.url, 'mutation($id: ID!) { cancelJob(input: { id: $id }) { job { state } userErrors { code } } }', {
        id: b,
      });
      expect(cancelled.data.cancelJob.userErrors).toEqual([]);
      const [ja, jb, jc] = await Promise.all([a, b, c].map((id) => waitForJob(tl.url, id, `${HOST_FIELDS} events { type }`)));
      expect(ja.state).toBe('FAILED');
      expect(ja.error.code).toBe('STEP_NOT_CONVERGED');
      expect(jb.state).toBe('CANCELLED');
      expect(jb.events.map((e: any) => e.type)).not.toContain('HOST_STARTED');
      expect(jc.state).toBe('SUCCEEDED');
      // c went as soon as a had failed: the cancelled b held nothing up.
      const cStart = Date.parse(jc.hosts[0].startedAt);
      const aEnd = Date.parse(ja.hosts[0].finishedAt);
      expect(cStart).toBeGreaterThanOrEqual(aEnd);
      expect(cStart - aEnd).toBeLessThan(2000);
      expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', UP, 'trunks')).toBe('[1001, 1341]');
    } finally {
      await labExec(labEnv, 'hv1', ['virsh', 'destroy', vm]);
      await labExec(labEnv, 'hv1', ['virsh', 'undefine', vm]);
      await apply('setPortVlans', { hypervisor: 'hv1', name: UP, trunks: [1001] });
    }
  });

  it('the order survives a Redis restart (Redis persisting to an append-only file): jobs accepted before it run after it in that order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-aof-'));
    let server = await startRedisServer({ dir });
    let other: Trunkline | undefined;
    try {
      // A deployment of its own on that Redis, its gateway first: the jobs wait in Redis.
      other = await startTrunkline({ redisUrl: server.url, inventoryPath, worker: false });
      const { ids, last } = await burst(6, [other.url]);
      // Redis dies (SIGKILL: no shutdown save) and comes back from its append-only file.
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      server = await startRedisServer({ dir, port: server.port });
      await other.startWorker();
      const jobs = await Promise.all(ids.map((id) => waitForJob(other!.url, id, HOST_FIELDS, 120_000)));
      expect(jobs.map((j) => j.state)).toEqual(jobs.map(() => 'SUCCEEDED'));
      expectHostOrder(jobs);
      await expectHostsHold(last);
    } finally {
      await other?.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

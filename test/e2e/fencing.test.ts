import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeClient, JOB_FIELDS } from '../support/changes.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec, ovsdbPid } from '../support/lab.ts';
import { startProcess, type Proc } from '../support/processes.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/*
 * Fencing (issue 13): a worker that lost its host lock must not touch the host again, nor
 * write the part's record. Two ways to lose it, each made to happen on purpose:
 *   - the worker is paused (SIGSTOP) mid-part past the lock's lifetime: another worker takes the
 *     part over and finishes it, a later job changes the same port, then the paused worker wakes;
 *   - the lock key vanishes while the part runs (as after a Redis restart that lost it): the worker
 *     stops at its next round trip (LOCK_LOST) and runs the part again itself.
 * To catch the part mid-way, the host's ovsdb-server is frozen while the part reads the host.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const HOST = 'hv1';
const sfx = randomBytes(2).toString('hex');
const BR = `tf${sfx}`;
const PORT = `tf${sfx}p`;
const LOCK_MS = 2000;

let tl: Trunkline;
let second: Proc | undefined;
const { change, apply } = changeClient(() => tl.url);
const on = async (...argv: string[]) => (await labExec(labEnv, HOST, argv)).stdout.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const frozen = new Set<number>();
function signal(pid: number, sig: 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(pid, sig);
  if (sig === 'SIGSTOP') frozen.add(pid);
  else frozen.delete(pid);
}

/** Submits setPortVlans (tag) and returns the job id once a worker has started the part, with that worker's pid. */
async function startedOnAWorker(tag: number): Promise<{ id: string; pid: number }> {
  const payload = await change('setPortVlans', { hypervisor: HOST, name: PORT, tag, vlanMode: 'ACCESS' });
  expect(payload.userErrors).toEqual([]);
  const id = payload.job.id;
  const until = Date.now() + 20_000;
  for (;;) {
    const job = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { attempts { worker } } } }', { id })).data.job;
    const worker: string | undefined = job.hosts[0].attempts[0]?.worker;
    if (worker) return { id, pid: Number(worker.split(':').at(-1)) };
    if (Date.now() > until) throw new Error('no worker started the part');
    await sleep(5);
  }
}

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath, env: { TRUNKLINE_JOB_LOCK_MS: String(LOCK_MS) } });
  second = await startProcess('workers/main.ts', tl.env, 'worker ready');
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
  expect((await apply('createBridge', { hypervisor: HOST, name: BR })).state).toBe('SUCCEEDED');
  expect((await apply('addPort', { hypervisor: HOST, bridge: BR, name: PORT, type: 'INTERNAL', tag: 1001 })).state).toBe('SUCCEEDED');
});

afterEach(() => {
  // Never leave a process stopped, whatever failed.
  for (const pid of [...frozen]) {
    try {
      signal(pid, 'SIGCONT');
    } catch {}
  }
});

afterAll(async () => {
  await second?.stop();
  await tl?.stop();
  await labExec(labEnv, HOST, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
});

describe('fencing: a worker that lost its host lock applies nothing', () => {
  it('paused past its lock mid-part: the part is taken over (both attempts reported), a later job runs, and the woken worker changes nothing', async () => {
    const ovsdb = await ovsdbPid(labEnv, HOST);
    signal(ovsdb, 'SIGSTOP');
    const first = await startedOnAWorker(1002);
    const workers = [tl.worker!, second!];
    const paused = workers.find((w) => w.child.pid === first.pid);
    expect(paused, `worker pid ${first.pid} is one of ours`).toBeDefined();
    signal(first.pid, 'SIGSTOP');
    signal(ovsdb, 'SIGCONT');

    const taken = await waitForJob(tl.url, first.id, JOB_FIELDS, 60_000);
    expect(taken.state).toBe('SUCCEEDED');
    const [a1, a2] = taken.hosts[0].attempts;
    expect(a1).toMatchObject({ number: 1, outcome: 'TAKEN_OVER', worker: expect.stringMatching(`:${first.pid}$`) });
    expect(a1.reason).toMatch(/stopped renewing its claim/);
    expect(a2).toMatchObject({ number: 2, outcome: 'SUCCEEDED' });
    expect(a2.worker).not.toBe(a1.worker);
    expect(await on('ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('1002');

    // A later job on the same port, while the first attempt's worker still sleeps.
    const later = await apply('setPortVlans', { hypervisor: HOST, name: PORT, tag: 1003, vlanMode: 'ACCESS' });
    expect(later.state).toBe('SUCCEEDED');
    const logBefore = await on('ovsdb-tool', 'show-log', '/etc/openvswitch/conf.db');
    const recordBefore = await waitForJob(tl.url, first.id, JOB_FIELDS);

    signal(first.pid, 'SIGCONT');
    // Longer than a lock's lifetime and the woken worker's overdue timers.
    await sleep(LOCK_MS * 2);
    expect(await on('ovs-vsctl', 'get', 'Port', PORT, 'tag'), 'the woken worker did not redo the first job').toBe('1003');
    expect(await on('ovsdb-tool', 'show-log', '/etc/openvswitch/conf.db'), 'no transaction after the wake-up').toBe(logBefore);
    expect(await waitForJob(tl.url, first.id, JOB_FIELDS), 'the record is the taking-over attempt’s').toEqual(recordBefore);
    expect(paused!.child.exitCode, 'the woken worker is still running').toBeNull();
    expect(paused!.output()).toMatch(/host part interrupted: lease or claim lost/);
  });

  it('cancelled while its worker sleeps mid-part: the worker that takes it over checks the host first, and both attempts are reported', async () => {
    const ovsdb = await ovsdbPid(labEnv, HOST);
    signal(ovsdb, 'SIGSTOP');
    const first = await startedOnAWorker(1005);
    signal(first.pid, 'SIGSTOP');
    signal(ovsdb, 'SIGCONT');
    const cancel = await gql(tl.url, 'mutation($id: ID!) { cancelJob(input: { id: $id }) { userErrors { code } } }', { id: first.id });
    expect(cancel.data.cancelJob.userErrors).toEqual([]);
    const job = await waitForJob(tl.url, first.id, JOB_FIELDS, 60_000);
    signal(first.pid, 'SIGCONT');
    // The earlier attempt may have changed the host before it slept: it is not "cancelled while waiting".
    const [a1, a2] = job.hosts[0].attempts;
    expect(a1).toMatchObject({ number: 1, outcome: 'TAKEN_OVER', worker: expect.stringMatching(`:${first.pid}$`) });
    expect(a2).toMatchObject({ number: 2 });
    expect(a2.worker).not.toBe(a1.worker);
    expect(['CANCELLED', 'SUCCEEDED']).toContain(job.state);
    const said = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { message } } }', { id: first.id })).data.job.hosts[0].message;
    expect(said).not.toMatch(/waited for the host lock/);
    const tag = await on('ovs-vsctl', 'get', 'Port', PORT, 'tag');
    // What the record says is what the host has: changed only if the tag is the new one.
    expect(job.steps[0].changed === true || job.state === 'SUCCEEDED').toBe(tag === '1005');
  });

  it('a part whose workers are killed twice mid-part is taken over twice and still succeeds: three attempts, each saying how it ended', async () => {
    const third = await startProcess('workers/main.ts', tl.env, 'worker ready');
    const spare: Proc[] = [third];
    try {
      const ovsdb = await ovsdbPid(labEnv, HOST);
      signal(ovsdb, 'SIGSTOP');
      const { id } = await startedOnAWorker(1006);
      const killed: number[] = [];
      for (let n = 1; n <= 2; n++) {
        // The worker of attempt n (waiting on the frozen host) is killed; another takes the part over.
        const until = Date.now() + 30_000;
        let pid = 0;
        while (!pid) {
          const attempts = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { attempts { worker } } } }', { id })).data.job
            .hosts[0].attempts;
          if (attempts.length === n) pid = Number(attempts[n - 1].worker.split(':').at(-1));
          else if (Date.now() > until) throw new Error(`attempt ${n} did not start`);
          else await sleep(20);
        }
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
        spare.push(await startProcess('workers/main.ts', tl.env, 'worker ready'));
      }
      const until = Date.now() + 30_000;
      while (
        (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { attempts { worker } } } }', { id })).data.job.hosts[0].attempts
          .length < 3
      ) {
        if (Date.now() > until) throw new Error('attempt 3 did not start');
        await sleep(20);
      }
      signal(ovsdb, 'SIGCONT');
      const job = await waitForJob(tl.url, id, JOB_FIELDS, 60_000);
      expect(job.state, JSON.stringify(job.error)).toBe('SUCCEEDED');
      expect(job.hosts[0].attempts.map((a: any) => a.outcome)).toEqual(['TAKEN_OVER', 'TAKEN_OVER', 'SUCCEEDED']);
      expect(job.hosts[0].attempts.slice(0, 2).map((a: any) => Number(a.worker.split(':').at(-1)))).toEqual(killed);
      expect(await on('ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('1006');
    } finally {
      for (const p of spare) await p.stop();
      // The two workers this file started may be among the killed: keep two alive for the next test.
      if (tl.worker!.child.exitCode !== null || tl.worker!.child.signalCode !== null) await tl.startWorker();
      if (second!.child.exitCode !== null || second!.child.signalCode !== null)
        second = await startProcess('workers/main.ts', tl.env, 'worker ready');
    }
  });

  it('the lock vanishes mid-part (a Redis restart that lost it): the worker stops with LOCK_LOST, says so, and runs the part again', async () => {
    const ovsdb = await ovsdbPid(labEnv, HOST);
    signal(ovsdb, 'SIGSTOP');
    const { id } = await startedOnAWorker(1004);
    // Taken by someone else meanwhile: the part's renewal and its next round trip find another token.
    await tl.redis.set(`${tl.prefix}:lock:host:${HOST}`, 'someone-else', 'PX', LOCK_MS);
    signal(ovsdb, 'SIGCONT');

    const job = await waitForJob(tl.url, id, JOB_FIELDS, 60_000);
    expect(job.state).toBe('SUCCEEDED');
    const [a1, a2] = job.hosts[0].attempts;
    expect(a1).toMatchObject({ number: 1, outcome: 'LOCK_LOST' });
    expect(a1.reason).toMatch(/lock of hv1 was lost/);
    // Run again by whichever worker takes the delayed part first.
    expect(a2).toMatchObject({ number: 2, outcome: 'SUCCEEDED' });
    const events = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { events { type message } } }', { id })).data.job.events;
    const interrupted = events.find((e: any) => e.type === 'HOST_INTERRUPTED');
    expect(interrupted?.message).toMatch(/attempt 1 stopped: .*runs again/);
    expect(await on('ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('1004');
  });
});

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'bullmq';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { hostJobId } from '../../src/jobs/change-queue.ts';
import { gql, subscribeSse } from '../support/graphql-client.ts';
import { useToken } from '../support/credentials.ts';
import { changeClient, JOB_FIELDS } from '../support/changes.ts';
import { freePort } from '../support/free-port.ts';
import { labExec } from '../support/lab.ts';
import { domainXml } from '../support/reference-setup.ts';
import { startProcess, type Proc } from '../support/processes.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * Every change mutation through the public API against the lab, each verified on the host
 * itself, re-run to prove idempotency; then dry runs, refusals, rollback, concurrency across
 * two worker processes, a worker stopped mid-job, cancellation and event subscriptions.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const sfx = randomBytes(2).toString('hex');
const BR = `tc${sfx}`;
const NET = `tcnet-${sfx}`;

let tl: Trunkline;
let second: Proc | undefined;

const jobKeyOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString('utf8').replace(/^Job:/, '');
const { change, apply, applyTwice } = changeClient(() => tl.url);
const JOB = JOB_FIELDS;

const on = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).stdout.trim();
const code = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).code;

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath, env: { TRUNKLINE_JOB_LOCK_MS: '3000' } });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
});

afterAll(async () => {
  await second?.stop();
  await tl?.stop();
  for (const h of ['hv1', 'hv2']) {
    await labExec(labEnv, h, ['virsh', 'net-destroy', NET]);
    await labExec(labEnv, h, ['virsh', 'net-undefine', NET]);
    await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
  }
});

describe('OVS changes', () => {
  it('createBridge, addPort, setPortVlans, removePort, deleteBridge: applied, verified on the host, idempotent', async () => {
    await applyTwice('createBridge', { hypervisor: 'hv1', name: BR });
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Bridge', BR, 'datapath_type')).toBe('netdev');

    await applyTwice('addPort', { hypervisor: 'hv1', bridge: BR, name: `${BR}p1`, type: 'INTERNAL', tag: 1001 });
    expect(await on('hv1', 'ovs-vsctl', 'port-to-br', `${BR}p1`)).toBe(BR);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', `${BR}p1`, 'tag')).toBe('1001');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Interface', `${BR}p1`, 'type')).toBe('internal');

    // A port that exists is changed by addPort too: --may-exist alone would have kept tag 1001.
    await applyTwice('addPort', { hypervisor: 'hv1', bridge: BR, name: `${BR}p1`, type: 'INTERNAL', tag: 1002 });
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', `${BR}p1`, 'tag')).toBe('1002');

    await applyTwice('setPortVlans', { hypervisor: 'hv1', name: `${BR}p1`, trunks: [1002, 1001], vlanMode: 'TRUNK' });
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', `${BR}p1`, 'trunks')).toBe('[1001, 1002]');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', `${BR}p1`, 'tag')).toBe('[]');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', `${BR}p1`, 'vlan_mode')).toBe('trunk');

    await applyTwice('removePort', { hypervisor: 'hv1', name: `${BR}p1` });
    expect(await code('hv1', 'ovs-vsctl', 'port-to-br', `${BR}p1`)).not.toBe(0);

    await applyTwice('createBridge', { hypervisor: 'hv1', name: `${BR}d` });
    await applyTwice('addPort', { hypervisor: 'hv1', bridge: `${BR}d`, name: `${BR}d1`, type: 'INTERNAL', tag: 5 });
    await applyTwice('deleteBridge', { hypervisor: 'hv1', name: `${BR}d` });
    expect(await code('hv1', 'ovs-vsctl', 'br-exists', `${BR}d`)).toBe(2);
    expect(await code('hv1', 'ovs-vsctl', 'port-to-br', `${BR}d1`)).not.toBe(0);
  });

  it('dryRun runs nothing and lists the steps the real run executes', async () => {
    const input = { hypervisor: 'hv1', bridge: BR, name: `${BR}p2`, tag: 1003, type: 'INTERNAL' };
    const dry = await change('addPort', { ...input, dryRun: true });
    expect(dry.job).toBeNull();
    expect(dry.plan.steps).toEqual([expect.objectContaining({ observed: 'absent', wouldChange: true })]);
    expect(await code('hv1', 'ovs-vsctl', 'port-to-br', `${BR}p2`)).not.toBe(0);
    const job = await apply('addPort', input);
    expect(job.steps.map((s: any) => [s.description, s.command])).toEqual(dry.plan.steps.map((s: any) => [s.description, s.command]));
    await apply('removePort', { hypervisor: 'hv1', name: `${BR}p2` });
  });

  it.each([
    ['addPort', { hypervisor: 'hv1', name: 'p;reboot', tag: 5 }, 'input.name', 'INVALID_INPUT'],
    ['addPort', { hypervisor: 'hv1', name: 'abcdefghijklmnop', tag: 5 }, 'input.name', 'INVALID_INPUT'],
    ['addPort', { hypervisor: 'hv1', name: 'p1', tag: 4095 }, 'input.tag', 'INVALID_INPUT'],
    ['addPort', { hypervisor: 'hv1', name: 'p1', trunks: [1, 0] }, 'input.trunks.1', 'INVALID_INPUT'],
    ['addPort', { hypervisor: 'hv1', name: 'p1', bridge: 'nobr', tag: 5 }, 'input.bridge', 'NOT_FOUND'],
    ['addPort', { hypervisor: 'hv7', name: 'p1', tag: 5 }, 'input.hypervisor', 'UNKNOWN_HYPERVISOR'],
    ['setPortVlans', { hypervisor: 'hv1', name: 'enp5s0f0', trunks: [] }, 'input.trunks', 'WOULD_TRUNK_ALL_VLANS'],
    ['setPortVlans', { hypervisor: 'hv1', name: 'no-such-port', tag: 5 }, 'input.name', 'NOT_FOUND'],
    ['deleteBridge', { hypervisor: 'hv1', name: "br0'; id; '" }, 'input.name', 'INVALID_INPUT'],
    ['defineNetwork', { hypervisor: 'hv1', name: 'n$(id)', portgroups: [] }, 'input.name', 'INVALID_INPUT'],
    [
      'defineNetwork',
      { hypervisor: 'hv1', portgroups: [{ name: 'pg', vlanTags: [1, 2] }] },
      'input.portgroups.0.vlanTags',
      'INVALID_INPUT',
    ],
    ['addPortgroup', { hypervisor: 'hv1', network: 'no-net', portgroup: { name: 'pg' } }, 'input.network', 'NOT_FOUND'],
  ])('%s %j is refused on %s and nothing is queued', async (name, input, field, errorCode) => {
    const before = Object.values(await tl.queue.getJobCounts()).reduce((a, b) => a + b, 0);
    const payload = await change(name, input);
    expect(payload.job).toBeNull();
    expect(payload.userErrors.map((e: any) => [e.field.join('.'), e.code])).toContainEqual([field, errorCode]);
    expect(Object.values(await tl.queue.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(before);
  });
});

describe('libvirt network changes', () => {
  it('defineNetwork, addPortgroup (live + persistent), removePortgroup, deleteNetwork: verified on the host, idempotent', async () => {
    await applyTwice('createBridge', { hypervisor: 'hv2', name: BR });
    await gql(tl.url, '{ hypervisor(name: "hv2", refresh: true) { name } }');
    const portgroups = [
      { name: 'vlan-0001', isDefault: true },
      { name: 'vlan-1001', vlanTags: [1001] },
      { name: 'vlan-all', vlanTags: [1001, 1002], trunk: true },
    ];
    const job = await applyTwice('defineNetwork', { hypervisor: 'hv2', name: NET, bridge: BR, portgroups });
    expect(job.steps).toHaveLength(2);
    const info = await on('hv2', 'virsh', 'net-info', NET);
    expect(info).toMatch(/Active:\s+yes/);
    expect(info).toMatch(/Autostart:\s+yes/);
    const xml = await on('hv2', 'virsh', 'net-dumpxml', NET);
    expect(xml).toMatch(/<virtualport type='openvswitch'\/>/);
    expect(xml).toMatch(/<portgroup name='vlan-all'>\s*<vlan trunk='yes'>\s*<tag id='1001'\/>\s*<tag id='1002'\/>/);

    await applyTwice('addPortgroup', { hypervisor: 'hv2', network: NET, portgroup: { name: 'vlan-1003', vlanTags: [1003] } });
    expect(await on('hv2', 'virsh', 'net-dumpxml', NET)).toMatch(/<portgroup name='vlan-1003'>\s*<vlan>\s*<tag id='1003'\/>/);
    expect(await on('hv2', 'virsh', 'net-dumpxml', '--inactive', NET)).toMatch(/<portgroup name='vlan-1003'>/);
    // Changing it is a modify, live and persistent.
    await applyTwice('addPortgroup', { hypervisor: 'hv2', network: NET, portgroup: { name: 'vlan-1003', vlanTags: [1004] } });
    expect(await on('hv2', 'virsh', 'net-dumpxml', NET)).toMatch(/<portgroup name='vlan-1003'>\s*<vlan>\s*<tag id='1004'\/>/);
    expect(await on('hv2', 'virsh', 'net-dumpxml', '--inactive', NET)).toMatch(/<portgroup name='vlan-1003'>\s*<vlan>\s*<tag id='1004'\/>/);

    await applyTwice('removePortgroup', { hypervisor: 'hv2', network: NET, name: 'vlan-1003' });
    expect(await on('hv2', 'virsh', 'net-dumpxml', NET)).not.toMatch(/vlan-1003/);
    expect(await on('hv2', 'virsh', 'net-dumpxml', '--inactive', NET)).not.toMatch(/vlan-1003/);

    await applyTwice('deleteNetwork', { hypervisor: 'hv2', name: NET });
    expect(await code('hv2', 'virsh', 'net-info', NET)).not.toBe(0);
  });

  it('a running VM whose OVS port vanished behind Trunkline’s back: the job plans from the host as it is and says how its plan differs', async () => {
    await apply('createBridge', { hypervisor: 'hv2', name: BR });
    await gql(tl.url, '{ hypervisor(name: "hv2", refresh: true) { name } }');
    await apply('defineNetwork', { hypervisor: 'hv2', name: NET, bridge: BR, portgroups: [{ name: 'vlan-1001', vlanTags: [1001] }] });
    // A running VM on the portgroup, made directly on the host.
    const vm = `tcvm-${sfx}`;
    const dir = mkdtempSync(join(tmpdir(), 'tl-vm-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'vm.xml'), domainXml({ name: vm, mac: '52:54:00:30:00:01', portgroup: 'vlan-1001', start: true }, NET));
    try {
      expect(await code('hv2', 'virsh', 'define', join(dir, 'vm.xml'))).toBe(0);
      expect(await code('hv2', 'virsh', 'start', vm)).toBe(0);
      const target = (await gql(tl.url, `{ hypervisor(name: "hv2", refresh: true) { vm(name: "${vm}") { interfaces { target } } } }`)).data
        .hypervisor.vm.interfaces[0].target;
      expect(target).toMatch(/^vnet\d+$/);
      // Its OVS port vanishes behind Trunkline's back: the cache still has it, so the plan shown
      // at submission retags it.
      await labExec(labEnv, 'hv2', ['ovs-vsctl', 'del-port', target]);
      const submitted = await change('addPortgroup', {
        hypervisor: 'hv2',
        network: NET,
        portgroup: { name: 'vlan-1001', vlanTags: [1005] },
      });
      expect(submitted.plan.steps.map((s: any) => s.description)).toEqual([
        expect.stringMatching(/portgroup vlan-1001/),
        expect.stringContaining(target),
      ]);
      const job = await waitForJob(tl.url, submitted.job.id, JOB);
      expect(job.state).toBe('SUCCEEDED');
      // Executed: the portgroup change alone; the part says its plan differs and why.
      expect(job.steps).toHaveLength(1);
      expect(job.steps[0]).toMatchObject({ state: 'SUCCEEDED', changed: true });
      expect(job.hosts[0].planNote).toMatch(
        new RegExp(`differs from the plan shown at submission \\(2 steps, 2 to change, from the cache\\): no longer: .*${target}`),
      );
      expect(await on('hv2', 'virsh', 'net-dumpxml', NET)).toMatch(/<portgroup name='vlan-1001'>\s*<vlan>\s*<tag id='1005'\/>/);
      expect(await on('hv2', 'virsh', 'net-dumpxml', '--inactive', NET)).toMatch(
        /<portgroup name='vlan-1001'>\s*<vlan>\s*<tag id='1005'\/>/,
      );
    } finally {
      await labExec(labEnv, 'hv2', ['virsh', 'destroy', vm]);
      await labExec(labEnv, 'hv2', ['virsh', 'undefine', vm]);
      rmSync(dir, { recursive: true, force: true });
    }
    await gql(tl.url, '{ hypervisor(name: "hv2", refresh: true) { name } }');
    await apply('deleteNetwork', { hypervisor: 'hv2', name: NET });
  });

  it('a step that fails on the host: job FAILED with the reason, earlier steps rolled back, host consistent; a rerun converges', async () => {
    // A host built differently: its network is transient (net-create), so net-update --config fails.
    const TNET = `tctr-${sfx}`;
    const UP = `${BR}up`;
    const dir = mkdtempSync(join(tmpdir(), 'tl-net-'));
    chmodSync(dir, 0o755);
    writeFileSync(
      join(dir, 'net.xml'),
      `<network><name>${TNET}</name><forward mode='bridge'/><bridge name='${BR}'/><virtualport type='openvswitch'/><portgroup name='vlan-0001' default='yes'/></network>`,
    );
    try {
      await apply('createBridge', { hypervisor: 'hv2', name: BR });
      await apply('addPort', { hypervisor: 'hv2', bridge: BR, name: UP, type: 'INTERNAL', trunks: [1001] });
      expect(await code('hv2', 'virsh', 'net-create', join(dir, 'net.xml'))).toBe(0);
      await gql(tl.url, '{ hypervisor(name: "hv2", refresh: true) { name } }');

      const input = { tag: 1099, hypervisors: ['hv2'], bridge: BR, uplink: UP, network: TNET };
      const res = await gql(
        tl.url,
        `mutation($input: EnsureVlanInput!) { ensureVlan(input: $input) { job { id } userErrors { field message } } }`,
        { input },
      );
      expect(res.data.ensureVlan.userErrors).toEqual([]);
      const job = await waitForJob(tl.url, res.data.ensureVlan.job.id, JOB);
      expect(job.state).toBe('FAILED');
      expect(job.error.code).toBe('COMMAND_FAILED');
      expect(job.error.step).toBe(2);
      expect(job.error.message).toMatch(
        /step 3 \(ensure portgroup vlan-1099 .*\) on hv2 failed: .*cannot change persistent config of a transient network/s,
      );
      expect(job.error.message).toMatch(/rolled back step 2/);
      expect(job.steps.map((s: any) => s.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED']);
      expect(job.steps.map((s: any) => s.changed).slice(0, 2)).toEqual([false, true]);
      expect(job.rollback).toEqual([
        expect.objectContaining({ step: 1, state: 'SUCCEEDED', command: expect.stringContaining(`remove Port ${UP} trunks 1099`) }),
      ]);
      // Consistent: the uplink trunks what it trunked before, the network is as it was.
      expect(await on('hv2', 'ovs-vsctl', 'get', 'Port', UP, 'trunks')).toBe('[1001]');
      expect(await on('hv2', 'virsh', 'net-dumpxml', TNET)).not.toMatch(/vlan-1099/);

      // Once the network is persistent the same request converges.
      const xml = await on('hv2', 'virsh', 'net-dumpxml', TNET);
      writeFileSync(join(dir, 'persistent.xml'), xml);
      expect(await code('hv2', 'virsh', 'net-define', join(dir, 'persistent.xml'))).toBe(0);
      const rerun = await waitForJob(
        tl.url,
        (await gql(tl.url, `mutation($input: EnsureVlanInput!) { ensureVlan(input: $input) { job { id } } }`, { input })).data.ensureVlan
          .job.id,
        JOB,
      );
      expect(rerun.state).toBe('SUCCEEDED');
      expect(await on('hv2', 'ovs-vsctl', 'get', 'Port', UP, 'trunks')).toBe('[1001, 1099]');
      expect(await on('hv2', 'virsh', 'net-dumpxml', '--inactive', TNET)).toMatch(/<portgroup name='vlan-1099'>/);
    } finally {
      await labExec(labEnv, 'hv2', ['virsh', 'net-destroy', TNET]);
      await labExec(labEnv, 'hv2', ['virsh', 'net-undefine', TNET]);
      await labExec(labEnv, 'hv2', ['ovs-vsctl', '--if-exists', 'del-port', UP]);
      rmSync(dir, { recursive: true, force: true });
    }
    await gql(tl.url, '{ hypervisor(name: "hv2", refresh: true) { name } }');
  });

  it('a plan shown from a cache the host no longer matches: the job plans again from the host when it runs, and a refusal that now holds fails it before any change', async () => {
    await apply('defineNetwork', { hypervisor: 'hv2', name: NET, bridge: BR, portgroups: [{ name: 'vlan-1001', vlanTags: [1001] }] });
    // The network goes behind Trunkline's back; the cache still has it.
    await labExec(labEnv, 'hv2', ['virsh', 'net-destroy', NET]);
    await labExec(labEnv, 'hv2', ['virsh', 'net-undefine', NET]);
    const job = await apply('addPortgroup', { hypervisor: 'hv2', network: NET, portgroup: { name: 'vlan-1002', vlanTags: [1002] } });
    expect(job.state).toBe('FAILED');
    expect(job.error.code).toBe('NOT_FOUND');
    expect(job.error.message).toMatch(
      new RegExp(
        `hv2: refused when its turn came \\(the host as it is now\\): network: hv2 has no libvirt network ${NET}; nothing was changed`,
      ),
    );
    expect(job.steps.map((s: any) => s.state)).toEqual(['SKIPPED']);
    expect(await code('hv2', 'virsh', 'net-info', NET)).not.toBe(0);
    // The part's read went into the cache: the same request is now refused up front, naming the field.
    const again = await change('addPortgroup', { hypervisor: 'hv2', network: NET, portgroup: { name: 'vlan-1002', vlanTags: [1002] } });
    expect(again.job).toBeNull();
    expect(again.userErrors).toEqual([expect.objectContaining({ field: ['input', 'network'], code: 'NOT_FOUND' })]);
  });
});

describe('jobs across workers', () => {
  it('two workers: jobs on one host never interleave their steps', async () => {
    second = await startProcess('workers/main.ts', tl.env, 'worker ready');
    const ids = await Promise.all(
      Array.from(
        { length: 6 },
        async (_, i) =>
          (await change('addPort', { hypervisor: 'hv1', bridge: BR, name: `${BR}c${i}`, tag: 1001 + i, type: 'INTERNAL' })).job.id,
      ),
    );
    const jobs = await Promise.all(ids.map((id) => waitForJob(tl.url, id, JOB)));
    expect(jobs.map((j) => j.state)).toEqual(jobs.map(() => 'SUCCEEDED'));
    const spans = jobs
      .flatMap((j) => j.steps.map((s: any) => [Date.parse(s.startedAt), Date.parse(s.finishedAt)] as const))
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    for (let i = 0; i < 6; i++) await apply('removePort', { hypervisor: 'hv1', name: `${BR}c${i}` });
  });

  it('jobs on two hosts run at the same time', async () => {
    // Stopping a guest that ignores ACPI takes the whole timeout: long enough to see overlap.
    const vm = `tcov-${sfx}`;
    try {
      for (const h of ['hv1', 'hv2']) {
        expect((await apply('defineVm', { hypervisor: h, name: vm, memoryMiB: 32 })).state).toBe('SUCCEEDED');
        expect((await apply('startVm', { hypervisor: h, name: vm })).state).toBe('SUCCEEDED');
      }
      const ids = await Promise.all(
        ['hv1', 'hv2'].map(async (h) => (await change('stopVm', { hypervisor: h, name: vm, timeoutSeconds: 2 })).job.id),
      );
      const [a, b] = await Promise.all(ids.map((id) => waitForJob(tl.url, id, JOB)));
      const span = (j: any) => [Date.parse(j.steps[0].startedAt), Date.parse(j.steps[0].finishedAt)] as const;
      const [a0, a1] = span(a);
      const [b0, b1] = span(b);
      expect(Math.min(a1, b1) - Math.max(a0, b0)).toBeGreaterThan(0);
    } finally {
      for (const h of ['hv1', 'hv2']) {
        await labExec(labEnv, h, ['virsh', 'destroy', vm]);
        await labExec(labEnv, h, ['virsh', 'undefine', vm]);
      }
    }
  });

  it('a worker that stops mid-job: another worker finishes it, the host ends as wanted, nothing is done twice', async () => {
    await apply('createBridge', { hypervisor: 'hv2', name: BR });
    const payload = await change('defineNetwork', {
      hypervisor: 'hv2',
      name: NET,
      bridge: BR,
      portgroups: [{ name: 'vlan-1001', vlanTags: [1001] }],
    });
    const workers = [tl.worker!, second!];
    let killed: Proc | undefined;
    for await (const msg of subscribeSse(tl.url, 'subscription($id: ID!) { jobProgress(id: $id) { type step { index } } }', {
      id: payload.job.id,
    })) {
      const e = msg.data.jobProgress;
      if (e.type === 'STEP_FINISHED' && e.step.index === 0 && !killed) {
        // Freeze the worker running hv2's part of the job (BullMQ records its name, host:pid), then kill it.
        const bull = await Job.fromId(tl.queue, hostJobId(jobKeyOf(payload.job.id), 'hv2'));
        killed = workers.find((w) => bull?.processedBy?.endsWith(`:${w.child.pid}`));
        expect(killed, `processedBy=${bull?.processedBy}`).toBeDefined();
        killed!.child.kill('SIGSTOP');
        killed!.child.kill('SIGKILL');
      }
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.type)) break;
    }
    const job = await waitForJob(tl.url, payload.job.id, JOB, 60_000);
    expect(job.state).toBe('SUCCEEDED');
    // Taken over after the kill (the first step is re-checked, not redone) unless the job
    // had already finished, which the event order above rules out only mostly.
    expect(job.attempts).toBe(2);
    expect(job.steps[0].changed).toBe(false);
    expect(await on('hv2', 'virsh', 'net-info', NET)).toMatch(/Active:\s+yes/);
    await apply('deleteNetwork', { hypervisor: 'hv2', name: NET });
  });
});

describe('cancelling and following jobs', () => {
  it('cancelJob: a queued job is removed, a job waiting for its host stops before its first step', async () => {
    // Hold hv1's lock the way a worker does, so the job's part takes its turn but waits for the host.
    const lockKey = `${tl.prefix}:lock:host:hv1`;
    await tl.redis.set(lockKey, 'test-holds-it', 'PX', 60_000);
    try {
      const payload = await change('addPort', { hypervisor: 'hv1', bridge: BR, name: `${BR}x`, tag: 1001, type: 'INTERNAL' });
      const until = Date.now() + 20_000;
      let message = '';
      while (Date.now() < until && !/waiting for the host lock/.test(message)) {
        message = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { message } } }', { id: payload.job.id })).data.job.hosts[0]
          .message;
        await new Promise((r) => setTimeout(r, 50));
      }
      const cancelled = await gql(
        tl.url,
        'mutation($id: ID!) { cancelJob(input: { id: $id }) { job { state cancelRequested } userErrors { code } } }',
        { id: payload.job.id },
      );
      // A worker has it (it cannot be taken off the queue), but it has not started: still QUEUED.
      expect(cancelled.data.cancelJob).toEqual({ job: { state: 'QUEUED', cancelRequested: true }, userErrors: [] });
      await tl.redis.del(lockKey);
      const job = await waitForJob(tl.url, payload.job.id, JOB);
      expect(job.state).toBe('CANCELLED');
      expect(job.steps.map((s: any) => s.state)).toEqual(['SKIPPED']);
      expect(await code('hv1', 'ovs-vsctl', 'port-to-br', `${BR}x`)).not.toBe(0);
      const again = await gql(tl.url, 'mutation($id: ID!) { cancelJob(input: { id: $id }) { userErrors { field code } } }', {
        id: payload.job.id,
      });
      expect(again.data.cancelJob.userErrors).toEqual([{ field: ['input', 'id'], code: 'JOB_FINISHED' }]);
    } finally {
      await tl.redis.del(lockKey);
    }

    // With no worker running, a job stays queued and is removed outright.
    await tl.worker!.stop();
    await second?.stop();
    try {
      const payload = await change('addPort', { hypervisor: 'hv1', bridge: BR, name: `${BR}y`, tag: 1001, type: 'INTERNAL' });
      const cancelled = await gql(tl.url, 'mutation($id: ID!) { cancelJob(input: { id: $id }) { job { state } userErrors { code } } }', {
        id: payload.job.id,
      });
      expect(cancelled.data.cancelJob).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });
      expect(await tl.queue.getJob(jobKeyOf(payload.job.id))).toBeUndefined();
    } finally {
      await tl.startWorker();
    }
  });

  it('events reach subscribers of another gateway process (Redis pub/sub)', async () => {
    const port = await freePort();
    const other = await startProcess('gateway/main.ts', { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port) }, 'gateway listening');
    try {
      const otherUrl = `http://127.0.0.1:${port}/graphql`;
      useToken(otherUrl, tl.adminToken);
      // Queued through gateway 1 while no worker runs; followed on gateway 2; then a worker starts.
      await tl.worker!.stop();
      const payload = await change('createBridge', { hypervisor: 'hv2', name: `${BR}g` });
      const sub = subscribeSse(otherUrl, 'subscription($id: ID!) { jobProgress(id: $id) { type } }', { id: payload.job.id });
      const types: string[] = [(await sub.next()).value.data.jobProgress.type];
      expect(types[0]).toBe('QUEUED');
      await tl.startWorker();
      for await (const msg of sub) types.push(msg.data.jobProgress.type);
      expect(types.at(-1)).toBe('SUCCEEDED');
      expect(types).toContain('STEP_FINISHED');
    } finally {
      await other.stop();
      await labExec(labEnv, 'hv2', ['ovs-vsctl', '--if-exists', 'del-br', `${BR}g`]);
      if (!tl.worker || tl.worker.child.exitCode !== null) await tl.startWorker();
    }
  });

  it('jobEvents over WebSocket (graphql-ws): only the events that match the filter, from any job', async () => {
    const client = createClient({
      url: tl.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${tl.adminToken}` },
    });
    const seen: any[] = [];
    let ready!: () => void;
    const subscribed = new Promise<void>((r) => (ready = r));
    const done = new Promise<void>((resolve, reject) => {
      const dispose = client.subscribe(
        { query: 'subscription { jobEvents(filter: { hypervisor: "hv2", types: [SUCCEEDED] }) { type state job { kind hypervisors } } }' },
        {
          next: (msg) => {
            seen.push(msg.data?.jobEvents);
            dispose();
            resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
      client.on('connected', () => setTimeout(ready, 200));
    });
    await subscribed;
    await apply('createBridge', { hypervisor: 'hv1', name: BR });
    await apply('createBridge', { hypervisor: 'hv2', name: BR });
    await done;
    await client.dispose();
    expect(seen).toEqual([{ type: 'SUCCEEDED', state: 'SUCCEEDED', job: { kind: 'createBridge', hypervisors: ['hv2'] } }]);
  });
});

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parsePing } from '../../src/verify/ping.ts';
import { createProbeArgvs, planProbes, probeSubnet, removeProbeArgvs } from '../../src/verify/probes.ts';
import { Job } from 'bullmq';
import { hostJobId } from '../../src/jobs/change-queue.ts';
import { changeClient, JOB_FIELDS } from '../support/changes.ts';
import { gql, subscribeSse } from '../support/graphql-client.ts';
import { lab, labExec } from '../support/lab.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * The reference setup from nothing through the public API: VLANs across both hypervisors with
 * ensureVlan, VMs on them, then checks inside the hosts; idempotency, refusals and drift repair.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const HOSTS = ['hv1', 'hv2'];
const VMS = [
  { host: 'hv1', name: 'vm-1', portgroup: 'vlan-1001', mac: '52:54:00:50:00:01', tag: '1001' },
  { host: 'hv2', name: 'vm-2', portgroup: 'vlan-1001', mac: '52:54:00:50:00:02', tag: '1001' },
  { host: 'hv2', name: 'vm-3', portgroup: 'vlan-1002', mac: '52:54:00:50:00:03', tag: '1002' },
];

let tl: Trunkline;
const { change, apply, applyTwice } = changeClient(() => tl.url);
const on = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).stdout.trim();

async function clean(): Promise<void> {
  for (const vm of VMS) {
    await labExec(labEnv, vm.host, ['virsh', 'destroy', vm.name]);
    await labExec(labEnv, vm.host, ['virsh', 'undefine', vm.name]);
  }
  for (const h of HOSTS) {
    await labExec(labEnv, h, ['virsh', 'net-destroy', 'ovs-network']);
    await labExec(labEnv, h, ['virsh', 'net-undefine', 'ovs-network']);
    await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', 'ovsbr0']);
  }
}

beforeAll(async () => {
  await clean();
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
});

afterAll(async () => {
  await tl?.stop();
  await lab(labEnv, 'up').catch(() => {});
  await clean();
});

describe('fleet VLANs', () => {
  it('builds the reference setup from nothing: VLANs on both hosts, VMs on them, checked on the hosts', async () => {
    const first = await applyTwice('ensureVlan', { tag: 1001, name: 'VM-to-VM', hypervisors: HOSTS });
    // Both hosts' steps in one job, each host in order.
    expect(new Set(first.steps.map((s: any) => s.description.length > 0))).toEqual(new Set([true]));
    await applyTwice('ensureVlan', { tag: 1002, name: 'DMZ', hypervisors: HOSTS });
    for (const h of HOSTS)
      await applyTwice('addPortgroup', {
        hypervisor: h,
        network: 'ovs-network',
        portgroup: { name: 'vlan-all', vlanTags: [1001, 1002], trunk: true },
      });

    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toBe('[1001, 1002]');
      expect(await on(h, 'ovs-vsctl', 'port-to-br', 'enp5s0f0')).toBe('ovsbr0');
      const xml = await on(h, 'virsh', 'net-dumpxml', 'ovs-network');
      expect(xml).toMatch(/<portgroup name='vlan-0001' default='yes'/);
      expect(xml).toMatch(/<portgroup name='vlan-1001'>\s*<vlan>\s*<tag id='1001'\/>/);
      expect(xml).toMatch(/<portgroup name='vlan-1002'>\s*<vlan>\s*<tag id='1002'\/>/);
      expect(xml).toMatch(/<portgroup name='vlan-all'>\s*<vlan trunk='yes'>\s*<tag id='1001'\/>\s*<tag id='1002'\/>/);
    }

    for (const vm of VMS) {
      await apply('defineVm', { hypervisor: vm.host, name: vm.name, memoryMiB: 32, nics: [{ portgroup: vm.portgroup, mac: vm.mac }] });
      expect((await apply('startVm', { hypervisor: vm.host, name: vm.name })).state).toBe('SUCCEEDED');
      const row = (await on(vm.host, 'virsh', 'domiflist', vm.name)).split('\n').find((l) => l.includes(vm.mac))!;
      expect(await on(vm.host, 'ovs-vsctl', 'get', 'Port', row.trim().split(/\s+/)[0]!, 'tag')).toBe(vm.tag);
    }

    const v = (await gql(tl.url, '{ vlan(tag: 1001) { name hypervisors { name } interfaces { hypervisor vmName } drift { kind } } }')).data
      .vlan;
    expect(v).toEqual({
      name: 'VM-to-VM',
      hypervisors: [{ name: 'hv1' }, { name: 'hv2' }],
      interfaces: [
        { hypervisor: 'hv1', vmName: 'vm-1' },
        { hypervisor: 'hv2', vmName: 'vm-2' },
      ],
      drift: [],
    });
  });

  it('removeVlan is refused while VMs are on the VLAN, and lists them', async () => {
    const res = await change('removeVlan', { tag: 1001, hypervisors: HOSTS });
    expect(res.job).toBeNull();
    expect(res.userErrors[0]).toMatchObject({ field: ['input', 'tag'], code: 'IN_USE' });
    expect(res.userErrors[0].message).toMatch(/vm-1 on hv1.*vm-2 on hv2/);
  });

  it('drift made by hand shows in vlan(tag:), and ensureVlan repairs it', async () => {
    await labExec(labEnv, 'hv1', ['ovs-vsctl', 'remove', 'Port', 'enp5s0f0', 'trunks', '1001']);
    await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
    const drifted = (await gql(tl.url, '{ vlan(tag: 1001) { missingOn { name } drift { hypervisorName kind subject } } }')).data.vlan;
    expect(drifted.missingOn).toEqual([{ name: 'hv1' }]);
    expect(drifted.drift).toEqual([{ hypervisorName: 'hv1', kind: 'UPLINK_MISSING', subject: 'enp5s0f0' }]);

    const repair = await apply('ensureVlan', { tag: 1001, hypervisors: HOSTS });
    expect(repair.state).toBe('SUCCEEDED');
    expect(repair.steps.filter((s: any) => s.changed).map((s: any) => s.description)).toEqual([
      expect.stringMatching(/uplink enp5s0f0 .* trunks VLAN 1001/),
    ]);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toBe('[1001, 1002]');
    expect((await gql(tl.url, '{ vlan(tag: 1001) { drift { kind } } }')).data.vlan.drift).toEqual([]);
  });

  const VERIFY = `mutation($input: VerifyVlanInput!) { verifyVlan(input: $input) { job { id } userErrors { field code message } } }`;
  const VERIFICATION = 'verification { ok results { fromHost fromVlan toHost expect received lossPercent rttAvgMs ok } }';
  /** The VLAN's last verification as `token` sees it (the admin's by default). */
  const lastVerification = async (tag: number, token?: string) => {
    const res = await gql(
      tl.url,
      'query($tag: Int!) { vlan(tag: $tag) { lastVerification { id state finishedAt verification { tag ok } } } }',
      { tag },
      { token },
    );
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.vlan.lastVerification;
  };
  let firstVerifyId: string;

  async function noProbesLeft(): Promise<void> {
    for (const h of HOSTS) {
      expect(await on(h, 'ip', 'netns', 'list')).not.toMatch(/tlp/);
      expect(await on(h, 'ovs-vsctl', 'list-ports', 'ovsbr0')).not.toMatch(/tlp/);
      expect(await on(h, 'ip', '-o', 'link')).not.toMatch(/tlp/);
    }
  }

  it('verifyVlan 1001 with isolationFrom [1002]: probes on both hosts reach each other, 1002 probes reach nothing; no probe left', async () => {
    expect(await lastVerification(1001)).toBeNull();
    const res = await gql(tl.url, VERIFY, { input: { tag: 1001, hypervisors: HOSTS, isolationFrom: [1002] } });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.verifyVlan.userErrors).toEqual([]);
    const job = await waitForJob(tl.url, res.data.verifyVlan.job.id, `${JOB_FIELDS} finishedAt ${VERIFICATION}`);
    expect(job.error).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    const cells = job.verification.results
      .map((r: any) => `${r.fromHost}/${r.fromVlan}->${r.toHost} ${r.expect} ${r.received > 0 ? 'reached' : 'lost'}`)
      .sort();
    expect(cells).toEqual([
      'hv1/1001->hv2 REACH reached',
      'hv1/1002->hv1 ISOLATED lost',
      'hv1/1002->hv2 ISOLATED lost',
      'hv2/1001->hv1 REACH reached',
      'hv2/1002->hv1 ISOLATED lost',
      'hv2/1002->hv2 ISOLATED lost',
    ]);
    expect(job.verification.results.filter((r: any) => r.expect === 'REACH').every((r: any) => r.rttAvgMs > 0)).toBe(true);
    await noProbesLeft();
    // It is the VLAN's last verification now, for a caller that sees both hosts only.
    firstVerifyId = res.data.verifyVlan.job.id;
    expect(await lastVerification(1001)).toEqual({
      id: firstVerifyId,
      state: 'SUCCEEDED',
      finishedAt: job.finishedAt,
      verification: { tag: 1001, ok: true },
    });
    const group = await gql(
      tl.url,
      'mutation { putHostGroup(input: { name: "vlans-hv2", hypervisors: ["hv2"] }) { userErrors { code } } }',
    );
    expect(group.data.putHostGroup.userErrors).toEqual([]);
    const hv2Only = await tl.issueToken({ name: 'vlans-hv2-viewer', role: 'viewer', hostGroups: ['vlans-hv2'] });
    expect(await lastVerification(1001, hv2Only)).toBeNull();
  });

  it('verifyVlan fails, naming the pairs, where the uplinks do not carry the VLAN; probes are removed all the same', async () => {
    const res = await gql(tl.url, VERIFY, { input: { tag: 1005, hypervisors: HOSTS } });
    const job = await waitForJob(tl.url, res.data.verifyVlan.job.id, `${JOB_FIELDS} finishedAt ${VERIFICATION}`);
    expect(job.state).toBe('FAILED');
    expect(job.error.code).toBe('VLAN_VERIFY_FAILED');
    expect(job.error.message).toMatch(/hv1 .*-> hv2 .*no reply \(100% loss\)/);
    expect(job.verification.ok).toBe(false);
    await noProbesLeft();
    // A failed verification is its VLAN's last one too; another VLAN's stays as it was.
    expect(await lastVerification(1005)).toMatchObject({ id: res.data.verifyVlan.job.id, state: 'FAILED', verification: { ok: false } });
    expect((await lastVerification(1001)).id).toBe(firstVerifyId);
  });

  it("a later verifyVlan of 1001 replaces the VLAN's last verification", async () => {
    const res = await gql(tl.url, VERIFY, { input: { tag: 1001, hypervisors: HOSTS } });
    const job = await waitForJob(tl.url, res.data.verifyVlan.job.id, `${JOB_FIELDS} finishedAt`);
    expect(job.state).toBe('SUCCEEDED');
    expect(await lastVerification(1001)).toMatchObject({ id: res.data.verifyVlan.job.id, finishedAt: job.finishedAt });
    expect(res.data.verifyVlan.job.id).not.toBe(firstVerifyId);
  });

  it('the test PC on an untagged VLAN 1002 switch port reaches a 1002 probe on hv1 and nothing on 1001', async () => {
    const probes = planProbes(['hv1'], 1002, [1001]).map((p) => ({ ...p }));
    try {
      for (const p of probes) for (const argv of createProbeArgvs(p, 'ovsbr0')) expect((await labExec(labEnv, 'hv1', argv)).code).toBe(0);
      const member = probes.find((p) => p.member)!;
      const other = probes.find((p) => !p.member)!;
      const pc = (...argv: string[]) => labExec(labEnv, 'pc1', argv);
      await pc('ip', 'addr', 'add', `${probeSubnet(1002)}200/24`, 'dev', 'eth0');
      await pc('ip', 'link', 'set', 'eth0', 'up');
      expect(parsePing((await pc('ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', member.address)).stdout)!.received).toBeGreaterThan(
        0,
      );
      expect(parsePing((await pc('ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', other.address)).stdout)!.received).toBe(0);
    } finally {
      await labExec(labEnv, 'pc1', ['ip', 'addr', 'flush', 'dev', 'eth0']);
      for (const p of probes) for (const argv of removeProbeArgvs(p)) await labExec(labEnv, 'hv1', argv);
    }
    await noProbesLeft();
  });

  it('a new VLAN joins trunk portgroups; removeVlan takes it off again and keeps the others', async () => {
    await applyTwice('ensureVlan', { tag: 1003, hypervisors: HOSTS });
    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toBe('[1001, 1002, 1003]');
      expect(await on(h, 'virsh', 'net-dumpxml', 'ovs-network')).toMatch(
        /<portgroup name='vlan-all'>\s*<vlan trunk='yes'>\s*<tag id='1001'\/>\s*<tag id='1002'\/>\s*<tag id='1003'\/>/,
      );
    }
    await applyTwice('removeVlan', { tag: 1003, hypervisors: HOSTS });
    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toBe('[1001, 1002]');
      const xml = await on(h, 'virsh', 'net-dumpxml', 'ovs-network');
      expect(xml).not.toMatch(/vlan-1003|tag id='1003'/);
      expect(await on(h, 'virsh', 'net-dumpxml', '--inactive', 'ovs-network')).not.toMatch(/vlan-1003|tag id='1003'/);
    }
  });

  it('ensureVlan is one BullMQ flow: the job is the parent, each hypervisor a child; progress reports per host', async () => {
    const payload = await change('ensureVlan', { tag: 1005, hypervisors: HOSTS });
    const id = Buffer.from(payload.job.id, 'base64url').toString('utf8').replace(/^Job:/, '');
    const events: any[] = [];
    for await (const msg of subscribeSse(
      tl.url,
      'subscription($id: ID!) { jobProgress(id: $id) { type hypervisor message progress { done total } } }',
      { id: payload.job.id },
    ))
      events.push(msg.data.jobProgress);
    const job = (
      await gql(
        tl.url,
        'query($id: ID!) { job(id: $id) { state hosts { hypervisor state attempts { outcome } changedSteps message steps { index } } } }',
        { id: payload.job.id },
      )
    ).data.job;
    expect(job.state).toBe('SUCCEEDED');
    expect(job.hosts.map((h: any) => [h.hypervisor, h.state, h.attempts.map((a: any) => a.outcome)])).toEqual(
      HOSTS.map((h) => [h, 'SUCCEEDED', ['SUCCEEDED']]),
    );
    for (const h of job.hosts) expect(h.changedSteps).toBeGreaterThan(0);

    // BullMQ: the parent ran after both children, which ran the hosts' parts.
    const parent = await Job.fromId(tl.queue, id);
    expect(await parent!.getState()).toBe('completed');
    const children = await parent!.getChildrenValues();
    expect(Object.values(children).sort((a: any, b: any) => a.host.localeCompare(b.host))).toEqual(
      HOSTS.map((host) => ({ host, state: 'SUCCEEDED' })),
    );
    for (const h of HOSTS) expect((await Job.fromId(tl.queue, hostJobId(id, h)))!.parentKey).toMatch(new RegExp(`:${id}$`));

    // Each host starts and finishes once, named; the job ends after both.
    for (const h of HOSTS) {
      expect(events.filter((e) => e.type === 'HOST_STARTED' && e.hypervisor === h)).toHaveLength(1);
      expect(events.filter((e) => e.type === 'HOST_FINISHED' && e.hypervisor === h)).toHaveLength(1);
    }
    // Step messages count within their host: "step 3/4 changed: ...".
    for (const e of events.filter((x) => x.type === 'STEP_FINISHED')) {
      const [, k, n] = /^step (\d+)\/(\d+) /.exec(e.message) ?? [];
      expect(Number(k), e.message).toBeLessThanOrEqual(Number(n));
      expect(Number(n)).toBe(job.hosts.find((h: any) => h.hypervisor === e.hypervisor).steps.length);
    }
    expect(events.at(-1)).toMatchObject({ type: 'SUCCEEDED', hypervisor: null });
    expect(events.at(-1).progress.done).toBe(events.at(-1).progress.total);
    expect(events.findLastIndex((e) => e.type === 'HOST_FINISHED')).toBe(events.length - 2);
    await applyTwice('removeVlan', { tag: 1005, hypervisors: HOSTS });
  });

  it('a host that fails does not hide the others: hv1 done, hv2 reported', async () => {
    await lab(labEnv, 'kill-sshd', 'hv2');
    try {
      const job = await apply('ensureVlan', { tag: 1004, hypervisors: HOSTS });
      expect(job.state).toBe('FAILED');
      // hv2 cannot be read to plan its part from: it is not touched at all.
      expect(job.error.message).toMatch(/^hv2: could not read the host to plan from it, nothing was changed: cannot connect/);
      expect(job.error.message).not.toMatch(/hv1/);
      const states = (h: string) => job.steps.filter((s: any) => s.host === h).map((s: any) => s.state);
      expect(states('hv1').every((st: string) => st === 'SUCCEEDED')).toBe(true);
      expect(states('hv2').every((st: string) => st === 'SKIPPED')).toBe(true);
      expect(job.hosts.map((h: any) => [h.hypervisor, h.state, h.error?.code ?? null])).toEqual([
        ['hv1', 'SUCCEEDED', null],
        ['hv2', 'FAILED', 'SSH_CONNECT_FAILED'],
      ]);
      expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toBe('[1001, 1002, 1004]');
    } finally {
      await lab(labEnv, 'up');
    }
    await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
    expect((await apply('ensureVlan', { tag: 1004, hypervisors: HOSTS })).state).toBe('SUCCEEDED');
    expect((await apply('removeVlan', { tag: 1004, hypervisors: HOSTS })).state).toBe('SUCCEEDED');
  });
});

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisHostRegistry } from '../../src/inventory/redis-host-registry.ts';
import { OPTION_LIKE_MESSAGE } from '../../src/validation/names.ts';
import { gql } from '../support/graphql-client.ts';
import { lab, labExec } from '../support/lab.ts';
import { buildReference, removeReference, type ReferenceHost } from '../support/reference-setup.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * The read model against real hosts: the reference setup is built directly on the lab hosts,
 * then Trunkline's answers are compared with what the hosts themselves say.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');

const HV1: ReferenceHost = {
  host: 'hv1',
  ports: [
    { name: 'p-acc', tag: 1001 },
    { name: 'p-trk', trunks: [1001, 1002] },
  ],
  vms: [
    { name: 'vm-a', mac: '52:54:00:10:00:0a', portgroup: 'vlan-1001', start: true },
    { name: 'vm-d', mac: '52:54:00:10:00:0d', portgroup: 'vlan-all', start: true },
    { name: 'vm-e', mac: '52:54:00:10:00:0e', portgroup: null, start: false },
    { name: 'vm-f', mac: '52:54:00:10:00:0f', portgroup: 'vlan-1002', start: false },
  ],
};
const HV2: ReferenceHost = {
  host: 'hv2',
  ports: [],
  vms: [
    { name: 'vm-b', mac: '52:54:00:20:00:0b', portgroup: 'vlan-1001', start: true },
    { name: 'vm-c', mac: '52:54:00:20:00:0c', portgroup: 'vlan-1002', start: true },
  ],
};

let tl: Trunkline;

const on = async (host: string, ...argv: string[]) => {
  const r = await labExec(labEnv, host, argv);
  expect(r.code, `${host}: ${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};

async function refreshAll(): Promise<any> {
  const res = await gql(tl.url, 'mutation { refreshHypervisor { job { id } userErrors { message } } }');
  expect(res.data.refreshHypervisor.userErrors).toEqual([]);
  return waitForJob(tl.url, res.data.refreshHypervisor.job.id, 'error { code message } steps { host state observed }');
}

const HOSTS_QUERY = `{ hypervisors {
  name status stale observedAt lastError { code message }
  versions { ovs libvirt qemu }
  uplink { name trunks }
  bridges { name datapathType ports { name tag trunks vlanMode vmInterface { vmName mac } } }
  networks { name uuid forwardMode bridge virtualportType active autostart persistent portgroups { name isDefault vlanTags trunk } }
  vms(first: 100) { totalCount nodes { id name uuid state vcpus memoryMiB
    interfaces { mac network portgroup target vlanTags configuredVlanTags trunksAllVlans } } }
} }`;

beforeAll(async () => {
  await removeReference(labEnv, HV1);
  await removeReference(labEnv, HV2);
  await buildReference(labEnv, HV1);
  await buildReference(labEnv, HV2);
  // A shorter command timeout than the default, since the frozen-host test waits for it; still
  // above the first read after libvirtd started (QEMU capability probing takes seconds).
  tl = await startTrunkline({ redisUrl, inventoryPath, env: { TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: '11000' } });
});

afterAll(async () => {
  await tl?.stop();
  await lab(labEnv, 'up').catch(() => {}); // in case a test left sshd killed
  await removeReference(labEnv, HV1);
  await removeReference(labEnv, HV2);
});

describe('read model on the lab', () => {
  it('reads every host in a constant number of round trips and answers from the cache', async () => {
    const job = await refreshAll();
    expect(job.error).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    expect(job.steps.map((s: any) => [s.host, s.state])).toEqual([
      ['hv1', 'SUCCEEDED'],
      ['hv2', 'SUCCEEDED'],
    ]);
    expect(job.steps[0].observed).toMatch(/4 VMs, 1 networks \(2 round trips/);
  });

  it('matches what each host says about bridges, ports, networks and VMs', async () => {
    const res = await gql(tl.url, HOSTS_QUERY);
    expect(res.errors).toBeUndefined();
    const byName = Object.fromEntries(res.data.hypervisors.map((h: any) => [h.name, h]));
    for (const spec of [HV1, HV2]) {
      const h = byName[spec.host];
      expect(h).toMatchObject({ status: 'REACHABLE', stale: false, lastError: null });
      // Versions, as the host reports them.
      expect(h.versions.ovs).toBe(/\(Open vSwitch\) (\S+)/.exec(await on(spec.host, 'ovs-appctl', 'version'))![1]);
      const version = await on(spec.host, 'virsh', 'version');
      expect(h.versions.libvirt).toBe(/Using library: libvirt (\S+)/.exec(version)![1]);
      expect(h.versions.qemu).toBe(/Running hypervisor: QEMU (\S+)/.exec(version)![1]);

      // Bridges and ports.
      expect(h.bridges.map((b: any) => b.name)).toEqual((await on(spec.host, 'ovs-vsctl', 'list-br')).split('\n').sort());
      const ovsbr0 = h.bridges.find((b: any) => b.name === 'ovsbr0');
      expect(ovsbr0.datapathType).toBe(await on(spec.host, 'ovs-vsctl', 'get', 'Bridge', 'ovsbr0', 'datapath_type'));
      const ports = (await on(spec.host, 'ovs-vsctl', 'list-ports', 'ovsbr0')).split('\n').sort();
      expect(ovsbr0.ports.map((p: any) => p.name).filter((n: string) => n !== 'ovsbr0')).toEqual(ports);
      for (const p of ovsbr0.ports) {
        const tag = await on(spec.host, 'ovs-vsctl', 'get', 'Port', p.name, 'tag');
        const trunks = await on(spec.host, 'ovs-vsctl', 'get', 'Port', p.name, 'trunks');
        expect(p.tag === null ? '[]' : String(p.tag)).toBe(tag);
        expect(`[${p.trunks.join(', ')}]`).toBe(trunks);
      }
      expect(h.uplink).toEqual({ name: 'enp5s0f0', trunks: [1001, 1002] });

      // The libvirt network.
      expect(h.networks).toHaveLength(1);
      const net = h.networks[0];
      const info = await on(spec.host, 'virsh', 'net-info', 'ovs-network');
      expect(net).toMatchObject({
        name: 'ovs-network',
        uuid: /UUID:\s+(\S+)/.exec(info)![1],
        forwardMode: 'bridge',
        bridge: 'ovsbr0',
        virtualportType: 'openvswitch',
        active: true,
        autostart: true,
        persistent: true,
      });
      expect(net.portgroups).toEqual([
        { name: 'vlan-0001', isDefault: true, vlanTags: [], trunk: false },
        { name: 'vlan-1001', isDefault: false, vlanTags: [1001], trunk: false },
        { name: 'vlan-1002', isDefault: false, vlanTags: [1002], trunk: false },
        { name: 'vlan-all', isDefault: false, vlanTags: [1001, 1002], trunk: true },
      ]);

      // VMs and the VLANs in effect on their OVS ports.
      const vms = h.vms.nodes;
      expect(h.vms.totalCount).toBe(spec.vms.length);
      expect(vms.map((v: any) => v.name)).toEqual(
        (await on(spec.host, 'virsh', 'list', '--all', '--name')).split('\n').filter(Boolean).sort(),
      );
      for (const vm of vms) {
        const want = spec.vms.find((s) => s.name === vm.name)!;
        expect(vm.uuid).toBe(await on(spec.host, 'virsh', 'domuuid', vm.name));
        expect(vm.state).toBe(await on(spec.host, 'virsh', 'domstate', vm.name));
        expect(vm).toMatchObject({ vcpus: 1, memoryMiB: 32 });
        expect(vm.interfaces).toHaveLength(1);
        const nic = vm.interfaces[0];
        expect(nic).toMatchObject({ mac: want.mac, network: 'ovs-network' });
        if (want.start) {
          // domiflist: Interface Type Source Model MAC
          const row = (await on(spec.host, 'virsh', 'domiflist', vm.name)).split('\n').find((l) => l.includes(want.mac))!;
          const target = row.trim().split(/\s+/)[0]!;
          expect(nic.target).toBe(target);
          const tag = await on(spec.host, 'ovs-vsctl', 'get', 'Port', target, 'tag');
          const trunks = await on(spec.host, 'ovs-vsctl', 'get', 'Port', target, 'trunks');
          const live = tag !== '[]' ? [Number(tag)] : JSON.parse(trunks.replaceAll(' ', ''));
          expect(nic.vlanTags).toEqual(live);
          // The OVS port points back at the NIC.
          const port = ovsbr0.ports.find((p: any) => p.name === target);
          expect(port.vmInterface).toEqual({ vmName: vm.name, mac: want.mac });
        } else {
          expect(nic.target).toBeNull();
          expect(nic.vlanTags).toBeNull();
        }
      }
    }
    const vmA = byName.hv1.vms.nodes.find((v: any) => v.name === 'vm-a');
    expect(vmA.interfaces[0]).toMatchObject({ portgroup: 'vlan-1001', vlanTags: [1001], configuredVlanTags: [1001] });
    const vmD = byName.hv1.vms.nodes.find((v: any) => v.name === 'vm-d');
    expect(vmD.interfaces[0]).toMatchObject({ portgroup: 'vlan-all', vlanTags: [1001, 1002], trunksAllVlans: false });
    const vmE = byName.hv1.vms.nodes.find((v: any) => v.name === 'vm-e');
    expect(vmE.interfaces[0]).toMatchObject({ portgroup: 'vlan-0001', configuredVlanTags: [] });
  });

  it('vlan(tag: 1001) lists the VM interfaces on both hypervisors, its portgroups and uplinks', async () => {
    const res = await gql(
      tl.url,
      `{ vlan(tag: 1001) { tag
      hypervisors { name } missingOn { name }
      uplinks { hypervisorName uplink carriage carried }
      portgroups { hypervisorName network name trunk }
      interfaces { hypervisor vmName mac portgroup vlanTags } } }`,
    );
    expect(res.errors).toBeUndefined();
    const v = res.data.vlan;
    expect(v.hypervisors.map((h: any) => h.name)).toEqual(['hv1', 'hv2']);
    expect(v.missingOn).toEqual([]);
    expect(v.uplinks).toEqual([
      { hypervisorName: 'hv1', uplink: 'enp5s0f0', carriage: 'TRUNKED', carried: true },
      { hypervisorName: 'hv2', uplink: 'enp5s0f0', carriage: 'TRUNKED', carried: true },
    ]);
    expect(v.portgroups.map((p: any) => `${p.hypervisorName}/${p.name}`).sort()).toEqual([
      'hv1/vlan-1001',
      'hv1/vlan-all',
      'hv2/vlan-1001',
      'hv2/vlan-all',
    ]);
    expect(v.interfaces.map((i: any) => `${i.hypervisor}/${i.vmName}`).sort()).toEqual(['hv1/vm-a', 'hv1/vm-d', 'hv2/vm-b']);

    const v1002 = (await gql(tl.url, '{ vlan(tag: 1002) { interfaces { hypervisor vmName vlanTags } } }')).data.vlan;
    // vm-f is shut off: it counts by its portgroup, with no live tags.
    expect(v1002.interfaces.map((i: any) => `${i.hypervisor}/${i.vmName}/${i.vlanTags}`).sort()).toEqual([
      'hv1/vm-d/1001,1002',
      'hv1/vm-f/null',
      'hv2/vm-c/1002',
    ]);

    const v1003 = (await gql(tl.url, '{ vlan(tag: 1003) { interfaces { vmName } missingOn { name } } }')).data.vlan;
    expect(v1003.interfaces).toEqual([]);
    expect(v1003.missingOn.map((h: any) => h.name)).toEqual(['hv1', 'hv2']);

    const all = (await gql(tl.url, '{ vlans { tag } }')).data.vlans.map((v: any) => v.tag);
    expect(all).toEqual([1001, 1002]);
  });

  it('pages VMs with bounded first, and resolves global ids with node(id:)', async () => {
    const page1 = (
      await gql(tl.url, '{ hypervisor(name: "hv1") { vms(first: 2) { nodes { id name } pageInfo { hasNextPage endCursor } } } }')
    ).data.hypervisor.vms;
    expect(page1.nodes.map((n: any) => n.name)).toEqual(['vm-a', 'vm-d']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      await gql(
        tl.url,
        `{ hypervisor(name: "hv1") { vms(first: 2, after: "${page1.pageInfo.endCursor}") { nodes { name } pageInfo { hasNextPage } } } }`,
      )
    ).data.hypervisor.vms;
    expect(page2.nodes.map((n: any) => n.name)).toEqual(['vm-e', 'vm-f']);
    expect(page2.pageInfo.hasNextPage).toBe(false);

    const tooMany = await gql(tl.url, '{ hypervisor(name: "hv1") { vms(first: 1000) { nodes { name } } } }');
    expect(tooMany.errors?.[0]?.message).toMatch(/first must be between 0 and 100/);

    const node = await gql(tl.url, `{ node(id: "${page1.nodes[0].id}") { __typename ... on Vm { name hypervisorName } } }`);
    expect(node.data.node).toEqual({ __typename: 'Vm', name: 'vm-a', hypervisorName: 'hv1' });
  });

  it('a host with sshd stopped is UNREACHABLE with the reason, keeps its last state, and the rest answers', async () => {
    await lab(labEnv, 'kill-sshd', 'hv2');
    try {
      const job = await refreshAll();
      expect(job.state).toBe('FAILED');
      expect(job.error.code).toBe('SSH_CONNECT_FAILED');
      expect(job.error.message).toMatch(/hv2/);
      expect(job.steps.map((s: any) => [s.host, s.state])).toEqual([
        ['hv1', 'SUCCEEDED'],
        ['hv2', 'FAILED'],
      ]);
      const res = await gql(tl.url, '{ hypervisors { name status stale lastError { code message } vms { totalCount } } }');
      const [hv1, hv2] = res.data.hypervisors;
      expect(hv1).toMatchObject({ name: 'hv1', status: 'REACHABLE', stale: false, lastError: null, vms: { totalCount: 4 } });
      expect(hv2).toMatchObject({ name: 'hv2', status: 'UNREACHABLE', stale: true, vms: { totalCount: 2 } });
      expect(hv2.lastError.code).toBe('SSH_CONNECT_FAILED');
      expect(hv2.lastError.message).toMatch(/ECONNREFUSED/);
    } finally {
      await lab(labEnv, 'up');
    }
    expect((await refreshAll()).state).toBe('SUCCEEDED');
  });

  it('a frozen host (sshd stopped with SIGSTOP) times out its read; queries still answer from the cache', async () => {
    const pidFile = `/run/trunkline/lab-${labEnv.LAB_NAME}/hv2/ssh/sshd.pid`;
    const listener = (await on('hv1', 'cat', pidFile)).trim();
    // The listener and every process below it: with privilege separation the connection is
    // served by a grandchild running as the login user (the worker's pooled connection among them).
    const table = (await on('hv1', 'ps', '-e', '-o', 'pid=,ppid=')).split('\n').map((l) => l.trim().split(/\s+/));
    const frozen = [listener];
    for (let i = 0; i < frozen.length; i++) frozen.push(...table.filter(([, ppid]) => ppid === frozen[i]).map(([pid]) => pid!));
    expect(frozen.length).toBeGreaterThan(1);
    await on('hv1', 'kill', '-STOP', ...frozen);
    try {
      const res = await gql(tl.url, 'mutation { refreshHypervisor { job { id } } }');
      // While hv2 hangs, the cache answers at once, for hv2 too.
      const listed = await gql(tl.url, '{ hypervisors { name status vms { totalCount } } }');
      expect(listed.data.hypervisors.map((h: any) => [h.name, h.status, h.vms.totalCount])).toEqual([
        ['hv1', 'REACHABLE', 4],
        ['hv2', 'REACHABLE', 2],
      ]);
      const job = await waitForJob(tl.url, res.data.refreshHypervisor.job.id, 'error { code message } steps { host state }', 30_000);
      expect(job.state).toBe('FAILED');
      expect(['COMMAND_TIMEOUT', 'SSH_TIMEOUT']).toContain(job.error.code);
      expect(job.steps.map((s: any) => [s.host, s.state])).toEqual([
        ['hv1', 'SUCCEEDED'],
        ['hv2', 'FAILED'],
      ]);
    } finally {
      await labExec(labEnv, 'hv1', ['kill', '-CONT', ...frozen]);
    }
    expect((await refreshAll()).state).toBe('SUCCEEDED');
  });

  it('registerHypervisor pins the host key: a wrong fingerprint is refused at connect time', async () => {
    const inv = (await gql(tl.url, '{ hypervisor(name: "hv1") { address port user } }')).data.hypervisor;
    const input = {
      name: 'hv1-impostor',
      address: inv.address,
      user: inv.user,
      privateKeyPath: `/run/trunkline/lab-${labEnv.LAB_NAME}/id_ed25519`,
      hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      defaults: { bridge: 'ovsbr0', uplink: 'enp5s0f0' },
    };
    const res = await gql(
      tl.url,
      `mutation($input: RegisterHypervisorInput!) { registerHypervisor(input: $input) {
      created job { id } hypervisor { name status } userErrors { field message } } }`,
      { input },
    );
    expect(res.data.registerHypervisor).toMatchObject({
      created: true,
      userErrors: [],
      hypervisor: { name: 'hv1-impostor', status: 'UNKNOWN' },
    });
    const job = await waitForJob(tl.url, res.data.registerHypervisor.job.id, 'error { code message }');
    expect(job.state).toBe('FAILED');
    expect(job.error.code).toBe('SSH_HOST_KEY_MISMATCH');
    const h = (await gql(tl.url, '{ hypervisor(name: "hv1-impostor") { status lastError { code } } }')).data.hypervisor;
    expect(h).toEqual({ status: 'UNREACHABLE', lastError: { code: 'SSH_HOST_KEY_MISMATCH' } });

    const removed = await gql(tl.url, 'mutation { removeHypervisor(input: { name: "hv1-impostor" }) { removedName userErrors { code } } }');
    expect(removed.data.removeHypervisor).toEqual({ removedName: 'hv1-impostor', userErrors: [] });
    expect((await gql(tl.url, '{ hypervisor(name: "hv1-impostor") { name } }')).data.hypervisor).toBeNull();
  });

  it('registerHypervisor refuses bad input naming the fields', async () => {
    const res = await gql(
      tl.url,
      `mutation { registerHypervisor(input: { name: "hv 9", address: "10.0.0.1; id", user: "root!",
      privateKeyPath: "relative/key", hostKeyFingerprint: "MD5:xx" }) { hypervisor { name } userErrors { field code } } }`,
    );
    const p = res.data.registerHypervisor;
    expect(p.hypervisor).toBeNull();
    expect(p.userErrors.map((e: any) => e.field.join('.')).sort()).toEqual([
      'input.address',
      'input.hostKeyFingerprint',
      'input.name',
      'input.privateKeyPath',
      'input.user',
    ]);
    expect(await tl.redis.hexists(`${tl.prefix}:hosts`, 'hv 9')).toBe(0);
  });
});

describe('a registry record that no longer validates', () => {
  it('is left out of every listing (which still answers) and named by listInvalid()', async () => {
    // What an older, less strict version could have stored: a name beginning with '-'.
    const hosts = `${tl.prefix}:hosts`;
    const old = { ...JSON.parse((await tl.redis.hget(hosts, 'hv2'))!), name: '-hv-old' };
    await tl.redis
      .multi()
      .hset(hosts, '-hv-old', JSON.stringify(old))
      .hset(hosts, 'hv-garbled', '{not json')
      .incr(`${tl.prefix}:hosts-rev`)
      .exec();
    try {
      const res = await gql(tl.url, '{ hypervisors { name status } }');
      expect(res.errors).toBeUndefined();
      expect(res.data.hypervisors.map((h: any) => h.name)).toEqual(['hv1', 'hv2']);
      expect((await gql(tl.url, '{ hypervisor(name: "hv1") { name } }')).data.hypervisor).toEqual({ name: 'hv1' });
      // The worker reads the registry too: a refresh of every host goes on with the valid ones.
      const job = await refreshAll();
      expect(job.steps.map((s: any) => [s.host, s.state])).toEqual([
        ['hv1', 'SUCCEEDED'],
        ['hv2', 'SUCCEEDED'],
      ]);

      const registry = new RedisHostRegistry(tl.redis, tl.prefix);
      expect(await registry.listInvalid()).toEqual([
        { name: '-hv-old', reason: `name: ${OPTION_LIKE_MESSAGE}` },
        { name: 'hv-garbled', reason: expect.stringMatching(/^not valid JSON/) },
      ]);
      expect(await registry.get('-hv-old')).toBeNull();
      expect(await registry.get('no-such-host')).toBeUndefined();
      expect(await registry.get('hv2')).toMatchObject({ name: 'hv2' });
    } finally {
      await tl.redis.multi().hdel(hosts, '-hv-old', 'hv-garbled').incr(`${tl.prefix}:hosts-rev`).exec();
    }
  });
});

describe('scheduled refresh', () => {
  let fast: Trunkline;
  beforeAll(async () => {
    fast = await startTrunkline({ redisUrl, inventoryPath, env: { TRUNKLINE_REFRESH_INTERVAL_SECONDS: '1' } });
  });
  afterAll(async () => {
    await fast?.stop();
    await labExec(labEnv, 'hv2', ['ovs-vsctl', '--if-exists', 'del-port', 'ovsbr0', 'p-sched']);
  });

  it("picks up a change made behind Trunkline's back without being asked", async () => {
    await on('hv2', 'ovs-vsctl', 'add-port', 'ovsbr0', 'p-sched', 'tag=1003', '--', 'set', 'Interface', 'p-sched', 'type=internal');
    const until = Date.now() + 20_000;
    let ports: string[] = [];
    while (Date.now() < until) {
      const res = await gql(fast.url, '{ hypervisor(name: "hv2") { bridge(name: "ovsbr0") { ports { name } } } }');
      ports = res.data.hypervisor?.bridge?.ports.map((p: any) => p.name) ?? [];
      if (ports.includes('p-sched')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(ports).toContain('p-sched');
  });
});

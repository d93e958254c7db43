import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { PlanStep } from '../../src/changes/plan.ts';
import { planAddPortgroup, planDefineNetwork, portVlansOf, toPortgroup } from '../../src/changes/plans/libvirt.ts';
import { planEnsureVlan } from '../../src/changes/plans/vlan.ts';
import { planDefineVm } from '../../src/changes/plans/vm.ts';
import { isAsWanted, stepKind } from '../../src/changes/step-kinds.ts';
import { livePortgroupUpdates, networkProbeArgv } from '../../src/changes/steps/libvirt-network.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import { parseDomainXml } from '../../src/libvirt/domain-xml.ts';
import { portgroupValue } from '../../src/libvirt/network-build.ts';
import { parseNetInfo, parseNetworkXml } from '../../src/libvirt/network-xml.ts';
import type { LibvirtNetwork } from '../../src/libvirt/types.ts';
import type { ExecResult } from '../../src/ssh/runner.ts';
import { FIXTURE_MARKER, fixtureHostState, testHost } from '../support/fixture-host-state.ts';

/**
 * Redefining what exists, on virsh output captured from a lab host that Trunkline did not build
 * (test/fixtures/capture-redefine-fixtures.sh, libvirt 9.0.0): a network defined by hand, then a
 * portgroup added with net-update (libvirt appends it: [vlan-0001, vlan-1001, vlan-all, vlan-1003],
 * vlan-all trunking <tag 1002/><tag 1001/> in that order), then redefined while it ran, then stopped.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/libvirt/redefine/${name}`, import.meta.url), 'utf8');
const probeResult = (name: string): ExecResult => ({
  exitCode: Number(fixture(`${name}.exit-code`).trim()),
  stdout: fixture(`${name}.txt`),
  stderr: fixture(`${name}.stderr`),
  durationMs: 1,
});
const UUID = '62a58f90-b201-4e8d-be66-7c58b328c37e';
const host = testHost();
const config = loadConfig({});
const kind = stepKind('libvirt-network-def');

/** The probe's marker is random per plan; the capture used a fixed one. */
const withFixtureMarker = (step: PlanStep): PlanStep => ({
  ...step,
  probe: { ...step.probe, argv: step.probe.argv.map((a) => a.replaceAll(step.probe.marker!, FIXTURE_MARKER)), marker: FIXTURE_MARKER },
});

/** What the host read puts in the cache: the live definition of a running network (virsh-batch round 2). */
function cachedFrom(name: string): LibvirtNetwork {
  const [info, inactive, live] = fixture(`${name}.txt`).split(`${FIXTURE_MARKER}\n`) as [string, string, string];
  const i = parseNetInfo(info);
  return { ...parseNetworkXml(i.active ? live : inactive), active: i.active, persistent: i.persistent, autostart: i.autostart };
}

/** The lab fixture host (bridge ovsbr0) with this network and no VMs. */
function stateWith(net: LibvirtNetwork): HostState {
  const s = fixtureHostState();
  return { ...s, libvirt: { ...s.libvirt!, networks: [net], domains: [] } };
}

const SAME_SET_OTHER_ORDER = [
  { name: 'vlan-1003', vlanTags: [1003], trunk: false, isDefault: false },
  { name: 'vlan-all', vlanTags: [1001, 1002], trunk: true, isDefault: false },
  { name: 'vlan-1001', vlanTags: [1001], trunk: false, isDefault: false },
  { name: 'vlan-0001', vlanTags: [], trunk: false, isDefault: true },
];

function defineStep(portgroups: typeof SAME_SET_OTHER_ORDER, state: HostState | null, bridge = 'ovsbr0'): PlanStep {
  const { plan, errors } = planDefineNetwork(host, state, { name: 'ovs-network', bridge, portgroups });
  expect(errors).toBeUndefined();
  return withFixtureMarker(plan!.steps[0]!);
}

describe('the captured probe', () => {
  it('is the command networkProbeArgv builds (capture-redefine-fixtures.sh records it in probe.cmd)', () => {
    expect(networkProbeArgv('ovs-network', FIXTURE_MARKER)).toEqual(['virsh', '-c', 'qemu:///system', fixture('probe.cmd').trimEnd()]);
  });
});

describe('order is not a difference', () => {
  it('the same portgroups (and tags) in another order: the planner and the worker both see no change', () => {
    const step = defineStep(SAME_SET_OTHER_ORDER, stateWith(cachedFrom('probe-added-last')));
    expect(step.changes).toBe(false);
    const read = kind.read(probeResult('probe-added-last'), step);
    expect(isAsWanted(kind, read, step)).toBe(true);
    // The worker's reading is the one the plan was judged from: the cache agrees.
    expect(read.value).toBe(step.observed);
    expect(read.value).toBe(
      'forward=bridge bridge=ovsbr0 virtualport=openvswitch portgroups=[vlan-0001 (default) untagged; vlan-1001 tag=1001; vlan-1003 tag=1003; vlan-all trunk=1001,1002]',
    );
  });

  it('addPortgroup with the trunk tags in another order than libvirt keeps them: no change', () => {
    const state = stateWith(cachedFrom('probe-added-last'));
    const { plan } = planAddPortgroup(host, state, {
      portgroup: { name: 'vlan-all', vlanTags: [1001, 1002], trunk: true, isDefault: false },
    });
    const step = withFixtureMarker(plan!.steps[0]!);
    expect(step.changes).toBe(false);
    const pgKind = stepKind('libvirt-portgroup');
    expect(isAsWanted(pgKind, pgKind.read(probeResult('probe-added-last'), step), step)).toBe(true);
  });

  it('a native VLAN is the tag carrying nativeMode, wherever libvirt prints it; the others are a set', () => {
    // Defined as <tag id='1001'/><tag id='1002' nativeMode='untagged'/> (ovs-network-v2.define.xml).
    const pg = parseNetworkXml(fixture('ovs-network-v2.define.xml')).portgroups.find((p) => p.name === 'vlan-native')!;
    expect(pg.vlan).toEqual({ tags: [1002, 1001], trunk: true, nativeMode: 'untagged' });
    expect(portVlansOf(pg)).toEqual({ tag: 1002, trunks: [1001, 1002], vlanMode: 'native-untagged' });
    const asked = (vlanTags: number[]) =>
      portgroupValue(toPortgroup({ name: 'vlan-native', vlanTags, trunk: true, isDefault: false, nativeMode: 'untagged' }));
    expect(asked([1002, 1001])).toBe(portgroupValue(pg));
    expect(asked([1001, 1002])).not.toBe(portgroupValue(pg)); // another native VLAN
  });
});

describe('redefining an existing network converges on it', () => {
  const V2 = [
    { name: 'vlan-0001', vlanTags: [], trunk: false, isDefault: true },
    { name: 'vlan-1002', vlanTags: [1002], trunk: false, isDefault: false },
    { name: 'vlan-native', vlanTags: [1002, 1001], trunk: true, isDefault: false, nativeMode: 'untagged' as const },
  ];

  it('the net-define Trunkline used to send, without <uuid>, is what libvirt refused', () => {
    expect(fixture('net-define-no-uuid.stderr')).toMatch(/network 'ovs-network' already exists with uuid 62a58f90/);
    const step = defineStep(V2, stateWith(cachedFrom('probe-added-last')));
    expect(step.changes).toBe(true);
    expect(step.apply!.stdin).not.toMatch(/<uuid>/);
  });

  it('running: portgroups changed live (net-update --live), then net-define with the observed UUID, in one virsh process', () => {
    const step = defineStep(V2, stateWith(cachedFrom('probe-added-last')));
    const read = kind.read(probeResult('probe-added-last'), step);
    expect(isAsWanted(kind, read, step)).toBe(false);
    const action = kind.applyFor!(read.state, step);
    expect(action.argv.slice(0, 3)).toEqual(['virsh', '-c', 'qemu:///system']);
    expect(action.argv[3]!.split('; ')).toEqual([
      `net-update --live -- ovs-network delete portgroup "<portgroup name='vlan-1001'/>"`,
      `net-update --live -- ovs-network delete portgroup "<portgroup name='vlan-all'/>"`,
      `net-update --live -- ovs-network delete portgroup "<portgroup name='vlan-1003'/>"`,
      `net-update --live -- ovs-network add portgroup "<portgroup name='vlan-1002'><vlan><tag id='1002'/></vlan></portgroup>"`,
      `net-update --live -- ovs-network add portgroup "<portgroup name='vlan-native'><vlan trunk='yes'><tag id='1002' nativeMode='untagged'/><tag id='1001'/></vlan></portgroup>"`,
      'net-define /dev/stdin',
    ]);
    const defined = parseNetworkXml(action.stdin!);
    expect(defined.uuid).toBe(UUID);
    expect(defined.portgroups.map((p) => p.name)).toEqual(['vlan-0001', 'vlan-1002', 'vlan-native']);
  });

  it('what the host then shows (live and persistent as wanted) is as wanted', () => {
    const step = defineStep(V2, stateWith(cachedFrom('probe-added-last')));
    // probe-persistent-differs: persistent = V2, live = the old portgroups.
    const read = kind.read(probeResult('probe-persistent-differs'), step);
    expect(read.value).toMatch(/^persistent: .*vlan-native trunk=1002,1001 native=untagged\(1002\).*; live: .*vlan-1003 tag=1003/);
    expect(isAsWanted(kind, read, step)).toBe(false);
    // Only the live part is left to do: no net-define, no stdin.
    const action = kind.applyFor!(read.state, step);
    expect(action.stdin).toBeUndefined();
    expect(action.argv[3]).not.toMatch(/net-define/);
    expect(action.argv[3]).toMatch(/net-update --live -- ovs-network add portgroup .*vlan-1002/);
  });

  it('stopped: only the persistent definition, with the UUID', () => {
    const cached = cachedFrom('probe-inactive');
    expect(cached.active).toBe(false);
    const step = defineStep(SAME_SET_OTHER_ORDER, stateWith(cached));
    const read = kind.read(probeResult('probe-inactive'), step);
    expect(isAsWanted(kind, read, step)).toBe(false);
    const action = kind.applyFor!(read.state, step);
    expect(action.argv).toEqual(['virsh', '-c', 'qemu:///system', 'net-define', '/dev/stdin']);
    expect(parseNetworkXml(action.stdin!)).toMatchObject({ uuid: UUID, bridge: 'ovsbr0' });
  });

  it('absent: the planned net-define, new (libvirt makes the UUID)', () => {
    const step = defineStep(V2, null);
    const read = kind.read(probeResult('probe-absent'), step);
    expect(read).toEqual({ value: 'absent', state: null });
    expect(kind.applyFor!(read.state, step)).toBe(step.apply);
  });

  it('undo puts the live portgroups and the persistent definition back as they were', () => {
    const step = defineStep(V2, stateWith(cachedFrom('probe-added-last')));
    const before = kind.read(probeResult('probe-added-last'), step);
    const undo = kind.undo(before.state, step)!;
    const cmds = undo.argv[3]!.split('; ');
    expect(cmds.at(-1)).toBe('net-define /dev/stdin');
    expect(cmds).toContain(`net-update --live -- ovs-network delete portgroup "<portgroup name='vlan-native'/>"`);
    expect(cmds).toContain(
      `net-update --live -- ovs-network add portgroup "<portgroup name='vlan-1003'><vlan><tag id='1003'/></vlan></portgroup>"`,
    );
    expect(undo.stdin).toBe(fixture('probe-added-last.txt').split(`${FIXTURE_MARKER}\n`)[1]);
  });

  it('another bridge for a running network: refused by the planner (from the cache) and the worker (from the host), naming it', () => {
    const state = stateWith(cachedFrom('probe-added-last'));
    state.ovs!.bridges.push({ uuid: 'u', name: 'brsys', datapathType: '', ports: [] });
    const { errors } = planDefineNetwork(host, state, { name: 'ovs-network', bridge: 'brsys', portgroups: SAME_SET_OTHER_ORDER });
    expect(errors).toEqual([
      expect.objectContaining({
        field: ['input', 'bridge'],
        code: 'NETWORK_RESTART_REQUIRED',
        message: expect.stringMatching(/running with bridge ovsbr0 \(wanted brsys\).*restarted/),
      }),
    ]);
    // Planned from a cache that said stopped; the host says running.
    const stale = stateWith(cachedFrom('probe-inactive'));
    stale.ovs!.bridges.push({ uuid: 'u', name: 'brsys', datapathType: '', ports: [] });
    const step = defineStep(SAME_SET_OTHER_ORDER, stale, 'brsys');
    const read = kind.read(probeResult('probe-added-last'), step);
    expect(() => kind.applyFor!(read.state, step)).toThrow(
      /network ovs-network is running with bridge ovsbr0 \(wanted brsys\).*Trunkline changed nothing/,
    );
    // Stopped, it simply takes the new bridge at its next start.
    const stopped = kind.applyFor!(kind.read(probeResult('probe-inactive'), step).state, step);
    expect(parseNetworkXml(stopped.stdin!)).toMatchObject({ uuid: UUID, bridge: 'brsys' });
  });

  it('dropping a portgroup that VM NICs name is refused (IN_USE); running VMs on kept portgroups are retagged', () => {
    const s = fixtureHostState(); // ovs-network with vm-access on vlan-1001, vm-trunk on vlan-all, vm-off on vlan-1002
    const { errors } = planDefineNetwork(host, s, { name: 'ovs-network', bridge: 'ovsbr0', portgroups: SAME_SET_OTHER_ORDER });
    expect(errors?.[0]).toMatchObject({ code: 'IN_USE', message: expect.stringMatching(/vm-off \(52:54:00:7c:00:05\) on vlan-1002/) });
    const keep = [
      ...SAME_SET_OTHER_ORDER.filter((p) => p.name !== 'vlan-1003'),
      { name: 'vlan-1002', vlanTags: [1002], trunk: false, isDefault: false },
    ];
    const { plan } = planDefineNetwork(host, s, { name: 'ovs-network', bridge: 'ovsbr0', portgroups: keep });
    expect(plan!.steps.map((st) => st.probe.kind)).toEqual([
      'libvirt-network-def',
      'libvirt-network-run',
      'ovs-port-vlans',
      'ovs-port-vlans',
      'ovs-port-vlans',
    ]);
  });

  it('live updates: one default at a time (the old default gives it up first)', () => {
    const pg = (name: string, isDefault: boolean) => ({ name, isDefault, vlan: null });
    expect(
      livePortgroupUpdates('n', [pg('a', true), pg('b', false)], [pg('b', true), pg('a', false)]).map((c) => `${c[4]} ${c[6]}`),
    ).toEqual(["modify <portgroup name='a'/>", "modify <portgroup name='b' default='yes'/>"]);
  });

  it('ensureVlan on a host never read only defines the network if it is absent, then ensures its portgroup', () => {
    const { plan } = planEnsureVlan([{ host, state: null }], { tag: 1003, hypervisors: ['hv1'], dryRun: false } as never, config);
    const def = withFixtureMarker(plan!.steps.find((s) => s.probe.kind === 'libvirt-network-def')!);
    expect(def.wanted).toBe('defined');
    // The network exists (with portgroups the plan could not know of): nothing to redefine.
    expect(isAsWanted(kind, kind.read(probeResult('probe-added-last'), def), def)).toBe(true);
    expect(isAsWanted(kind, kind.read(probeResult('probe-absent'), def), def)).toBe(false);
    expect(plan!.steps.map((s) => s.probe.kind)).toEqual([
      'ovs-bridge',
      'ovs-uplink-vlan',
      'libvirt-network-def',
      'libvirt-network-run',
      'libvirt-portgroup',
    ]);
  });
});

describe('redefining a VM Trunkline defined keeps its UUID', () => {
  const vmKind = stepKind('libvirt-vm-def');
  const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });

  it('defineVm with another memory size: define carries the observed <uuid>', () => {
    expect(fixture('define-no-uuid.stderr')).toMatch(/domain 'vm-redef' already exists with uuid a03dc23a-25bd-48a5-884b-e0553256faf8/);
    const { plan } = planDefineVm(host, null, { name: 'vm-redef', vcpus: 1, memoryMiB: 64, nics: [] } as never, config);
    const step = plan!.steps[0]!;
    const read = vmKind.read(ok(fixture('dumpxml-inactive-vm-redef.xml')), step);
    expect(read.value).toBe('vcpus=1 memory=32MiB nics=[]');
    expect(isAsWanted(vmKind, read, step)).toBe(false);
    const action = vmKind.applyFor!(read.state, step);
    expect(action.argv).toEqual(['virsh', '-c', 'qemu:///system', 'define', '/dev/stdin']);
    expect(action.stdin).toMatch(/<name>vm-redef<\/name>\n {2}<uuid>a03dc23a-25bd-48a5-884b-e0553256faf8<\/uuid>\n/);
    expect(parseDomainXml(action.stdin!)).toMatchObject({ uuid: 'a03dc23a-25bd-48a5-884b-e0553256faf8', memoryKiB: 65536 });
    // A new VM: no UUID, libvirt makes one.
    expect(vmKind.applyFor!(null, step).stdin).not.toMatch(/<uuid>/);
  });

  it('a VM Trunkline did not define is still never redefined', () => {
    const vmAccess = readFileSync(new URL('../fixtures/libvirt/dumpxml-inactive-vm-access.xml', import.meta.url), 'utf8');
    const { plan } = planDefineVm(host, null, { name: 'vm-access', vcpus: 1, memoryMiB: 64, nics: [] } as never, config);
    const step = plan!.steps[0]!;
    expect(() => vmKind.applyFor!(vmKind.read(ok(vmAccess), step).state, step)).toThrow(/not defined by Trunkline/);
  });
});

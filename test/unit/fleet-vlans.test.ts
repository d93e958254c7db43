import { describe, expect, it } from 'vitest';
import { isStale, unknownHostState, withFailedRead } from '../../src/hosts/host-state.ts';
import { resolveInterfaces, portVlanTags } from '../../src/fleet/vm-interfaces.ts';
import { deriveVlans, uplinkCarriage, vlanView } from '../../src/fleet/vlans.ts';
import { fixtureHostState, testHost } from '../support/fixture-host-state.ts';

const host = testHost;

/** The captured host plus an uplink port with the given VLAN config. */
function withUplink(tag: number | null, trunks: number[]) {
  const state = fixtureHostState();
  state.ovs!.bridges[0]!.ports.push({ uuid: 'u', name: 'enp5s0f0', tag, trunks, vlanMode: null, interfaces: [] });
  return state;
}

describe('resolveInterfaces (captured lab output)', () => {
  const byVm = Object.fromEntries(resolveInterfaces(fixtureHostState()).map((i) => [`${i.vm}#${i.index}`, i]));

  it('joins running NICs with their OVS port and reports the live VLANs', () => {
    expect(byVm['vm-access#0']).toMatchObject({ liveTags: [1001], configuredTags: [1001], liveTrunkAll: false });
    expect(byVm['vm-access#0']!.port?.name).toBe('vnet0');
    expect(byVm['vm-trunk#0']).toMatchObject({ liveTags: [1001, 1002], configuredTags: [1001, 1002], configuredTrunk: true });
  });

  it('a running NIC on the default portgroup has an untagged port that trunks every VLAN', () => {
    expect(byVm['vm-two-nics#0']).toMatchObject({ liveTags: [], liveTrunkAll: true, configuredTags: [] });
    expect(byVm['vm-two-nics#0']!.portgroup?.name).toBe('vlan-0001');
  });

  it('shut-off VMs have no port: configured tags come from their portgroup', () => {
    expect(byVm['vm-off#0']).toMatchObject({ port: null, liveTags: null, configuredTags: [1002] });
  });

  it('portVlanTags: access, trunk, native modes', () => {
    const p = { uuid: 'u', name: 'p', interfaces: [] };
    expect(portVlanTags({ ...p, tag: 5, trunks: [], vlanMode: null })).toEqual({ tags: [5], trunkAll: false });
    expect(portVlanTags({ ...p, tag: null, trunks: [], vlanMode: null })).toEqual({ tags: [], trunkAll: true });
    expect(portVlanTags({ ...p, tag: 5, trunks: [7, 6], vlanMode: 'native-untagged' })).toEqual({ tags: [5, 6, 7], trunkAll: false });
  });
});

describe('VLAN view', () => {
  it('lists every tag seen and the NICs on it', () => {
    const fleet = [{ host: host('hv1'), state: fixtureHostState() }];
    const vlans = deriveVlans(fleet);
    expect(vlans.map((v) => v.tag)).toEqual([1001, 1002]);
    const v1002 = vlans.find((v) => v.tag === 1002)!;
    expect(v1002.interfaces.map((i) => `${i.vm}#${i.index}`).sort()).toEqual(['vm-off#0', 'vm-trunk#0', 'vm-two-nics#1']);
    expect(v1002.portgroups.map((p) => p.portgroup)).toEqual(['vlan-1002', 'vlan-all', 'vlan-native']);
    // The captured host has no uplink port yet.
    expect(v1002.hosts).toEqual([{ hypervisor: 'hv1', bridge: 'ovsbr0', uplink: 'enp5s0f0', carriage: 'NO_UPLINK' }]);
  });

  it.each([
    [null, [1001, 1002], 1001, 'TRUNKED'],
    [null, [1001, 1002], 1003, 'MISSING'],
    [null, [], 1003, 'TRUNKS_ALL'],
    [1001, [], 1001, 'ACCESS'],
    [1001, [], 1002, 'MISSING'],
  ] as const)('uplink tag=%s trunks=%j carries %d as %s', (tag, trunks, vlan, carriage) => {
    expect(uplinkCarriage({ host: host('hv1'), state: withUplink(tag, [...trunks]) }, vlan).carriage).toBe(carriage);
  });

  it('a host never read is UNKNOWN, one without uplink configured is NO_UPLINK', () => {
    expect(uplinkCarriage({ host: host('hv9'), state: unknownHostState('hv9') }, 1001).carriage).toBe('UNKNOWN');
    const noUplink = { ...host('hv1'), defaults: { bridge: 'ovsbr0' } };
    expect(vlanView([{ host: noUplink, state: withUplink(null, [1001]) }], 1001).hosts[0]!.carriage).toBe('NO_UPLINK');
  });
});

describe('host state freshness', () => {
  const state = fixtureHostState();
  const at = Date.parse(state.observedAt!);
  it('is fresh within the window and stale after it', () => {
    expect(isStale(state, 90, at + 89_000)).toBe(false);
    expect(isStale(state, 90, at + 91_000)).toBe(true);
  });
  it('is stale when never read or when the last read failed, keeping the old data', () => {
    expect(isStale(unknownHostState('hv1'), 90)).toBe(true);
    const failed = withFailedRead(state, 'hv1', { code: 'SSH_CONNECT_FAILED', message: 'refused' }, false, new Date(at + 1000));
    expect(failed).toMatchObject({ status: 'UNREACHABLE', observedAt: state.observedAt, error: { code: 'SSH_CONNECT_FAILED' } });
    expect(failed.libvirt).toBe(state.libvirt);
    expect(isStale(failed, 90, at + 2000)).toBe(true);
  });
});

describe('VLAN drift (captured host, changed by hand)', () => {
  const kinds = (state: ReturnType<typeof fixtureHostState>, tag: number) =>
    vlanView([{ host: host('hv1'), state }], tag).drift.map((d) => `${d.kind} ${d.subject}`);

  it('an uplink that does not trunk a VLAN the host uses', () => {
    expect(kinds(fixtureHostState(), 1001)).toEqual(['UPLINK_MISSING enp5s0f0']);
    expect(kinds(withUplink(null, [1001, 1002]), 1001)).toEqual([]);
  });

  it('a running VM whose port is not tagged as its portgroup says', () => {
    const state = withUplink(null, [1001, 1002]);
    state.ovs!.bridges[0]!.ports.find((p) => p.name === 'vnet0')!.tag = 1002;
    expect(kinds(state, 1001)).toEqual(['VM_PORT_TAG_DIFFERS vm-access/52:54:00:7c:00:01']);
  });

  it('a running VM on a trunk portgroup a change extended: the port follows the portgroup, not the VLANs frozen in the live XML', () => {
    const state = withUplink(null, [1001, 1002, 1003]);
    const network = state.libvirt!.networks.find((n) => n.name === 'ovs-network')!;
    const trunk = network.portgroups.find((p) => p.vlan?.trunk)!;
    trunk.vlan = { ...trunk.vlan!, tags: [1001, 1002, 1003] };
    const vm = resolveInterfaces(state).find((i) => i.vm === 'vm-trunk')!;
    expect(vm.iface.vlan?.tags).toEqual([1001, 1002]); // what libvirt's live XML still says
    expect(vm.configuredTags).toEqual([1001, 1002, 1003]);
    // Not retagged yet: drift, against what the portgroup says now.
    expect(kinds(state, 1001)).toContain(`VM_PORT_TAG_DIFFERS vm-trunk/${vm.iface.mac}`);
    // Retagged (as ensureVlan does): no drift.
    vm.port!.trunks = [1001, 1002, 1003];
    const again = structuredClone(state);
    expect(kinds(again, 1001)).not.toContain(`VM_PORT_TAG_DIFFERS vm-trunk/${vm.iface.mac}`);
  });

  it('a trunked VLAN without its portgroup, left out of the trunk portgroups', () => {
    expect(kinds(withUplink(null, [1001, 1002, 1003]), 1003)).toEqual([
      'PORTGROUP_MISSING ovs-network/vlan-1003',
      'TRUNK_PORTGROUP_MISSING ovs-network/vlan-all',
      'TRUNK_PORTGROUP_MISSING ovs-network/vlan-native',
    ]);
  });

  it('a host that does not take part in a VLAN has no drift for it', () => {
    expect(kinds(withUplink(null, [1001, 1002]), 1500)).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cellMap, cellOptional, cellSet } from '../../src/ovs/ovsdb-json.ts';
import { parseOvsSnapshot, snapshotArgv } from '../../src/ovs/snapshot.ts';

// Captured from ovs-vsctl 3.1.0 (Debian 12) running snapshotArgv() against a real ovsdb-server.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ovs/${name}`, import.meta.url), 'utf8');

describe('OVSDB JSON cells', () => {
  it('reads a one-element set given as a bare atom and as ["set",[x]]', () => {
    expect(cellSet(['uuid', 'u1'])).toEqual(['u1']);
    expect(
      cellSet([
        'set',
        [
          ['uuid', 'u1'],
          ['uuid', 'u2'],
        ],
      ]),
    ).toEqual(['u1', 'u2']);
    expect(cellSet(1001)).toEqual([1001]);
    expect(cellSet(['set', []])).toEqual([]);
  });
  it('reads optional scalars', () => {
    expect(cellOptional(['set', []])).toBeNull();
    expect(cellOptional(5)).toBe(5);
    expect(() => cellOptional(['set', [1, 2]])).toThrow(/at most one/);
  });
  it('reads maps', () => {
    expect(cellMap(['map', [['attached-mac', '52:54:00:aa:bb:01']]])).toEqual({ 'attached-mac': '52:54:00:aa:bb:01' });
    expect(cellMap(['map', []])).toEqual({});
    expect(() => cellMap('x')).toThrow(/map/);
  });
});

describe('parseOvsSnapshot', () => {
  it('reads one round trip into bridges → ports → interfaces', () => {
    const snap = parseOvsSnapshot(fixture('snapshot-ovsdb-only.jsonl'));
    expect(snap.bridges.map((b) => b.name)).toEqual(['br-empty', 'ovsbr0']);
    const [empty, ovsbr0] = snap.bridges;
    // A bridge with one port: the ports cell is a bare uuid, not a set.
    expect(empty!.ports.map((p) => p.name)).toEqual(['br-empty']);
    expect(empty!.datapathType).toBe('');
    expect(ovsbr0!.datapathType).toBe('netdev');
    const ports = Object.fromEntries(ovsbr0!.ports.map((p) => [p.name, p]));
    expect(Object.keys(ports).sort()).toEqual(['enp5s0f0', 'ovsbr0', 'vnet0', 'vnet1']);
    expect(ports.enp5s0f0).toMatchObject({ tag: null, trunks: [1001, 1002], vlanMode: null });
    expect(ports.vnet0).toMatchObject({ tag: 1001, trunks: [], vlanMode: null });
    // A one-element trunks set arrives as a bare number.
    expect(ports.vnet1).toMatchObject({ tag: 5, trunks: [1001], vlanMode: 'native-untagged' });
    expect(ports.vnet0!.interfaces[0]!.externalIds).toEqual({ 'attached-mac': '52:54:00:aa:bb:01', 'iface-id': 'abc', 'vm-id': '1234' });
    expect(ports.ovsbr0!.interfaces[0]!.type).toBe('internal');
  });

  it('fails clearly on output that is not ovs-vsctl JSON', () => {
    expect(() => parseOvsSnapshot('ovs-vsctl: unix:/run/openvswitch/db.sock: database connection failed')).toThrow(/non-JSON/);
    expect(() => parseOvsSnapshot('{"data":[],"headings":[]}')).toThrow(/expected 3 tables .* got 1/);
  });

  it('asks for all three tables in one invocation', () => {
    const argv = snapshotArgv();
    expect(argv.filter((a) => a === 'list')).toHaveLength(3);
    expect(argv).toContain('--format=json');
  });
});

describe('parseOvsSnapshot on a lab host with running VMs', () => {
  // Captured by test/fixtures/capture-lab-fixtures.sh (ovs-vsctl 3.1.0, libvirt 9.0.0) while
  // vm-access (vlan-1001), vm-trunk (vlan-all) and vm-two-nics ran; see test/fixtures/libvirt.
  const snap = parseOvsSnapshot(fixture('snapshot-lab-running-vms.jsonl'));
  const ports = Object.fromEntries(snap.bridges[0]!.ports.map((p) => [p.name, p]));

  it('sees the vnetN ports libvirt added to the bridge', () => {
    expect(snap.bridges.map((b) => [b.name, b.datapathType])).toEqual([['ovsbr0', 'netdev']]);
    expect(Object.keys(ports)).toEqual(['ovsbr0', 'vnet0', 'vnet1', 'vnet2', 'vnet3']);
  });

  it('reads the VLANs libvirt set from portgroups and interface XML', () => {
    expect(ports.vnet0).toMatchObject({ tag: 1001, trunks: [], vlanMode: null });
    // A trunk portgroup sets only `trunks`: no tag, no vlan_mode.
    expect(ports.vnet1).toMatchObject({ tag: null, trunks: [1001, 1002], vlanMode: null });
    // The default portgroup has no VLAN: the port carries neither tag nor trunks.
    expect(ports.vnet2).toMatchObject({ tag: null, trunks: [], vlanMode: null });
    expect(ports.vnet3).toMatchObject({ tag: 1002, trunks: [] });
  });

  it('links each port to its VM through external_ids', () => {
    const iface = ports.vnet3!.interfaces[0]!;
    expect(iface).toMatchObject({ name: 'vnet3', type: '', ofport: 4, error: null });
    // vm-id is the domain UUID; iface-id is the interfaceid of the domain XML's <virtualport>.
    expect(iface.externalIds).toEqual({
      'attached-mac': '52:54:00:7c:00:04',
      'iface-id': expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      'iface-status': 'active',
      'vm-id': '0d0c0000-0000-4000-8000-000000000003',
    });
    expect(ports.ovsbr0!.interfaces[0]).toMatchObject({ type: 'internal', ofport: 65534, externalIds: {} });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  combinedReadArgv,
  inventoryRound1Argv,
  inventoryRound2Argv,
  MAX_BATCH_BYTES,
  newMarker,
  parseRound1,
  parseRound2,
  splitCombinedRead,
  VIRSH,
} from '../../src/libvirt/virsh-batch.ts';

// Captured from virsh 9.0.0 (Debian 12) on a lab host by test/fixtures/capture-lab-fixtures.sh.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/libvirt/${name}`, import.meta.url), 'utf8');
const lines = (name: string) =>
  fixture(name)
    .split('\n')
    .filter((l) => l !== '');
const MARK = '::tl-c0ffee15ca9e::';

const DOM = (n: number) => `0d0c0000-0000-4000-8000-00000000000${n}`;
const NET = (n: number) => `6e0f2a1c-0000-4000-8000-00000000a00${n}`;

describe('virsh batch markers', () => {
  it('makes a fresh, unguessable marker line each time', () => {
    const a = newMarker();
    expect(a).toMatch(/^::tl-[0-9a-f]{12}::$/);
    expect(newMarker()).not.toBe(a);
  });
});

describe('round 1 (lists)', () => {
  it('is one virsh invocation with one ;-separated command string', () => {
    expect(inventoryRound1Argv(MARK)).toEqual([
      ...VIRSH,
      `version; echo ${MARK}; list --all --uuid; echo ${MARK}; net-list --all --uuid; echo ${MARK}`,
    ]);
    expect(VIRSH).toEqual(['virsh', '-c', 'qemu:///system']);
  });

  it('refuses a marker that is not ::tl-<12 hex>::', () => {
    expect(() => inventoryRound1Argv('; destroy vm')).toThrow(/marker/);
  });

  it('reads a host without domains or networks', () => {
    // `list --uuid` with nothing to list still prints one empty line.
    expect(parseRound1(fixture('round1-empty.txt'), MARK)).toEqual({
      versions: { libvirt: '9.0.0', qemu: '7.2.22' },
      domainUuids: [],
      networkUuids: [],
    });
  });

  it('reads several domains (running first, then inactive by name) and networks', () => {
    const r = parseRound1(fixture('round1.txt'), MARK);
    expect(r.versions).toEqual({ libvirt: '9.0.0', qemu: '7.2.22' });
    expect(r.domainUuids).toEqual([DOM(1), DOM(2), DOM(3), DOM(6), DOM(5), DOM(4)]);
    expect(r.networkUuids).toEqual([NET(2), NET(3), NET(1), NET(4)]);
  });

  it('fails clearly on output that is not the batch', () => {
    expect(() => parseRound1('', MARK)).toThrow(/0 sections, expected 3/);
    expect(() => parseRound1('error: failed to connect to the hypervisor\n', MARK)).toThrow(/0 sections/);
    // Right number of markers, but the first section is not `virsh version`.
    expect(() => parseRound1(`hello\n${MARK}\n\n${MARK}\n\n${MARK}\n`, MARK)).toThrow(/version/);
    expect(() => parseRound1(fixture('round1.txt').replace(DOM(2), 'vm-trunk'), MARK)).toThrow(/not a UUID: "vm-trunk"/);
    // The marker of another read does not split this one.
    expect(() => parseRound1(fixture('round1.txt'), '::tl-000000000000::')).toThrow(/sections/);
  });
});

describe('round 2 (definitions)', () => {
  const domainUuids = lines('round2.domain-uuids');
  const networkUuids = lines('round2.network-uuids');

  it('builds exactly the command string the capture ran', () => {
    expect(inventoryRound2Argv(MARK, domainUuids, networkUuids)).toEqual([...VIRSH, fixture('round2.cmd').trimEnd()]);
  });

  it('returns null when there is nothing to read (the caller skips the invocation)', () => {
    expect(inventoryRound2Argv(MARK, [], [])).toBeNull();
    expect(inventoryRound2Argv(MARK, [], [NET(1)])).toEqual([
      ...VIRSH,
      `net-dumpxml ${NET(1)}; echo ${MARK}; net-info ${NET(1)}; echo ${MARK}`,
    ]);
  });

  it('refuses anything but lowercase libvirt UUIDs', () => {
    for (const bad of [`${DOM(1)}; destroy vm-access`, 'vm-access', DOM(1).toUpperCase(), `${DOM(1)}\n`, `'${DOM(1)}'`, ''])
      expect(() => inventoryRound2Argv(MARK, [DOM(2), bad], []), bad).toThrow(/refusing domain UUID/);
    expect(() => inventoryRound2Argv(MARK, [], ['default'])).toThrow(/refusing network UUID "default"/);
  });

  it('refuses a batch longer than one argv string may be', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `0d0c0000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(() => inventoryRound2Argv(MARK, many, [])).toThrow(new RegExp(`${MAX_BATCH_BYTES}-byte`));
    expect(inventoryRound2Argv(MARK, many.slice(0, 700), [])).not.toBeNull();
  });

  const { domains, networks } = parseRound2(fixture('round2.txt'), MARK, domainUuids, networkUuids);

  it('skips the domain and the network that vanished between the rounds', () => {
    // vm-gone and net-gone were undefined after round 1: virsh printed only a blank line for
    // each of their commands (errors went to stderr) and still exited 0.
    expect(fixture('round2.exit-code').trim()).toBe('0');
    expect(fixture('round2.stderr')).toContain(`failed to get domain '${DOM(6)}'`);
    expect(domains.map((d) => d.name)).toEqual(['vm-access', 'vm-mem', 'vm-off', 'vm-trunk', 'vm-two-nics']);
    expect(networks.map((n) => n.name)).toEqual(['isolated', 'ovs-network', 'ovs-transient']);
  });

  const dom = (name: string) => domains.find((d) => d.name === name)!;
  const net = (name: string) => networks.find((n) => n.name === name)!;

  it('reads a running VM on an access portgroup: type bridge, vnetN target, VLAN tag', () => {
    expect(dom('vm-access')).toEqual({
      name: 'vm-access',
      uuid: DOM(1),
      state: 'running',
      vcpus: 1,
      memoryKiB: 65536,
      interfaces: [
        {
          type: 'bridge',
          mac: '52:54:00:7c:00:01',
          network: 'ovs-network',
          portgroup: 'vlan-1001',
          bridge: 'ovsbr0',
          target: 'vnet0',
          virtualportType: 'openvswitch',
          model: 'virtio',
          vlan: { tags: [1001], trunk: false, nativeMode: null },
        },
      ],
    });
  });

  it('reads a running VM on the trunk portgroup', () => {
    expect(dom('vm-trunk').interfaces).toEqual([
      expect.objectContaining({
        type: 'bridge',
        portgroup: 'vlan-all',
        target: 'vnet1',
        model: 'e1000',
        vlan: { tags: [1001, 1002], trunk: true, nativeMode: null },
      }),
    ]);
  });

  it('reads a VM with two NICs in document order', () => {
    const [viaNetwork, direct] = dom('vm-two-nics').interfaces;
    // The network's default portgroup: a running VM's XML names neither it nor a VLAN.
    expect(viaNetwork).toMatchObject({
      type: 'bridge',
      network: 'ovs-network',
      portgroup: null,
      bridge: 'ovsbr0',
      target: 'vnet2',
      vlan: null,
    });
    // Wired to the OVS bridge without a libvirt network, with its own VLAN.
    expect(direct).toMatchObject({
      type: 'bridge',
      network: null,
      bridge: 'ovsbr0',
      target: 'vnet3',
      virtualportType: 'openvswitch',
      vlan: { tags: [1002], trunk: false },
    });
  });

  it('reads a shut-off VM: type network, no target, no bridge', () => {
    expect(dom('vm-off')).toMatchObject({ state: 'shut off', memoryKiB: 65536 });
    expect(dom('vm-off').interfaces).toEqual([
      {
        type: 'network',
        mac: '52:54:00:7c:00:05',
        network: 'ovs-network',
        portgroup: 'vlan-1002',
        bridge: null,
        target: null,
        virtualportType: null,
        model: 'virtio',
        vlan: null,
      },
    ]);
  });

  it('reads memory and vcpus as libvirt rewrote them (defined as 1 GiB, current=1 of 2 vcpus)', () => {
    expect(dom('vm-mem')).toMatchObject({ state: 'shut off', memoryKiB: 1048576, vcpus: 1 });
    expect(dom('vm-mem').interfaces).toEqual([
      expect.objectContaining({ type: 'direct', network: null, bridge: null, target: null, model: 'virtio' }),
    ]);
  });

  it('reads the reference network with its portgroups, and its net-info flags', () => {
    expect(net('ovs-network')).toEqual({
      name: 'ovs-network',
      uuid: NET(1),
      forwardMode: 'bridge',
      bridge: 'ovsbr0',
      virtualportType: 'openvswitch',
      active: true,
      persistent: true,
      autostart: true,
      portgroups: [
        { name: 'vlan-0001', isDefault: true, vlan: null },
        { name: 'vlan-1001', isDefault: false, vlan: { tags: [1001], trunk: false, nativeMode: null } },
        { name: 'vlan-1002', isDefault: false, vlan: { tags: [1002], trunk: false, nativeMode: null } },
        { name: 'vlan-all', isDefault: false, vlan: { tags: [1001, 1002], trunk: true, nativeMode: null } },
        { name: 'vlan-native', isDefault: false, vlan: { tags: [1001, 1002], trunk: true, nativeMode: 'untagged' } },
      ],
    });
  });

  it('reads an inactive network without <forward> and a transient one without portgroups', () => {
    expect(net('isolated')).toEqual({
      name: 'isolated',
      uuid: NET(2),
      forwardMode: null,
      bridge: 'virbr-iso',
      virtualportType: null,
      active: false,
      persistent: true,
      autostart: false,
      portgroups: [],
    });
    expect(net('ovs-transient')).toMatchObject({
      forwardMode: 'bridge',
      active: true,
      persistent: false,
      autostart: false,
      portgroups: [],
    });
  });

  it('fails clearly when the output does not match the UUIDs asked for', () => {
    // One object fewer than the output holds: the section count tells.
    expect(() => parseRound2(fixture('round2.txt'), MARK, domainUuids.slice(1), networkUuids)).toThrow(/sections, expected 18/);
    // Same count, different order: the UUID inside the XML tells.
    const swapped = [domainUuids[1]!, domainUuids[0]!, ...domainUuids.slice(2)];
    expect(() => parseRound2(fixture('round2.txt'), MARK, swapped, networkUuids)).toThrow(/returned the XML of/);
    expect(() => parseRound2('garbage\n', MARK, [DOM(1)], [])).toThrow(/0 sections, expected 2/);
    expect(() => parseRound2(`garbage\n${MARK}\nrunning\n${MARK}\n`, MARK, [DOM(1)], [])).toThrow(/not well-formed XML/);
    expect(() => parseRound2(`<network/>\n${MARK}\nrunning\n${MARK}\n`, MARK, [DOM(1)], [])).toThrow(/expected one <domain> root/);
  });
});

describe('the combined read (round 1 and the known objects in one virsh process)', () => {
  const doms = lines('round2.domain-uuids');
  const nets = lines('round2.network-uuids');

  it('is round 1 followed by round 2 in one command string', () => {
    const combined = combinedReadArgv(MARK, doms, nets);
    expect(combined.slice(0, 3)).toEqual(VIRSH);
    expect(combined[3]).toBe(`${inventoryRound1Argv(MARK)[3]}; ${inventoryRound2Argv(MARK, doms, nets)![3]}`);
    expect(combinedReadArgv(MARK, [], [])).toEqual(inventoryRound1Argv(MARK));
    expect(() => combinedReadArgv(MARK, ['$(reboot)'], [])).toThrow(/not a lowercase libvirt UUID/);
  });

  it('splits after round 1’s three sections; both halves parse as the rounds they are', () => {
    // One virsh process prints each command's output in turn: the captured rounds, one after the other.
    const [r1, r2] = splitCombinedRead(fixture('round1.txt') + fixture('round2.txt'), MARK);
    expect(parseRound1(r1, MARK)).toEqual(parseRound1(fixture('round1.txt'), MARK));
    expect(parseRound2(r2, MARK, doms, nets)).toEqual(parseRound2(fixture('round2.txt'), MARK, doms, nets));
    expect(() => splitCombinedRead('Using library: libvirt 9.0.0\n', MARK)).toThrow(/1 of round 1|0 of round 1/);
  });
});

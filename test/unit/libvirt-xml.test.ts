import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryToKiB, parseDomainXml } from '../../src/libvirt/domain-xml.ts';
import { parseNetInfo, parseNetworkXml } from '../../src/libvirt/network-xml.ts';

// Real virsh output and the XML the capture defined objects from
// (test/fixtures/capture-lab-fixtures.sh, libvirt 9.0.0 on Debian 12).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/libvirt/${name}`, import.meta.url), 'utf8');

describe('memoryToKiB', () => {
  it.each([
    ['65536', null, 65536], // libvirt's default unit is KiB
    ['65536', '', 65536],
    ['65536', 'KiB', 65536],
    ['65536', 'k', 65536],
    ['65536', 'K', 65536],
    ['64', 'MiB', 65536],
    ['64', 'M', 65536],
    ['1', 'GiB', 1048576],
    ['1', 'G', 1048576],
    ['1', 'TiB', 1073741824],
    ['2048', 'KB', 2000], // decimal units: 2,048,000 bytes
    ['1', 'MB', 977], // 1,000,000 bytes = 976.56 KiB, rounded up like libvirt
    ['1', 'GB', 976563],
    ['1048576', 'b', 1024],
    ['1048576', 'bytes', 1024],
    ['1', 'bytes', 1],
    ['0', 'MiB', 0],
  ])('%s %s → %i KiB', (value, unit, kib) => {
    expect(memoryToKiB(value, unit)).toBe(kib);
  });

  it('refuses units and amounts libvirt would refuse', () => {
    expect(() => memoryToKiB('1', 'pages')).toThrow(/unknown libvirt memory unit "pages"/);
    expect(() => memoryToKiB('1', 'MiBs')).toThrow(/unit/);
    expect(() => memoryToKiB('1.5', 'GiB')).toThrow(/bad libvirt memory amount/);
    expect(() => memoryToKiB('-1', 'GiB')).toThrow(/amount/);
  });
});

describe('parseDomainXml', () => {
  it('reads memory units and vcpu current= in a defining XML', () => {
    // define/vm-mem.xml says <memory unit='GiB'>1</memory> and <vcpu current='1'>2</vcpu>.
    expect(fixture('define/vm-mem.xml')).toContain("<memory unit='GiB'>1</memory>");
    expect(parseDomainXml(fixture('define/vm-mem.xml'))).toMatchObject({ name: 'vm-mem', memoryKiB: 1048576, vcpus: 1 });
    expect(parseDomainXml(fixture('define/vm-access.xml'))).toMatchObject({ memoryKiB: 65536, vcpus: 1 });
  });

  it('reads the inactive definition of a running VM (what --inactive / shut-off VMs print)', () => {
    expect(parseDomainXml(fixture('dumpxml-inactive-vm-access.xml')).interfaces).toEqual([
      {
        type: 'network',
        mac: '52:54:00:7c:00:01',
        network: 'ovs-network',
        portgroup: 'vlan-1001',
        bridge: null,
        target: null,
        virtualportType: null,
        model: 'virtio',
        vlan: null,
      },
    ]);
  });

  it('reads a domain without interfaces (and without <devices>)', () => {
    expect(parseDomainXml(fixture('define/vm-gone.xml')).interfaces).toEqual([]);
    expect(parseDomainXml("<domain type='qemu'><name>x</name><uuid>u</uuid><memory>1024</memory><vcpu>1</vcpu></domain>")).toEqual({
      name: 'x',
      uuid: 'u',
      vcpus: 1,
      memoryKiB: 1024,
      interfaces: [],
    });
  });

  it('decodes XML entities in names', () => {
    expect(parseDomainXml('<domain><name>a&amp;b</name><uuid>u</uuid><memory>1</memory><vcpu>1</vcpu></domain>').name).toBe('a&b');
  });

  it('fails clearly on garbage', () => {
    expect(() => parseDomainXml('error: failed to get domain')).toThrow(/domain XML is not well-formed XML/);
    expect(() => parseDomainXml('')).toThrow(/not well-formed/);
    expect(() => parseDomainXml(fixture('define/ovs-network.xml'))).toThrow(/expected one <domain> root element, got <network>/);
    expect(() => parseDomainXml('<domain><uuid>u</uuid></domain>')).toThrow(/has no <name>/);
    expect(() => parseDomainXml('<domain><name>x</name><uuid>u</uuid><vcpu>1</vcpu></domain>')).toThrow(/domain x has no <memory>/);
    expect(() => parseDomainXml('<domain><name>x</name><uuid>u</uuid><memory>1</memory><vcpu>many</vcpu></domain>')).toThrow(/<vcpu>/);
    expect(() =>
      parseDomainXml(
        "<domain><name>x</name><uuid>u</uuid><memory>1</memory><vcpu>1</vcpu><devices><interface type='network'><vlan><tag id='x'/></vlan></interface></devices></domain>",
      ),
    ).toThrow(/bad <vlan><tag id="x">/);
  });
});

describe('parseNetworkXml', () => {
  it('reads a defining XML the same way as the live one', () => {
    const net = parseNetworkXml(fixture('define/ovs-network.xml'));
    expect(net.portgroups.map((p) => [p.name, p.isDefault, p.vlan?.tags ?? null])).toEqual([
      ['vlan-0001', true, null],
      ['vlan-1001', false, [1001]],
      ['vlan-1002', false, [1002]],
      ['vlan-all', false, [1001, 1002]],
      ['vlan-native', false, [1001, 1002]],
    ]);
  });

  it('reads an isolated network (no <forward>, no portgroups)', () => {
    expect(parseNetworkXml(fixture('define/isolated.xml'))).toEqual({
      name: 'isolated',
      uuid: '6e0f2a1c-0000-4000-8000-00000000a002',
      forwardMode: null,
      bridge: 'virbr-iso',
      virtualportType: null,
      portgroups: [],
    });
  });

  it('reads <forward/> without a mode as nat, like libvirt', () => {
    expect(parseNetworkXml('<network><name>n</name><uuid>u</uuid><forward/></network>').forwardMode).toBe('nat');
  });

  it('fails clearly on garbage', () => {
    expect(() => parseNetworkXml('error: failed to get network')).toThrow(/network XML is not well-formed/);
    expect(() => parseNetworkXml('<network><uuid>u</uuid></network>')).toThrow(/no <name>/);
  });
});

describe('parseNetInfo', () => {
  it('reads an active persistent network', () => {
    const text =
      'Name:           ovs-network\nUUID:           6e0f2a1c-0000-4000-8000-00000000a001\nActive:         yes\nPersistent:     yes\nAutostart:      yes\nBridge:         ovsbr0\n\n';
    expect(parseNetInfo(text)).toEqual({ active: true, persistent: true, autostart: true, bridge: 'ovsbr0' });
  });

  it('reads net-info sections of the capture (inactive defined, transient)', () => {
    const sections = fixture('round2.txt').split('::tl-c0ffee15ca9e::\n');
    const infos = sections.filter((s) => s.startsWith('Name:')).map(parseNetInfo);
    expect(infos).toEqual([
      { active: false, persistent: true, autostart: false, bridge: 'virbr-iso' },
      { active: true, persistent: true, autostart: true, bridge: 'ovsbr0' },
      { active: true, persistent: false, autostart: false, bridge: 'ovsbr0' },
    ]);
  });

  it('reads a network without a Bridge line', () => {
    expect(parseNetInfo('Name: d\nUUID: u\nActive: no\nPersistent: yes\nAutostart: no\n').bridge).toBeNull();
  });

  it('fails clearly on garbage', () => {
    expect(() => parseNetInfo('')).toThrow(/expected "Active: yes\|no", got null/);
    expect(() => parseNetInfo('Active: maybe\n')).toThrow(/got "maybe"/);
  });
});

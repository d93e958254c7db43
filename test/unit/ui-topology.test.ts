import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assignVlanColors, VLAN_PALETTE } from '../../ui/src/colors.ts';
import { attachmentsOf, buildTopology, type TopoEdge, type TopoNode, uplinkText } from '../../ui/src/topology-model.ts';
import type { FleetData } from '../../ui/src/types.ts';

/**
 * The topology's view model, fed with a real answer of the UI's fleet query (captured from the
 * lab by test/e2e/ui.test.ts with TRUNKLINE_UI_CAPTURE_FIXTURES=1): hv1 and hv2 with the
 * reference VLANs 1001 and 1002, VLAN 1891 ("ui-live") just ensured on both, hv2's uplink not
 * trunking 1002, VMs on access and trunk portgroups (one shut off), internal ports.
 */
const fleet: FleetData = JSON.parse(readFileSync(new URL('../fixtures/ui/fleet.json', import.meta.url), 'utf8'));

const nodesOf = (els: ReturnType<typeof buildTopology>['elements']) => els.filter((e): e is TopoNode => e.group === 'nodes');
const edgesOf = (els: ReturnType<typeof buildTopology>['elements']) => els.filter((e): e is TopoEdge => e.group === 'edges');
const byId = (els: ReturnType<typeof buildTopology>['elements']) => new Map(nodesOf(els).map((n) => [n.data.id, n]));
const classes = (n: TopoNode | undefined) => n?.classes.split(' ') ?? [];

describe('VLAN colours', () => {
  it('gives every VLAN its own colour, the reference VLANs blue and orange, kept when a VLAN with a free slot is added', () => {
    const tags = fleet.vlans.map((v) => v.tag);
    expect(tags).toEqual([1001, 1002, 1891]);
    const colors = assignVlanColors(tags);
    expect(colors.get(1001)).toBe('#2f6fdf');
    expect(colors.get(1002)).toBe('#e8710a');
    expect(new Set(colors.values()).size).toBe(3);
    const more = assignVlanColors([...tags, 1004, 3000]);
    for (const t of tags) expect(more.get(t)).toBe(colors.get(t));
    // 1003 prefers 1891's slot and comes first: 1891 moves on, the others keep theirs.
    const shifted = assignVlanColors([...tags, 1003]);
    expect([shifted.get(1001), shifted.get(1002), shifted.get(1003)]).toEqual([colors.get(1001), colors.get(1002), colors.get(1891)]);
    expect(shifted.get(1891)).not.toBe(colors.get(1891));
  });

  it('passes a taken slot on to the next free one, and repeats colours only past the palette', () => {
    const n = VLAN_PALETTE.length;
    const colors = assignVlanColors([5, 5 + n, 5 + 2 * n]);
    expect(new Set(colors.values()).size).toBe(3);
    const many = assignVlanColors(Array.from({ length: n + 1 }, (_, i) => 100 + i));
    expect(new Set(many.values()).size).toBe(n);
  });
});

describe('the topology of the lab', () => {
  const model = buildTopology(fleet);
  const nodes = byId(model.elements);

  it('draws both hosts hanging from the switch by their uplinks, each with its bridge', () => {
    expect(
      nodesOf(model.elements)
        .filter((n) => n.data.kind === 'host')
        .map((n) => n.data.id),
    ).toEqual(['host:hv1', 'host:hv2']);
    const uplinks = edgesOf(model.elements).filter((e) => e.data.kind === 'uplink');
    expect(uplinks.map((e) => [e.data.source, e.data.target, e.data.label])).toEqual([
      ['switch', 'uplink:hv1', 'trunk 1001,1002,1891'],
      ['switch', 'uplink:hv2', 'trunk 1001,1891'],
    ]);
    for (const h of ['hv1', 'hv2']) {
      expect(nodes.get(`bridge:${h}:ovsbr0`)?.data.parent).toBe(`host:${h}`);
      expect(nodes.get(`uplink:${h}`)?.data.label).toBe('enp5s0f0');
    }
    expect(nodes.get('host:hv1')?.data.label).toMatch(/^hv1 {2}· {2}198\.18\.\d+\.\d+ {2}· {2}reachable$/);
  });

  it('lays the VLANs out as lanes across every host, with a cell per host saying how its uplink carries the VLAN', () => {
    expect(model.lanes.map((l) => [l.key, l.label])).toEqual([
      ['vlan:1001', 'VLAN 1001'],
      ['vlan:1002', 'VLAN 1002'],
      ['vlan:1891', 'VLAN 1891\nui-live'],
      ['trunk', 'trunks\n(several VLANs)'],
    ]);
    const ys = model.lanes.map((l) => l.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    for (const lane of model.lanes.filter((l) => l.tag !== null))
      for (const h of ['hv1', 'hv2']) {
        const cell = nodes.get(`cell:${h}:${lane.tag}`)!;
        expect(cell.position.y).toBe(lane.y);
        expect(cell.data.color).toBe(model.colors.get(lane.tag!));
      }
    expect(classes(nodes.get('cell:hv2:1001'))).toEqual(['cell', 'carried']);
    expect(nodes.get('cell:hv2:1001')?.data.label).toBe('1001\ntrunked');
  });

  it('highlights drift: the VLAN hv2’s uplink does not trunk, and the NIC whose port carries more than its portgroup says', () => {
    const missing = nodes.get('cell:hv2:1002')!;
    expect(classes(missing)).toEqual(expect.arrayContaining(['not-carried', 'drift']));
    expect(missing.data.label).toBe('1002 ⚠\nnot carried');
    expect(missing.data.details.join('\n')).toMatch(/drift UPLINK_MISSING: uplink enp5s0f0 on ovsbr0 does not trunk VLAN 1002/);
    const router = nodesOf(model.elements).find((n) => n.data.id.startsWith('nic:hv1:router-1:'))!;
    expect(classes(router)).toContain('drift');
    // Reported under each of the NIC's VLANs by the API, listed once.
    expect(model.drift.map((d) => `${d.hypervisorName} ${d.kind} ${d.subject}`)).toEqual([
      'hv1 VM_PORT_TAG_DIFFERS router-1/52:54:00:91:00:02',
      'hv2 UPLINK_MISSING enp5s0f0',
    ]);
    expect(nodes.get('lane-label:vlan:1002')?.classes).toContain('drift');
  });

  it('puts NICs and ports in the lane of their VLAN on a wire from the cell, trunks in rows of the trunk lane with a stripe per VLAN', () => {
    const at = (id: string) => nodes.get(id)!.position;
    const lane = (key: string) => model.lanes.find((l) => l.key === key)!.y;
    const web1 = nodesOf(model.elements).find((n) => n.data.id.startsWith('nic:hv1:web-1:'))!;
    expect(web1.data.label).toBe('web-1\nvnet0');
    expect(web1.position.y).toBe(lane('vlan:1001'));
    expect(at('port:hv1:ovsbr0:mon-1001').y).toBe(lane('vlan:1001'));
    const edges = edgesOf(model.elements);
    // The 1001 wire on hv1: cell → port mon-1001 → web-1 (left to right).
    expect(edges.filter((e) => e.data.target === 'port:hv1:ovsbr0:mon-1001').map((e) => e.data.source)).toEqual(['cell:hv1:1001']);
    expect(edges.filter((e) => e.data.target === web1.data.id).map((e) => e.data.source)).toEqual(['port:hv1:ovsbr0:mon-1001']);
    expect(at('port:hv1:ovsbr0:mon-1001').x).toBeLessThan(web1.position.x);
    // router-1 (portgroup vlan-all) and port lb-trunk carry several VLANs: a row each in the
    // trunk lane, a ribbon from the bridge with a stripe per VLAN, side by side.
    const trunk = model.lanes.find((l) => l.key === 'trunk')!;
    const router = nodesOf(model.elements).find((n) => n.data.id.startsWith('nic:hv1:router-1:'))!;
    const lb = nodes.get('port:hv1:ovsbr0:lb-trunk')!;
    expect(lb.position.x).toBe(router.position.x);
    expect(router.position.y - lb.position.y).toBeGreaterThan(40);
    for (const n of [lb, router]) {
      expect(Math.abs(n.position.y - trunk.y)).toBeLessThan(trunk.height / 2);
    }
    const stripes = edges.filter((e) => e.data.target === router.data.id);
    expect(stripes.map((e) => [e.data.source, e.data.color, e.data.label])).toEqual([
      ['bridge:hv1:ovsbr0', model.colors.get(1001), ''],
      ['bridge:hv1:ovsbr0', model.colors.get(1002), '1001,1002,1891'],
      ['bridge:hv1:ovsbr0', model.colors.get(1891), ''],
    ]);
    expect(stripes.map((e) => e.data.targetEndpoint)).toEqual(['-50% -4px', '-50% 0px', '-50% 4px']);
    expect(edges.filter((e) => e.data.target === lb.data.id).map((e) => e.data.color)).toEqual([
      model.colors.get(1001),
      model.colors.get(1002),
    ]);
    // A shut-off VM's NIC: where its portgroup puts it, drawn as not plugged.
    const db1 = nodesOf(model.elements).find((n) => n.data.id.startsWith('nic:hv1:db-1:'))!;
    expect(db1.position.y).toBe(lane('vlan:1002'));
    expect(db1.data.label).toBe('db-1\nshut off');
    expect(classes(db1)).toContain('down');
  });

  it('is a consistent graph: unique ids, edges between drawn nodes, children inside drawn hosts, no two nodes of a host on one spot', () => {
    const ids = model.elements.map((e) => e.data.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of edgesOf(model.elements)) {
      expect(nodes.has(e.data.source), e.data.id).toBe(true);
      expect(nodes.has(e.data.target), e.data.id).toBe(true);
    }
    const spots = new Set<string>();
    for (const n of nodesOf(model.elements)) {
      if (n.data.parent) expect(nodes.get(n.data.parent)?.data.kind).toBe('host');
      if (!n.data.parent) continue;
      const spot = `${n.position.x},${n.position.y}`;
      expect(spots.has(spot), n.data.id).toBe(false);
      spots.add(spot);
    }
    expect(model.stats).toEqual({ hosts: 2, vms: 5, nics: 5, vlans: 3, drift: 2 });
  });

  it('filters by VLAN: its lane, and the NICs and ports on it (trunks too); the filter lists still offer everything', () => {
    const only = buildTopology(fleet, { vlan: 1002, host: null });
    expect(only.lanes.map((l) => l.key)).toEqual(['vlan:1002', 'trunk']);
    const drawn = nodesOf(only.elements)
      .filter((n) => n.data.kind === 'nic' || n.data.kind === 'port')
      .map((n) => n.data.label.split('\n')[n.data.kind === 'port' ? 1 : 0])
      .sort();
    expect(drawn).toEqual(['db-1', 'db-2', 'lb-trunk', 'router-1']);
    expect(only.tags).toEqual([1001, 1002, 1891]);
    expect(only.drift.map((d) => d.kind)).toEqual(['VM_PORT_TAG_DIFFERS', 'UPLINK_MISSING']);
  });

  it('filters by host: that host alone, with every VLAN lane', () => {
    const hv2 = buildTopology(fleet, { vlan: null, host: 'hv2' });
    expect(
      nodesOf(hv2.elements)
        .filter((n) => n.data.kind === 'host')
        .map((n) => n.data.id),
    ).toEqual(['host:hv2']);
    expect(hv2.lanes.map((l) => l.key)).toEqual(['vlan:1001', 'vlan:1002', 'vlan:1891']); // no trunk NIC on hv2
    expect(hv2.hostNames).toEqual(['hv1', 'hv2']);
    expect(hv2.drift.map((d) => d.hypervisorName)).toEqual(['hv2']);
  });

  it('reads each NIC’s VLANs from its live port, else from its configuration', () => {
    const hv1 = fleet.hypervisors.find((h) => h.name === 'hv1')!;
    const all = attachmentsOf(hv1, []);
    expect(all.map((a) => [a.label.replace('\n', ' '), a.lane, a.tags, a.live])).toEqual([
      ['db-1 shut off', 'vlan:1002', [1002], false],
      ['router-1 vnet1', 'trunk', [1001, 1002, 1891], true],
      ['web-1 vnet0', 'vlan:1001', [1001], true],
      ['port lb-trunk', 'trunk', [1001, 1002], true],
      ['port mon-1001', 'vlan:1001', [1001], true],
    ]);
  });

  it('says how an uplink carries VLANs', () => {
    expect(uplinkText(fleet.hypervisors[0]!.uplink)).toBe('trunk 1001,1002,1891');
    expect(uplinkText(null)).toBe('no uplink');
    expect(uplinkText({ name: 'eth0', tag: 7, trunks: [], vlanMode: null })).toBe('access 7');
    expect(uplinkText({ name: 'eth0', tag: null, trunks: [], vlanMode: null })).toBe('trunk: all VLANs');
  });
});

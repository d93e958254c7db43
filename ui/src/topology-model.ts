import { assignVlanColors, TRUNK_COLOR, UNTAGGED_COLOR } from './colors.ts';
import { tagList } from './format.ts';
import type { FleetData, Hypervisor, UplinkCarriage, VlanDrift, VlanSummary } from './types.ts';

/*
 * The topology as a picture: fleet query answer → cytoscape elements with fixed positions.
 * Hosts are columns (compound nodes) hanging from the switch by their uplink, with their
 * bridges; VLANs are horizontal lanes across every host, in the VLAN's colour. Where a lane
 * crosses a host, a cell says how the host's uplink carries the VLAN (dashed when it does not,
 * red with drift); VM NICs and other ports sit in the lane of their VLAN on its wire, NICs and
 * ports that carry several VLANs in a trunk lane (a row each, a ribbon from the bridge with a
 * stripe per VLAN), untagged ones in their own lane. Pure: no DOM, no
 * cytoscape, so tests feed it captured answers.
 */

export interface TopologyFilter {
  vlan: number | null;
  host: string | null;
}

export interface TopoNode {
  group: 'nodes';
  data: {
    id: string;
    parent?: string;
    label: string;
    kind: NodeKind;
    color: string;
    /** Lines for the details panel. */
    details: string[];
    width?: number;
    height?: number;
    host?: string;
    tag?: number;
  };
  position: { x: number; y: number };
  classes: string;
  grabbable?: boolean;
  selectable?: boolean;
}

export interface TopoEdge {
  group: 'edges';
  data: {
    id: string;
    source: string;
    target: string;
    label: string;
    color: string;
    kind: EdgeKind;
    /** Where the edge leaves the bus bar, and meets its target (cytoscape's source-/target-endpoint). */
    sourceEndpoint?: string;
    targetEndpoint?: string;
  };
  classes: string;
}

export type TopoElement = TopoNode | TopoEdge;
export type NodeKind = 'switch' | 'host' | 'uplink' | 'bridge' | 'cell' | 'nic' | 'port' | 'lane' | 'lane-label' | 'note';
export type EdgeKind = 'uplink' | 'attach' | 'vlan' | 'member';
export type LaneKind = 'vlan' | 'trunk' | 'untagged';

export interface Lane {
  key: string;
  kind: LaneKind;
  tag: number | null;
  label: string;
  color: string;
  /** Its middle, and its height (a trunk lane has a row per NIC or port). */
  y: number;
  height: number;
}

/** A VM NIC or another port on a bridge, placed in a lane. */
export interface Attachment {
  id: string;
  host: string;
  kind: 'nic' | 'port';
  label: string;
  bridge: string;
  /** VLANs it carries (the live port's, else what it is configured for). */
  tags: number[];
  /** An OVS port with neither tag nor trunks: every VLAN. */
  trunkAll: boolean;
  lane: string;
  /** VM NICs: the VM's state; false when the NIC is not plugged (VM not running). */
  live: boolean;
  drift: VlanDrift[];
  details: string[];
}

export interface TopologyModel {
  elements: TopoElement[];
  lanes: Lane[];
  colors: Map<number, string>;
  /** Every host and VLAN (not only those in view), for the filters. */
  hostNames: string[];
  tags: number[];
  /** Drift of the hosts and VLANs in view. */
  drift: VlanDrift[];
  stats: { hosts: number; vms: number; nics: number; vlans: number; drift: number };
}

// Layout (model units; cytoscape fits the view).
const Y_SWITCH = 0;
const Y_UPLINK = 130;
const Y_BRIDGE = 215;
const Y_LANE0 = 278;
const LANE_H = 84;
const ROW_H = 54;
const STRIPE = 4;
const COL_GAP = 70;
const BAR_DX = 24;
const CELL_DX = 100;
const SLOT0_DX = 160;
const SLOT_W = 132;
const MIN_COL_W = 320;
const LABEL_W = 150;

const CARRIAGE_TEXT: Record<UplinkCarriage, string> = {
  TRUNKED: 'trunked',
  TRUNKS_ALL: 'all VLANs',
  ACCESS: 'access',
  MISSING: 'not carried',
  NO_UPLINK: 'no uplink',
  UNKNOWN: 'not read',
};

export const laneKeyOf = (tag: number) => `vlan:${tag}`;
const TRUNK_LANE = 'trunk';
const UNTAGGED_LANE = 'untagged';

const shortMac = (mac: string | null) => (mac ? mac.split(':').slice(-2).join(':') : '?');

/** How the uplink port treats VLANs, as one edge label. */
export function uplinkText(uplink: Hypervisor['uplink']): string {
  if (!uplink) return 'no uplink';
  if (uplink.trunks.length) return `trunk ${tagList(uplink.trunks)}`;
  if (uplink.tag !== null) return `access ${uplink.tag}`;
  return 'trunk: all VLANs';
}

/** The NICs and ports of one host, with the VLANs each carries and the lane it goes in. */
export function attachmentsOf(h: Hypervisor, drift: readonly VlanDrift[]): Attachment[] {
  const out: Attachment[] = [];
  const laneOf = (tags: number[], trunkAll: boolean, trunk: boolean) =>
    trunkAll ? TRUNK_LANE : tags.length === 0 ? UNTAGGED_LANE : tags.length === 1 && !trunk ? laneKeyOf(tags[0]!) : TRUNK_LANE;
  for (const vm of h.vms.nodes)
    vm.interfaces.forEach((nic, i) => {
      const live = nic.vlanTags !== null;
      const tags = [...(nic.vlanTags ?? nic.configuredVlanTags)].sort((a, b) => a - b);
      const trunkAll = live && nic.trunksAllVlans;
      const nicDrift = drift.filter(
        (d) => d.hypervisorName === h.name && d.kind === 'VM_PORT_TAG_DIFFERS' && d.subject === `${vm.name}/${nic.mac}`,
      );
      out.push({
        id: `nic:${h.name}:${vm.name}:${nic.mac ?? i}`,
        host: h.name,
        kind: 'nic',
        label: `${vm.name}\n${nic.target ?? (live ? shortMac(nic.mac) : vm.state)}`,
        bridge: nic.bridge ?? h.defaults.bridge,
        tags,
        trunkAll,
        lane: laneOf(tags, trunkAll, nic.configuredTrunk),
        live,
        drift: nicDrift,
        details: [
          `VM ${vm.name} (${vm.state}) on ${h.name}`,
          `NIC ${nic.mac ?? '?'}${nic.target ? ` → OVS port ${nic.target}` : ' (not plugged)'}`,
          `network ${nic.network ?? '–'}, portgroup ${nic.portgroup ?? '–'}`,
          `configured VLANs: ${nic.configuredVlanTags.length ? tagList(nic.configuredVlanTags) : 'untagged'}${nic.configuredTrunk ? ' (trunk)' : ''}`,
          `in effect: ${!live ? 'not plugged' : trunkAll ? 'EVERY VLAN (no tag, no trunks)' : nic.vlanTags!.length ? tagList(nic.vlanTags!) : 'untagged'}`,
          ...nicDrift.map((d) => `drift: ${d.message}`),
        ],
      });
    });
  for (const b of h.bridges)
    for (const p of b.ports) {
      if (p.vmInterface || p.name === b.name || (b.name === h.defaults.bridge && p.name === h.defaults.uplink)) continue;
      const trunkAll = p.tag === null && p.trunks.length === 0;
      const tags = p.trunks.length ? [...p.trunks].sort((a, c) => a - c) : p.tag !== null ? [p.tag] : [];
      out.push({
        id: `port:${h.name}:${b.name}:${p.name}`,
        host: h.name,
        kind: 'port',
        label: `port\n${p.name}`,
        bridge: b.name,
        tags,
        trunkAll,
        lane: laneOf(tags, trunkAll, p.trunks.length > 0),
        live: true,
        drift: [],
        details: [
          `OVS port ${p.name} on ${b.name} (${h.name})`,
          `type ${p.interfaces.map((i) => i.type).join(', ') || '–'}${p.vlanMode ? `, vlan_mode ${p.vlanMode}` : ''}`,
          trunkAll ? 'carries EVERY VLAN (no tag, no trunks)' : p.trunks.length ? `trunks ${tagList(p.trunks)}` : `access ${p.tag}`,
          ...p.interfaces.filter((i) => i.error).map((i) => `error: ${i.error}`),
        ],
      });
    }
  return out;
}

export function buildTopology(fleet: FleetData, filter: TopologyFilter = { vlan: null, host: null }): TopologyModel {
  const colors = assignVlanColors(fleet.vlans.map((v) => v.tag));
  const allDrift = fleet.vlans.flatMap((v) => v.drift);
  const hosts = fleet.hypervisors.filter((h) => !filter.host || h.name === filter.host);
  const vlans = fleet.vlans.filter((v) => filter.vlan === null || v.tag === filter.vlan);
  const vlanByTag = new Map(fleet.vlans.map((v) => [v.tag, v]));
  const inView = (a: Attachment) => filter.vlan === null || a.tags.includes(filter.vlan) || (a.trunkAll && vlanByTag.has(filter.vlan));
  const attachments = new Map(hosts.map((h) => [h.name, attachmentsOf(h, allDrift).filter(inView)]));

  // Lanes: one per VLAN in view, then trunks, then untagged (only when something is in them).
  // Trunks each get a row of their own: their stripes come from the bridge without crossing others.
  const trunkRows = Math.max(0, ...[...attachments.values()].map((as) => as.filter((a) => a.lane === TRUNK_LANE).length));
  const wanted: Array<Omit<Lane, 'y' | 'height'> & { rows: number }> = vlans.map((v) => ({
    key: laneKeyOf(v.tag),
    kind: 'vlan' as const,
    tag: v.tag,
    label: v.name ? `VLAN ${v.tag}\n${v.name}` : `VLAN ${v.tag}`,
    color: colors.get(v.tag)!,
    rows: 1,
  }));
  const used = new Set([...attachments.values()].flat().map((a) => a.lane));
  if (used.has(TRUNK_LANE))
    wanted.push({ key: TRUNK_LANE, kind: 'trunk', tag: null, label: 'trunks\n(several VLANs)', color: TRUNK_COLOR, rows: trunkRows });
  if (used.has(UNTAGGED_LANE))
    wanted.push({ key: UNTAGGED_LANE, kind: 'untagged', tag: null, label: 'untagged', color: UNTAGGED_COLOR, rows: 1 });
  let top = Y_LANE0;
  const lanes: Lane[] = wanted.map(({ rows, ...l }) => {
    const height = Math.max(LANE_H, rows * ROW_H + 28);
    const lane = { ...l, y: top + height / 2, height };
    top += height;
    return lane;
  });
  const laneY = new Map(lanes.map((l) => [l.key, l.y]));

  const elements: TopoElement[] = [];
  const node = (n: Omit<TopoNode, 'group'>) => elements.push({ group: 'nodes', ...n });
  const edge = (e: TopoEdge['data'], classes = '', ends: Pick<TopoEdge['data'], 'sourceEndpoint' | 'targetEndpoint'> = {}) =>
    elements.push({ group: 'edges', data: { ...e, ...ends }, classes });

  // Columns: wide enough for the fullest lane of the host.
  let x = 0;
  const columns = hosts.map((h) => {
    const perLane = new Map<string, number>();
    for (const a of attachments.get(h.name)!) perLane.set(a.lane, (perLane.get(a.lane) ?? 0) + 1);
    const extraBridges = Math.max(0, h.bridges.length - 1);
    const width = Math.max(MIN_COL_W, SLOT0_DX + Math.max(1, ...perLane.values()) * SLOT_W, BAR_DX + 190 + 140 * extraBridges);
    const col = { h, x0: x, width };
    x += width + COL_GAP;
    return col;
  });
  const left = (columns[0]?.x0 ?? 0) - LABEL_W - 20;
  const right = columns.length ? columns.at(-1)!.x0 + columns.at(-1)!.width : 0;

  node({
    data: { id: 'switch', label: 'switch', kind: 'switch', color: TRUNK_COLOR, details: ['The L2 switch the hosts’ uplinks trunk to.'] },
    position: { x: (columns[0]?.x0 ?? 0) / 2 + right / 2, y: Y_SWITCH },
    classes: 'switch',
  });

  for (const lane of lanes) {
    node({
      data: {
        id: `lane:${lane.key}`,
        label: '',
        kind: 'lane',
        color: lane.color,
        details: [],
        width: right - left + 20,
        height: lane.height - 14,
      },
      position: { x: (left + right) / 2, y: lane.y },
      classes: `lane lane-${lane.kind}`,
      grabbable: false,
      selectable: false,
    });
    const v = lane.tag === null ? undefined : vlanByTag.get(lane.tag);
    node({
      data: {
        id: `lane-label:${lane.key}`,
        label: lane.label,
        kind: 'lane-label',
        color: lane.color,
        details: v
          ? vlanDetails(v)
          : [lane.kind === 'trunk' ? 'NICs and ports that carry several VLANs.' : 'NICs and ports without a VLAN.'],
        ...(lane.tag !== null ? { tag: lane.tag } : {}),
      },
      position: { x: left + LABEL_W / 2 + 4, y: lane.y },
      classes: `lane-label lane-${lane.kind}${v?.drift.length ? ' drift' : ''}`,
      grabbable: false,
    });
  }

  for (const { h, x0, width } of columns) {
    const hostId = `host:${h.name}`;
    const reachable = h.status === 'REACHABLE';
    node({
      data: {
        id: hostId,
        label: `${h.name}  ·  ${h.address}  ·  ${h.status.toLowerCase()}${h.stale ? ' (stale)' : ''}`,
        kind: 'host',
        color: reachable ? '#3a4a5c' : '#d93838',
        details: hostDetails(h),
        host: h.name,
      },
      position: { x: x0 + width / 2, y: Y_UPLINK },
      classes: `host status-${h.status.toLowerCase()}${h.stale ? ' stale' : ''}`,
    });
    if (!h.observedAt && h.bridges.length === 0) {
      node({
        data: {
          id: `note:${h.name}`,
          parent: hostId,
          label: h.lastError ? `not read: ${h.lastError.code}` : 'not read yet',
          kind: 'note',
          color: '#d93838',
          details: [h.lastError?.message ?? 'The host was never read.'],
          host: h.name,
        },
        position: { x: x0 + width / 2, y: Y_UPLINK },
        classes: 'note',
      });
      edge(
        { id: `e:switch:${h.name}`, source: 'switch', target: `note:${h.name}`, label: '', color: TRUNK_COLOR, kind: 'uplink' },
        'uplink missing',
      );
      continue;
    }

    // The uplink above the default bridge, drawn as a bus bar down across every lane.
    const barX = x0 + BAR_DX;
    const uplinkId = `uplink:${h.name}`;
    node({
      data: {
        id: uplinkId,
        parent: hostId,
        label: h.uplink?.name ?? h.defaults.uplink ?? 'no uplink',
        kind: 'uplink',
        color: TRUNK_COLOR,
        details: [`uplink ${h.uplink?.name ?? h.defaults.uplink ?? '(none configured)'} on ${h.defaults.bridge}`, uplinkText(h.uplink)],
        host: h.name,
      },
      position: { x: barX + 40, y: Y_UPLINK },
      classes: `uplink${h.uplink ? '' : ' missing'}`,
    });
    edge(
      { id: `e:switch:${h.name}`, source: 'switch', target: uplinkId, label: uplinkText(h.uplink), color: TRUNK_COLOR, kind: 'uplink' },
      `uplink${h.uplink ? '' : ' missing'}`,
    );
    const defaultBridge = h.bridges.find((b) => b.name === h.defaults.bridge);
    const barTop = Y_BRIDGE - 22;
    const lastLane = lanes.at(-1);
    const barBottom = Math.max(barTop + 60, lastLane ? lastLane.y + lastLane.height / 2 - 12 : barTop);
    const barY = (barTop + barBottom) / 2;
    const bridgeId = `bridge:${h.name}:${h.defaults.bridge}`;
    node({
      data: {
        id: bridgeId,
        parent: hostId,
        label: h.defaults.bridge,
        kind: 'bridge',
        color: '#2c3e50',
        details: defaultBridge
          ? [`OVS bridge ${defaultBridge.name} (${defaultBridge.datapathType || 'system'})`, `${defaultBridge.ports.length} ports`]
          : [`OVS bridge ${h.defaults.bridge}: missing (the host's default bridge)`],
        width: 16,
        height: barBottom - barTop,
        host: h.name,
      },
      position: { x: barX, y: barY },
      classes: `bridge bar${defaultBridge ? '' : ' missing'}`,
    });
    edge({ id: `e:uplink:${h.name}`, source: uplinkId, target: bridgeId, label: '', color: TRUNK_COLOR, kind: 'attach' }, 'attach', {
      targetEndpoint: `0px ${-(barBottom - barTop) / 2}px`,
    });
    // Other bridges: beside the uplink, their ports hang from them.
    h.bridges
      .filter((b) => b.name !== h.defaults.bridge)
      .sort((a, b) => a.name.localeCompare(b.name))
      .forEach((b, i) => {
        node({
          data: {
            id: `bridge:${h.name}:${b.name}`,
            parent: hostId,
            label: b.name,
            kind: 'bridge',
            color: '#2c3e50',
            details: [`OVS bridge ${b.name} (${b.datapathType || 'system'})`, `${b.ports.length} ports`],
            host: h.name,
          },
          position: { x: barX + 190 + i * 140, y: Y_UPLINK },
          classes: 'bridge',
        });
      });
    const stub = (laneY: number) => ({ sourceEndpoint: `0px ${laneY - barY}px` });

    // Where each VLAN lane crosses this host.
    for (const lane of lanes) {
      if (lane.tag === null) continue;
      const v = vlanByTag.get(lane.tag)!;
      const on = v.uplinks.find((u) => u.hypervisorName === h.name);
      const carriage: UplinkCarriage = on?.carriage ?? 'UNKNOWN';
      const drift = v.drift.filter((d) => d.hypervisorName === h.name);
      const cellId = `cell:${h.name}:${lane.tag}`;
      node({
        data: {
          id: cellId,
          parent: hostId,
          label: `${lane.tag}${drift.length ? ' ⚠' : ''}\n${CARRIAGE_TEXT[carriage]}`,
          kind: 'cell',
          color: lane.color,
          details: [
            `VLAN ${lane.tag}${v.name ? ` (${v.name})` : ''} on ${h.name}: ${CARRIAGE_TEXT[carriage]}${on?.uplink ? ` by ${on.uplink}` : ''}`,
            ...drift.map((d) => `drift ${d.kind}: ${d.message}`),
          ],
          host: h.name,
          tag: lane.tag,
        },
        position: { x: x0 + CELL_DX, y: lane.y },
        classes: `cell ${on?.carried ? 'carried' : 'not-carried'}${drift.length ? ' drift' : ''}`,
      });
      edge(
        { id: `e:${cellId}`, source: bridgeId, target: cellId, label: '', color: lane.color, kind: 'vlan' },
        `vlan ${on?.carried ? 'carried' : 'not-carried'}`,
        stub(lane.y),
      );
    }

    // NICs and ports in their lanes, in name order; in a VLAN's lane they tap the VLAN's wire
    // (cell → first → second …), in the trunk lane each takes a ribbon from the bridge.
    const last = new Map<string, string>();
    const slots = new Map<string, number>();
    const trunkLane = lanes.find((l) => l.key === TRUNK_LANE);
    for (const a of [...attachments.get(h.name)!].sort((p, q) => p.label.localeCompare(q.label))) {
      const slot = slots.get(a.lane) ?? 0;
      slots.set(a.lane, slot + 1);
      const inTrunkLane = a.lane === TRUNK_LANE && trunkLane;
      // A trunk lane stacks its NICs and ports, one per row; other lanes line them up.
      const y = inTrunkLane ? trunkLane.y - ((trunkRows - 1) * ROW_H) / 2 + slot * ROW_H : laneY.get(a.lane)!;
      const x = x0 + SLOT0_DX + (inTrunkLane ? 0 : slot) * SLOT_W + SLOT_W / 2;
      const color = a.lane.startsWith('vlan:') ? colors.get(a.tags[0]!)! : a.lane === UNTAGGED_LANE ? UNTAGGED_COLOR : TRUNK_COLOR;
      node({
        data: { id: a.id, parent: hostId, label: a.label, kind: a.kind, color, details: a.details, host: h.name },
        position: { x, y },
        classes: `${a.kind}${a.live ? ' live' : ' down'}${a.drift.length ? ' drift' : ''}${a.trunkAll ? ' all-vlans' : ''}`,
      });
      const state = `${a.live ? '' : ' down'}${a.drift.length ? ' drift' : ''}`;
      if (a.bridge !== h.defaults.bridge) {
        const label = a.trunkAll ? 'all VLANs' : a.tags.length ? tagList(a.tags) : 'untagged';
        edge({ id: `e:${a.id}`, source: `bridge:${h.name}:${a.bridge}`, target: a.id, label, color, kind: 'member' }, `member${state}`);
      } else if (inTrunkLane && !a.trunkAll) {
        // A ribbon from the bridge: one stripe per VLAN it carries, in the VLAN's colour.
        a.tags.forEach((t, i) => {
          const off = (i - (a.tags.length - 1) / 2) * STRIPE;
          edge(
            {
              id: `e:${a.id}:${t}`,
              source: bridgeId,
              target: a.id,
              label: i === Math.floor((a.tags.length - 1) / 2) ? tagList(a.tags) : '',
              color: colors.get(t) ?? TRUNK_COLOR,
              kind: 'member',
            },
            // Drift shows on the NIC; the stripes keep their VLANs' colours.
            `member stripe${a.live ? '' : ' down'}`,
            { sourceEndpoint: `0px ${y - barY + off}px`, targetEndpoint: `-50% ${off}px` },
          );
        });
      } else {
        // On the lane's wire: from the cell (or, untagged and all-VLAN ports, from the bar).
        const from = last.get(a.lane) ?? (a.lane.startsWith('vlan:') ? `cell:${h.name}:${a.tags[0]}` : bridgeId);
        edge(
          { id: `e:${a.id}`, source: from, target: a.id, label: a.trunkAll ? 'all VLANs' : '', color, kind: 'member' },
          `member${state}${a.trunkAll ? ' all-vlans' : ''}`,
          from === bridgeId ? stub(y) : undefined,
        );
        last.set(a.lane, a.id);
      }
    }
  }

  const hostSet = new Set(hosts.map((h) => h.name));
  // A NIC's drift is reported under every VLAN it carries: listed once.
  const seen = new Set<string>();
  const drift = vlans
    .flatMap((v) => v.drift)
    .filter((d) => hostSet.has(d.hypervisorName))
    .filter((d) => {
      const key = `${d.hypervisorName}\u0000${d.kind}\u0000${d.subject}`;
      return !seen.has(key) && Boolean(seen.add(key));
    });
  const nics = [...attachments.values()].flat().filter((a) => a.kind === 'nic');
  return {
    elements,
    lanes,
    colors,
    hostNames: fleet.hypervisors.map((h) => h.name),
    tags: fleet.vlans.map((v) => v.tag),
    drift,
    stats: {
      hosts: hosts.length,
      vms: new Set(nics.map((n) => `${n.host}/${n.label.split('\n')[0]}`)).size,
      nics: nics.length,
      vlans: vlans.length,
      drift: drift.length,
    },
  };
}

function vlanDetails(v: VlanSummary): string[] {
  const carried = v.uplinks.filter((u) => u.carried).map((u) => u.hypervisorName);
  const missing = v.uplinks.filter((u) => !u.carried).map((u) => u.hypervisorName);
  return [
    `VLAN ${v.tag}${v.name ? ` (${v.name})` : ''}`,
    `carried on ${carried.join(', ') || 'no host'}`,
    ...(missing.length ? [`missing on ${missing.join(', ')}`] : []),
    ...v.drift.map((d) => `drift on ${d.hypervisorName}: ${d.message}`),
  ];
}

function hostDetails(h: Hypervisor): string[] {
  return [
    `${h.name} (${h.address}): ${h.status}${h.stale ? ', stale' : ''}`,
    `observed ${h.observedAt ?? 'never'}${h.ageSeconds !== null ? ` (${h.ageSeconds} s ago)` : ''}`,
    `Open vSwitch ${h.versions.ovs ?? '?'}, libvirt ${h.versions.libvirt ?? '?'}`,
    `defaults: bridge ${h.defaults.bridge}, uplink ${h.defaults.uplink ?? '–'}, network ${h.defaults.network ?? '–'}`,
    `${h.bridges.length} bridges, ${h.networks.length} networks, ${h.vms.totalCount ?? h.vms.nodes.length} VMs`,
    ...(h.lastError ? [`last error ${h.lastError.code}: ${h.lastError.message}`] : []),
  ];
}

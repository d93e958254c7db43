import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { Portgroup, VlanSpec } from './types.ts';

/**
 * Builds libvirt network XML from validated parameters. Names reach here through allow-lists,
 * and are still escaped: XML is data for virsh, never a shell word.
 */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export function vlanXml(vlan: VlanSpec | null, indent = ''): string {
  if (!vlan || vlan.tags.length === 0) return '';
  const trunk = vlan.trunk ? " trunk='yes'" : '';
  const tags = vlan.tags
    .map((t, i) => `${indent}  <tag id='${t}'${i === 0 && vlan.nativeMode ? ` nativeMode='${xmlEscape(vlan.nativeMode)}'` : ''}/>`)
    .join('\n');
  return `${indent}<vlan${trunk}>\n${tags}\n${indent}</vlan>`;
}

export function portgroupXml(pg: Portgroup, indent = ''): string {
  const def = pg.isDefault ? " default='yes'" : '';
  const vlan = vlanXml(pg.vlan, `${indent}  `);
  return vlan
    ? `${indent}<portgroup name='${xmlEscape(pg.name)}'${def}>\n${vlan}\n${indent}</portgroup>`
    : `${indent}<portgroup name='${xmlEscape(pg.name)}'${def}/>`;
}

export interface OvsNetworkSpec {
  name: string;
  bridge: string;
  portgroups: Portgroup[];
}

/** libvirt prints UUIDs in this form; anything else is refused before it reaches an XML. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A defining XML (ours: `<name>` on its own line) with `<uuid>` after the name. A redefine must
 * carry the existing object's UUID: libvirt refuses XML whose name exists with another or no
 * UUID ("already exists with uuid ...", docs/lab.md), for networks and domains alike.
 */
export function withUuid(xml: string, uuid: string): string {
  if (!UUID.test(uuid)) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `not a libvirt UUID: ${JSON.stringify(uuid)}`);
  if (/<uuid>/.test(xml)) return xml.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuid}</uuid>`);
  const i = xml.indexOf('</name>');
  if (i < 0) throw new TrunklineError(ErrorCode.JOB_INVALID, 'defining XML has no <name>');
  const end = i + '</name>'.length;
  const indent = /\n([ \t]*)<name>/.exec(xml)?.[1] ?? '';
  return `${xml.slice(0, end)}\n${indent}<uuid>${uuid}</uuid>${xml.slice(end)}`;
}

/** A libvirt network on an existing OVS bridge: forward mode bridge, virtualport openvswitch. */
export function ovsNetworkXml(spec: OvsNetworkSpec, uuid?: string): string {
  const xml = [
    '<network>',
    `  <name>${xmlEscape(spec.name)}</name>`,
    "  <forward mode='bridge'/>",
    `  <bridge name='${xmlEscape(spec.bridge)}'/>`,
    "  <virtualport type='openvswitch'/>",
    ...spec.portgroups.map((pg) => portgroupXml(pg, '  ')),
    '</network>',
    '',
  ].join('\n');
  return uuid ? withUuid(xml, uuid) : xml;
}

/**
 * The VLAN tags of a <vlan> as a set, in one order: libvirt and OVS treat them as a set, so
 * [1002, 1001] and [1001, 1002] are the same. The native VLAN (nativeMode, the first tag) stays
 * first: it is the one tag whose place means something.
 */
export function canonicalTags(vlan: VlanSpec): number[] {
  const [first, ...rest] = vlan.tags;
  if (first === undefined) return [];
  const sorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return vlan.nativeMode ? [first, ...sorted(rest).filter((t) => t !== first)] : sorted(vlan.tags);
}

/** Canonical one-line form of a portgroup, for comparing observed with wanted (tags as a set). */
export function portgroupValue(pg: Portgroup | null): string {
  if (!pg) return 'absent'; // the plans' ABSENT (src/changes/plan.ts), which builds on this module
  const v = pg.vlan;
  const vlan = v?.tags.length
    ? `${v.trunk ? 'trunk' : 'tag'}=${canonicalTags(v).join(',')}${v.nativeMode ? ` native=${v.nativeMode}(${v.tags[0]})` : ''}`
    : 'untagged';
  return `${pg.name}${pg.isDefault ? ' (default)' : ''} ${vlan}`;
}

/** The portgroups of a network as a set, in one order (libvirt keeps the order they were added in). */
export function portgroupsValue(pgs: readonly Portgroup[]): string {
  return `[${pgs.map(portgroupValue).sort().join('; ')}]`;
}

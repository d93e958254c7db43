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
  const tags = vlan.tags.map((t, i) => `${indent}  <tag id='${t}'${i === 0 && vlan.nativeMode ? ` nativeMode='${xmlEscape(vlan.nativeMode)}'` : ''}/>`).join('\n');
  return `${indent}<vlan${trunk}>\n${tags}\n${indent}</vlan>`;
}

export function portgroupXml(pg: Portgroup, indent = ''): string {
  const def = pg.isDefault ? " default='yes'" : '';
  const vlan = vlanXml(pg.vlan, `${indent}  `);
  return vlan ? `${indent}<portgroup name='${xmlEscape(pg.name)}'${def}>\n${vlan}\n${indent}</portgroup>` : `${indent}<portgroup name='${xmlEscape(pg.name)}'${def}/>`;
}

export interface OvsNetworkSpec {
  name: string;
  bridge: string;
  portgroups: Portgroup[];
}

/** A libvirt network on an existing OVS bridge: forward mode bridge, virtualport openvswitch. */
export function ovsNetworkXml(spec: OvsNetworkSpec): string {
  return [
    '<network>',
    `  <name>${xmlEscape(spec.name)}</name>`,
    "  <forward mode='bridge'/>",
    `  <bridge name='${xmlEscape(spec.bridge)}'/>`,
    "  <virtualport type='openvswitch'/>",
    ...spec.portgroups.map((pg) => portgroupXml(pg, '  ')),
    '</network>',
    '',
  ].join('\n');
}

/** Canonical one-line form of a portgroup, for comparing observed with wanted. */
export function portgroupValue(pg: Portgroup | null): string {
  if (!pg) return 'absent';
  const vlan = pg.vlan && pg.vlan.tags.length ? `${pg.vlan.trunk ? 'trunk' : 'tag'}=${pg.vlan.tags.join(',')}${pg.vlan.nativeMode ? ` native=${pg.vlan.nativeMode}` : ''}` : 'untagged';
  return `${pg.name}${pg.isDefault ? ' (default)' : ''} ${vlan}`;
}

/**
 * libvirt network XML (`virsh net-dumpxml`) and `virsh net-info` text, plus the small XML
 * helpers domain-xml.ts shares (same <vlan> element, same parser settings).
 */
import { XMLParser } from 'fast-xml-parser';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { LibvirtNetwork, Portgroup, VlanSpec } from './types.ts';

export type XmlNode = Record<string, unknown>;

/**
 * Parses XML whose root must be `root`. Elements listed in `arrays` (dot paths from the root,
 * e.g. "network.portgroup") always come back as arrays, so one <portgroup> and three read the
 * same. Every element is an object (text under "#text", attributes under "@_name"), so
 * `<vcpu>2</vcpu>` and `<vcpu current='1'>2</vcpu>` read the same too. Values stay strings.
 */
export function parseXmlRoot(xml: string, root: string, arrays: ReadonlySet<string>, what: string): XmlNode {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    alwaysCreateTextNode: true,
    ignoreDeclaration: true,
    isArray: (_name, jpath) => arrays.has(String(jpath)),
  });
  let doc: unknown;
  try {
    // `true`: validate first. Without it the parser turns most garbage into an empty object.
    doc = parser.parse(xml, true);
  } catch (err) {
    throw new TrunklineError(
      ErrorCode.UNEXPECTED_OUTPUT,
      `${what} is not well-formed XML: ${(err as Error).message}`,
      { output: xml.slice(0, 300) },
      { cause: err },
    );
  }
  const keys = Object.keys(doc as XmlNode);
  const top = (doc as XmlNode)[root];
  if (keys.length !== 1 || !isNode(top))
    throw new TrunklineError(
      ErrorCode.UNEXPECTED_OUTPUT,
      `${what}: expected one <${root}> root element, got ${keys.map((k) => `<${k}>`).join(', ') || 'nothing'}`,
    );
  return top;
}

function isNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The child element `name` (the first, if repeated), or undefined. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const v = node?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return isNode(first) ? first : undefined;
}

/** Every child element `name` (paths in `arrays` are arrays already; this also copes if not). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const v = node?.[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter(isNode);
}

export function attr(node: XmlNode | undefined, name: string): string | null {
  const v = node?.[`@_${name}`];
  return typeof v === 'string' ? v : null;
}

/** Trimmed text content; null when the element is absent. */
export function text(node: XmlNode | undefined): string | null {
  if (!node) return null;
  const v = node['#text'];
  return typeof v === 'string' ? v.trim() : '';
}

export function requiredText(node: XmlNode, name: string, what: string): string {
  const v = text(child(node, name));
  if (!v) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `${what} has no <${name}>`);
  return v;
}

/**
 * <vlan [trunk='yes']><tag id='N' [nativeMode='tagged|untagged']/>...</vlan>; null when absent.
 * The native VLAN is the tag that carries nativeMode, wherever it is: it comes first in `tags`
 * (what Trunkline writes and reads as "the native tag"); the others keep document order.
 */
export function parseVlan(vlan: XmlNode | undefined, what: string): VlanSpec | null {
  if (!vlan) return null;
  const tags = children(vlan, 'tag');
  const ids = tags.map((t) => {
    const id = attr(t, 'id') ?? '';
    if (!/^\d{1,4}$/.test(id)) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `${what}: bad <vlan><tag id=${JSON.stringify(id)}>`);
    return Number(id);
  });
  const native = tags.findIndex((t) => attr(t, 'nativeMode') !== null);
  return {
    tags: native > 0 ? [ids[native]!, ...ids.filter((_, i) => i !== native)] : ids,
    trunk: attr(vlan, 'trunk') === 'yes',
    nativeMode: native >= 0 ? attr(tags[native], 'nativeMode') : null,
  };
}

const NETWORK_ARRAYS: ReadonlySet<string> = new Set(['network.portgroup', 'network.portgroup.vlan.tag', 'network.vlan.tag']);

/** What net-dumpxml says; active/persistent/autostart come from net-info (parseNetInfo). */
export function parseNetworkXml(xml: string): Omit<LibvirtNetwork, 'active' | 'persistent' | 'autostart'> {
  const net = parseXmlRoot(xml, 'network', NETWORK_ARRAYS, 'network XML');
  const name = requiredText(net, 'name', 'network XML');
  const what = `network ${name}`;
  const forward = child(net, 'forward');
  return {
    name,
    uuid: requiredText(net, 'uuid', what),
    // No <forward> at all is an isolated network; <forward/> without mode means NAT.
    forwardMode: forward ? (attr(forward, 'mode') ?? 'nat') : null,
    bridge: attr(child(net, 'bridge'), 'name'),
    virtualportType: attr(child(net, 'virtualport'), 'type'),
    portgroups: children(net, 'portgroup').map(
      (pg): Portgroup => ({
        name: attr(pg, 'name') ?? '',
        isDefault: attr(pg, 'default') === 'yes',
        vlan: parseVlan(child(pg, 'vlan'), what),
      }),
    ),
  };
}

export interface NetInfo {
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  /** Printed only when libvirt knows one (also for inactive networks with a <bridge>). */
  bridge: string | null;
}

/**
 * `virsh net-info` prints "Key:   value" lines:
 * Name, UUID, Active, Persistent, Autostart (yes/no), then Bridge when there is one.
 */
export function parseNetInfo(text: string): NetInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z ]+):\s*(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!.trim(), m[2]!.trim());
  }
  const flag = (key: string): boolean => {
    const v = fields.get(key);
    if (v !== 'yes' && v !== 'no')
      throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `virsh net-info: expected "${key}: yes|no", got ${JSON.stringify(v ?? null)}`, {
        output: text.slice(0, 300),
      });
    return v === 'yes';
  };
  return { active: flag('Active'), persistent: flag('Persistent'), autostart: flag('Autostart'), bridge: fields.get('Bridge') || null };
}

/** libvirt domain XML (`virsh dumpxml`), reduced to what Trunkline needs. */
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { attr, child, children, parseVlan, parseXmlRoot, requiredText, text, type XmlNode } from './network-xml.ts';
import type { Domain, DomainInterface } from './types.ts';

const DOMAIN_ARRAYS: ReadonlySet<string> = new Set(['domain.devices.interface', 'domain.devices.interface.vlan.tag']);

/**
 * Bytes per unit, as libvirt's virScaleInteger reads them: case-insensitive; "b"/"byte"/"bytes";
 * a bare letter or "<letter>iB" is a power of 1024, "<letter>B" a power of 1000.
 */
function unitBytes(unit: string): bigint | null {
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1n;
  const power = 'kmgtpe'.indexOf(u[0] ?? '') + 1;
  if (power === 0) return null;
  const rest = u.slice(1);
  const base = rest === '' || rest === 'ib' ? 1024n : rest === 'b' ? 1000n : null;
  return base === null ? null : base ** BigInt(power);
}

/**
 * A libvirt memory amount in KiB. No unit means KiB (libvirt's default for <memory>); like
 * libvirt, a byte count that is not a whole number of KiB rounds up.
 */
export function memoryToKiB(value: string, unit: string | null = null): number {
  const scale = unitBytes(unit || 'KiB');
  if (scale === null) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `unknown libvirt memory unit ${JSON.stringify(unit)}`);
  if (!/^\d+$/.test(value.trim()))
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `bad libvirt memory amount ${JSON.stringify(value)}`);
  const bytes = BigInt(value.trim()) * scale;
  return Number((bytes + 1023n) / 1024n);
}

function parseInterface(iface: XmlNode, what: string): DomainInterface {
  const source = child(iface, 'source');
  return {
    type: attr(iface, 'type') ?? '',
    mac: attr(child(iface, 'mac'), 'address'),
    network: attr(source, 'network'),
    portgroup: attr(source, 'portgroup'),
    bridge: attr(source, 'bridge'),
    target: attr(child(iface, 'target'), 'dev'),
    virtualportType: attr(child(iface, 'virtualport'), 'type'),
    model: attr(child(iface, 'model'), 'type'),
    vlan: parseVlan(child(iface, 'vlan'), what),
  };
}

/** Everything but the run state, which comes from `virsh domstate`. */
export function parseDomainXml(xml: string): Omit<Domain, 'state'> {
  const dom = parseXmlRoot(xml, 'domain', DOMAIN_ARRAYS, 'domain XML');
  const name = requiredText(dom, 'name', 'domain XML');
  const what = `domain ${name}`;
  const memory = child(dom, 'memory');
  if (!memory) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `${what} has no <memory>`);
  // <vcpu current='1'>2</vcpu>: 2 may be hot-plugged, 1 is what the VM has.
  const vcpu = child(dom, 'vcpu');
  const vcpus = attr(vcpu, 'current') ?? text(vcpu);
  if (!vcpus || !/^\d+$/.test(vcpus))
    throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `${what}: bad or missing <vcpu> ${JSON.stringify(vcpus)}`);
  return {
    name,
    uuid: requiredText(dom, 'uuid', what),
    vcpus: Number(vcpus),
    memoryKiB: memoryToKiB(text(memory) ?? '', attr(memory, 'unit')),
    interfaces: children(child(dom, 'devices'), 'interface').map((i) => parseInterface(i, what)),
  };
}

import { createHash } from 'node:crypto';
import { xmlEscape } from './network-build.ts';

/** Marks domains Trunkline defined: it never redefines (and so wipes) a VM someone else made. */
export const TRUNKLINE_XMLNS = 'https://trunkline.dev/xmlns/vm/1';

export interface NicSpec {
  mac: string;
  network: string;
  portgroup: string | null;
  model: string;
}

export interface VmSpec {
  name: string;
  vcpus: number;
  memoryMiB: number;
  /** 'kvm' on real hypervisors, 'qemu' (TCG) where there is no /dev/kvm, like the lab. */
  domainType: 'kvm' | 'qemu';
  nics: NicSpec[];
}

/**
 * A stable locally administered MAC (QEMU's 52:54:00 prefix) derived from a key: asking for
 * the same NIC twice yields the same MAC, so the request stays idempotent.
 */
export function stableMac(key: string): string {
  const h = createHash('sha256').update(key).digest();
  return `52:54:00:${[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

export function interfaceXml(nic: NicSpec, indent = ''): string {
  const pg = nic.portgroup ? ` portgroup='${xmlEscape(nic.portgroup)}'` : '';
  return [
    `${indent}<interface type='network'>`,
    `${indent}  <mac address='${xmlEscape(nic.mac)}'/>`,
    `${indent}  <source network='${xmlEscape(nic.network)}'${pg}/>`,
    `${indent}  <model type='${xmlEscape(nic.model)}'/>`,
    `${indent}</interface>`,
  ].join('\n');
}

/**
 * A minimal domain: no disk, no graphics (`<graphics type='none'/>` is invalid); ACPI and APIC
 * so that NIC hotplug and graceful shutdown work (docs/lab.md).
 */
export function domainXml(vm: VmSpec): string {
  return [
    `<domain type='${vm.domainType}'>`,
    `  <name>${xmlEscape(vm.name)}</name>`,
    `  <metadata><trunkline:vm xmlns:trunkline='${TRUNKLINE_XMLNS}'/></metadata>`,
    `  <memory unit='MiB'>${vm.memoryMiB}</memory>`,
    `  <vcpu>${vm.vcpus}</vcpu>`,
    "  <os><type arch='x86_64' machine='pc'>hvm</type></os>",
    '  <features><acpi/><apic/></features>',
    '  <on_poweroff>destroy</on_poweroff>',
    '  <devices>',
    ...vm.nics.map((n) => interfaceXml(n, '    ')),
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}

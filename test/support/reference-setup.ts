import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labExec, type LabEnv } from './lab.ts';

/**
 * Builds the reference setup directly on lab hosts (as root inside the host, not through
 * Trunkline), so read-model tests compare Trunkline's answers with what the hosts really have.
 */
export const REFERENCE_NETWORK_XML = `<network>
  <name>ovs-network</name>
  <forward mode='bridge'/>
  <bridge name='ovsbr0'/>
  <virtualport type='openvswitch'/>
  <portgroup name='vlan-0001' default='yes'/>
  <portgroup name='vlan-1001'><vlan><tag id='1001'/></vlan></portgroup>
  <portgroup name='vlan-1002'><vlan><tag id='1002'/></vlan></portgroup>
  <portgroup name='vlan-all'><vlan trunk='yes'><tag id='1001'/><tag id='1002'/></vlan></portgroup>
</network>`;

export interface VmSpec {
  name: string;
  mac: string;
  portgroup: string | null;
  start: boolean;
}

export function domainXml(vm: VmSpec, network = 'ovs-network'): string {
  const pg = vm.portgroup ? ` portgroup='${vm.portgroup}'` : '';
  // ACPI/APIC so that hotplug and graceful shutdown work (docs/lab.md); no disk, no graphics.
  return `<domain type='qemu'>
  <name>${vm.name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/><apic/></features>
  <devices>
    <interface type='network'>
      <mac address='${vm.mac}'/>
      <source network='${network}'${pg}/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>`;
}

async function must(env: LabEnv, host: string, argv: string[]): Promise<string> {
  const r = await labExec(env, host, argv);
  if (r.code !== 0) throw new Error(`${host}: ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface ReferenceHost {
  host: string;
  vms: VmSpec[];
  /** Extra OVS ports: internal ports with a tag or trunks. */
  ports: Array<{ name: string; tag?: number; trunks?: number[] }>;
}

/** One ovs-vsctl transaction: bridge ovsbr0 (netdev) with its uplink enp5s0f0 trunking 1001,1002. */
export function referenceBridgeArgv(options: readonly string[] = []): string[] {
  return [
    'ovs-vsctl',
    ...options,
    '--may-exist',
    'add-br',
    'ovsbr0',
    '--',
    'set',
    'Bridge',
    'ovsbr0',
    'datapath_type=netdev',
    '--',
    '--may-exist',
    'add-port',
    'ovsbr0',
    'enp5s0f0',
    '--',
    'set',
    'Port',
    'enp5s0f0',
    'trunks=1001,1002',
  ];
}

/** Bridge ovsbr0 (uplink enp5s0f0 trunking 1001,1002), the reference network, ports and VMs. */
export async function buildReference(env: LabEnv, spec: ReferenceHost): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-ref-'));
  chmodSync(dir, 0o755);
  try {
    const { host } = spec;
    await must(env, host, referenceBridgeArgv());
    for (const p of spec.ports) {
      const cols = [...(p.tag ? [`tag=${p.tag}`] : []), ...(p.trunks ? [`trunks=${p.trunks.join(',')}`] : [])];
      await must(env, host, [
        'ovs-vsctl',
        '--may-exist',
        'add-port',
        'ovsbr0',
        p.name,
        '--',
        'set',
        'Interface',
        p.name,
        'type=internal',
        ...(cols.length ? ['--', 'set', 'Port', p.name, ...cols] : []),
      ]);
    }
    writeFileSync(join(dir, 'net.xml'), REFERENCE_NETWORK_XML);
    await must(env, host, ['virsh', 'net-define', join(dir, 'net.xml')]);
    await must(env, host, ['virsh', 'net-start', 'ovs-network']);
    await must(env, host, ['virsh', 'net-autostart', 'ovs-network']);
    for (const vm of spec.vms) {
      writeFileSync(join(dir, `${vm.name}.xml`), domainXml(vm));
      await must(env, host, ['virsh', 'define', join(dir, `${vm.name}.xml`)]);
      if (vm.start) await must(env, host, ['virsh', 'start', vm.name]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes what buildReference made; tolerant of half-built hosts. */
export async function removeReference(env: LabEnv, spec: ReferenceHost): Promise<void> {
  const { host } = spec;
  for (const vm of spec.vms) {
    await labExec(env, host, ['virsh', 'destroy', vm.name]);
    await labExec(env, host, ['virsh', 'undefine', vm.name]);
  }
  await labExec(env, host, ['virsh', 'net-destroy', 'ovs-network']);
  await labExec(env, host, ['virsh', 'net-undefine', 'ovs-network']);
  await labExec(env, host, ['ovs-vsctl', '--if-exists', 'del-br', 'ovsbr0']);
}

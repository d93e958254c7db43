/**
 * The benchmark's own lab (LAB_NAME=tlb, 198.18.7.0/24, one host) and the objects it builds on
 * hv1 as root (not through Trunkline): bridge ovsbr0, internal ports bp001..bp100, the reference
 * libvirt network and DEFINED (never started) VMs bvm01..bvm50.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIRSH } from '../../src/libvirt/virsh-batch.ts';
import { labExec, type LabEnv } from '../../test/support/lab.ts';
import { domainXml, REFERENCE_NETWORK_XML, referenceBridgeArgv, type VmSpec } from '../../test/support/reference-setup.ts';

export const BENCH_LAB: LabEnv = { LAB_NAME: 'tlb', LAB_NET: '7', LAB_HOSTS: '1' };
export const BENCH_HOST = 'hv1';
export const INVENTORY_PATH = `/run/trunkline/lab-${BENCH_LAB.LAB_NAME}/inventory.json`;

async function must(argv: string[]): Promise<string> {
  const r = await labExec(BENCH_LAB, BENCH_HOST, argv);
  if (r.code !== 0) throw new Error(`${BENCH_HOST}: ${argv.join(' ').slice(0, 200)} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
const virsh = (...args: string[]) => must([...VIRSH, ...args]);
/** Several virsh commands in ONE virsh process (its `;` batch mode). */
const virshBatch = (commands: string[]) => (commands.length ? virsh(commands.join('; ')) : Promise.resolve(''));

// ---- OVS ----------------------------------------------------------------------------------
export const PORT_NAMES = Array.from({ length: 100 }, (_, i) => `bp${String(i + 1).padStart(3, '0')}`);

/** VLAN setup of port n (1-based): access 1001/1002, trunks, and native-untagged trunks. */
function portColumns(n: number): string[] {
  if (n <= 40) return ['tag=1001'];
  if (n <= 70) return ['tag=1002'];
  if (n <= 90) return ['trunks=1001,1002'];
  return ['vlan_mode=native-untagged', 'tag=1001', 'trunks=1002'];
}

export async function createBridge(): Promise<void> {
  await must(referenceBridgeArgv(['--timeout=30']));
}

/** Adds bp001..bp100 as internal ports in 4 transactions of 25. */
export async function addPorts(): Promise<void> {
  for (let start = 0; start < PORT_NAMES.length; start += 25) {
    const argv = ['ovs-vsctl', '--timeout=60'];
    PORT_NAMES.slice(start, start + 25).forEach((p, k) => {
      argv.push(
        '--',
        '--may-exist',
        'add-port',
        'ovsbr0',
        p,
        '--',
        'set',
        'Interface',
        p,
        'type=internal',
        '--',
        'set',
        'Port',
        p,
        ...portColumns(start + k + 1),
      );
    });
    await must(argv);
  }
}

export async function removePorts(): Promise<void> {
  await must(['ovs-vsctl', '--timeout=60', ...PORT_NAMES.flatMap((p) => ['--', '--if-exists', 'del-port', 'ovsbr0', p])]);
}

// ---- libvirt ------------------------------------------------------------------------------
const PORTGROUPS = [null, 'vlan-1001', 'vlan-1002', 'vlan-all'] as const;
export const VM_NAMES = Array.from({ length: 50 }, (_, i) => `bvm${String(i + 1).padStart(2, '0')}`);

/** VM n (1-based): one NIC, and a second one on another portgroup for even n. */
export function vmXml(n: number): string {
  const hex = n.toString(16).padStart(2, '0');
  const spec: VmSpec = { name: VM_NAMES[n - 1]!, mac: `52:54:00:b1:00:${hex}`, portgroup: PORTGROUPS[n % 4]!, start: false };
  const xml = domainXml(spec);
  if (n % 2 === 1) return xml;
  // domainXml() writes one NIC; the second follows the same template.
  const second = `    <interface type='network'>
      <mac address='52:54:00:b2:00:${hex}'/>
      <source network='ovs-network' portgroup='${PORTGROUPS[(n + 1) % 4] ?? 'vlan-1001'}'/>
      <model type='virtio'/>
    </interface>
`;
  return xml.replace('  </devices>', `${second}  </devices>`);
}

/** Defining XMLs live in a temp dir the host can read (lab hosts share the root filesystem). */
export class LibvirtFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'tl-bench-'));
  constructor() {
    chmodSync(this.dir, 0o755);
    writeFileSync(join(this.dir, 'ovs-network.xml'), REFERENCE_NETWORK_XML);
    VM_NAMES.forEach((name, i) => {
      writeFileSync(join(this.dir, `${name}.xml`), vmXml(i + 1));
    });
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  async defineNetwork(): Promise<void> {
    await virsh('net-define', join(this.dir, 'ovs-network.xml'));
    await virsh('net-start', 'ovs-network');
    await virsh('net-autostart', 'ovs-network');
  }

  /** Makes exactly the first `count` VMs defined (one virsh process for all defines/undefines). */
  async setVmCount(count: number): Promise<void> {
    const defined = new Set(await listVms());
    const wanted = new Set(VM_NAMES.slice(0, count));
    await virshBatch([
      ...VM_NAMES.filter((n) => wanted.has(n) && !defined.has(n)).map((n) => `define ${join(this.dir, `${n}.xml`)}`),
      ...[...defined].filter((n) => n.startsWith('bvm') && !wanted.has(n)).map((n) => `undefine ${n}`),
    ]);
    const now = await listVms();
    if (now.length !== count) throw new Error(`expected ${count} VMs on ${BENCH_HOST}, found ${now.length}`);
  }
}

export async function listVms(): Promise<string[]> {
  return (await virsh('list', '--all', '--name'))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

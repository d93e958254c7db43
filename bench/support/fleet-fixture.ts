/**
 * A realistic fleet for the cache, built from REAL captured host output (test/fixtures): the
 * libvirt round-1/round-2 batch outputs and the OVS snapshot of a lab host with running VMs,
 * parsed with the project's own parsers, then replicated: every host gets `vmsPerHost` domains
 * cloned round-robin from the captured ones (names, UUIDs, MACs and vnetN targets made unique)
 * and, for every cloned running NIC, a clone of the OVS port it was plugged into.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { Host } from '../../src/inventory/host-registry.ts';
import type { Domain, LibvirtNetwork } from '../../src/libvirt/types.ts';
import { parseRound1, parseRound2 } from '../../src/libvirt/virsh-batch.ts';
import { parseOvsSnapshot, type OvsPort } from '../../src/ovs/snapshot.ts';
import { ROOT } from './results.ts';

/** The marker test/fixtures/capture-lab-fixtures.sh used. */
const FIXTURE_MARKER = '::tl-c0ffee15ca9e::';
const fixture = (path: string) => readFileSync(join(ROOT, 'test', 'fixtures', path), 'utf8');

export interface CapturedHost {
  versions: { libvirt: string | null; qemu: string | null };
  domains: Domain[];
  networks: LibvirtNetwork[];
  /** ovsbr0 of the running-VMs capture. */
  bridge: ReturnType<typeof parseOvsSnapshot>['bridges'][number];
  /** The trunk uplink enp5s0f0 (from the ovsdb-only capture; the running-VMs one has none). */
  uplink: OvsPort;
}

export function loadCaptured(): CapturedHost {
  const round1 = parseRound1(fixture('libvirt/round1.txt'), FIXTURE_MARKER);
  const round2 = parseRound2(fixture('libvirt/round2.txt'), FIXTURE_MARKER, round1.domainUuids, round1.networkUuids);
  const running = parseOvsSnapshot(fixture('ovs/snapshot-lab-running-vms.jsonl'));
  const ovsdbOnly = parseOvsSnapshot(fixture('ovs/snapshot-ovsdb-only.jsonl'));
  const bridge = running.bridges.find((b) => b.name === 'ovsbr0');
  const uplink = ovsdbOnly.bridges.find((b) => b.name === 'ovsbr0')?.ports.find((p) => p.name === 'enp5s0f0');
  if (!bridge || !uplink || round2.domains.length === 0)
    throw new Error('fixtures changed: expected ovsbr0, enp5s0f0 and captured domains');
  return { versions: round1.versions, domains: round2.domains, networks: round2.networks, bridge, uplink };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** One host's state: `vmsPerHost` domains cloned from the captured ones, plus their OVS ports. */
export function replicateHost(
  captured: CapturedHost,
  hostName: string,
  hostIndex: number,
  vmsPerHost: number,
  observedAt: string,
): HostState {
  const templatePorts = new Map(captured.bridge.ports.map((p) => [p.name, p]));
  const vnetPorts: OvsPort[] = [];
  let vnet = 0;
  const domains: Domain[] = [];
  for (let i = 0; i < vmsPerHost; i++) {
    const tpl = captured.domains[i % captured.domains.length]!;
    const uuid = `b0000000-${hex(hostIndex, 4)}-4000-8000-${hex(i, 12)}`;
    const interfaces = tpl.interfaces.map((iface, k) => {
      const mac = `52:54:${hex(hostIndex, 2)}:${hex(i >> 8, 2)}:${hex(i & 0xff, 2)}:${hex(k, 2)}`;
      if (!iface.target) return { ...iface, mac };
      const target = `vnet${vnet++}`;
      const port = templatePorts.get(iface.target);
      if (port) {
        vnetPorts.push({
          ...port,
          uuid: randomUUID(),
          name: target,
          interfaces: port.interfaces.map((pi) => ({
            ...pi,
            uuid: randomUUID(),
            name: target,
            ofport: vnet + 1,
            externalIds: { ...pi.externalIds, 'attached-mac': mac, 'iface-id': randomUUID(), 'vm-id': uuid },
          })),
        });
      }
      return { ...iface, mac, target };
    });
    domains.push({ ...tpl, name: `${tpl.name}-${String(i).padStart(3, '0')}`, uuid, interfaces });
  }
  const ownPorts = captured.bridge.ports.filter((p) => !p.name.startsWith('vnet'));
  const ports = [...ownPorts, { ...captured.uplink, uuid: randomUUID() }, ...vnetPorts].sort(byName);
  return {
    host: hostName,
    status: 'REACHABLE',
    observedAt,
    checkedAt: observedAt,
    error: null,
    versions: { ovs: '3.1.0', ...captured.versions },
    ovs: { bridges: [{ ...captured.bridge, uuid: randomUUID(), ports }] },
    libvirt: { domains: domains.sort(byName), networks: captured.networks },
    read: { roundTrips: 2, commands: 4, durationMs: 600 },
  };
}

/** A registry entry nothing ever connects to: 198.18.250.0/24 and a key path that does not exist. */
export function fakeHost(name: string, index: number): Host {
  const fingerprint = createHash('sha256').update(name).digest('base64').replace(/=+$/, '');
  return {
    name,
    address: `198.18.250.${10 + index}`,
    port: 22,
    user: 'trunkline',
    privateKeyPath: '/nonexistent/trunkline-bench/id_ed25519',
    hostKeyFingerprint: `SHA256:${fingerprint}`,
    defaults: { bridge: 'ovsbr0', uplink: 'enp5s0f0', network: 'ovs-network' },
  };
}

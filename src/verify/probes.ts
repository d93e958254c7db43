/**
 * Naming and addressing of verifyVlan's probes (pure). A probe is a network namespace on a
 * hypervisor whose veth peer is an access port of the VLAN on the host's bridge.
 * Addresses come from 198.19.0.0/16 (RFC 2544 benchmarking range): never a real network.
 * Probes of the isolation VLANs get addresses in the SAME subnet as the verified VLAN, so only
 * the VLAN separation can keep them apart.
 */
export interface Probe {
  host: string;
  vlan: number;
  /** netns name on the host */
  namespace: string;
  /** OVS port (host side of the veth), at most 15 characters */
  port: string;
  address: string;
  /** true for the VLAN being verified, false for an isolation probe */
  member: boolean;
}

export const PROBE_PREFIX = 'tlp';

export function probeSubnet(tag: number): string {
  return `198.19.${tag % 250}.`;
}

export function planProbes(hosts: readonly string[], tag: number, isolationFrom: readonly number[]): Probe[] {
  const probes: Probe[] = [];
  hosts.forEach((host, i) => {
    probes.push({
      host,
      vlan: tag,
      namespace: `${PROBE_PREFIX}${tag}`,
      port: `${PROBE_PREFIX}${tag}h`,
      address: `${probeSubnet(tag)}${10 + i}`,
      member: true,
    });
    isolationFrom.forEach((other, j) => {
      probes.push({
        host,
        vlan: other,
        namespace: `${PROBE_PREFIX}${other}x`,
        port: `${PROBE_PREFIX}${other}xh`,
        address: `${probeSubnet(tag)}${100 + i * 10 + j}`,
        member: false,
      });
    });
  });
  return probes;
}

/** Which pings prove what: members reach each other; isolation probes reach no member. */
export function pingPairs(probes: readonly Probe[]): Array<{ from: Probe; to: Probe; expect: 'REACH' | 'ISOLATED' }> {
  const members = probes.filter((p) => p.member);
  const pairs: Array<{ from: Probe; to: Probe; expect: 'REACH' | 'ISOLATED' }> = [];
  for (const a of members) for (const b of members) if (a !== b) pairs.push({ from: a, to: b, expect: 'REACH' });
  for (const x of probes.filter((p) => !p.member)) for (const m of members) pairs.push({ from: x, to: m, expect: 'ISOLATED' });
  return pairs;
}

const IP = ['ip'];
/** Commands (argv, each through sudo) that create a probe, idempotently from scratch. */
export function createProbeArgvs(p: Probe, bridge: string): string[][] {
  return [
    [...IP, 'netns', 'add', p.namespace],
    [...IP, 'link', 'add', p.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.namespace],
    [...IP, '-n', p.namespace, 'addr', 'add', `${p.address}/24`, 'dev', 'eth0'],
    [...IP, '-n', p.namespace, 'link', 'set', 'eth0', 'up'],
    [...IP, '-n', p.namespace, 'link', 'set', 'lo', 'up'],
    [...IP, 'link', 'set', p.port, 'up'],
    ['ovs-vsctl', '--timeout=10', '--may-exist', 'add-port', bridge, p.port, '--', 'set', 'Port', p.port, `tag=${p.vlan}`],
  ];
}

/** Commands that remove a probe; each tolerates what is already gone. */
export function removeProbeArgvs(p: Probe): string[][] {
  return [
    ['ovs-vsctl', '--timeout=10', '--if-exists', 'del-port', p.port],
    [...IP, 'link', 'del', p.port],
    [...IP, 'netns', 'del', p.namespace],
  ];
}

/** Bounded: 3 echoes, 0.2 s apart, 1 s per reply at most. */
export function pingArgv(from: Probe, to: Probe): string[] {
  return [...IP, 'netns', 'exec', from.namespace, 'ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', to.address];
}

import { readFileSync } from 'node:fs';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { Host } from '../../src/inventory/host-registry.ts';
import { parseRound1, parseRound2 } from '../../src/libvirt/virsh-batch.ts';
import { parseOvsSnapshot } from '../../src/ovs/snapshot.ts';

/** The marker test/fixtures/capture-lab-fixtures.sh used. */
export const FIXTURE_MARKER = '::tl-c0ffee15ca9e::';

const read = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/**
 * A HostState built with the project's parsers from output captured on a real lab host
 * (libvirt round 1 + 2 and the OVS tables, taken while the fixture VMs ran).
 */
export function fixtureHostState(host = 'hv1'): HostState {
  const round1 = parseRound1(read('libvirt/round1.txt'), FIXTURE_MARKER);
  const lines = (p: string) => read(p).split('\n').filter(Boolean);
  const round2 = parseRound2(
    read('libvirt/round2.txt'),
    FIXTURE_MARKER,
    lines('libvirt/round2.domain-uuids'),
    lines('libvirt/round2.network-uuids'),
  );
  const at = '2026-11-29T02:00:00.000Z';
  return {
    host,
    status: 'REACHABLE',
    observedAt: at,
    checkedAt: at,
    error: null,
    versions: { ovs: '3.1.0', ...round1.versions },
    ovs: parseOvsSnapshot(read('ovs/snapshot-lab-running-vms.jsonl')),
    libvirt: round2,
    read: { roundTrips: 2, commands: 4, durationMs: 0 },
  };
}

/** A registry entry for pure tests (never connected to). */
export function testHost(name = 'hv1'): Host {
  return {
    name,
    address: '198.18.0.6',
    port: 22,
    user: 'trunkline',
    privateKeyPath: '/k',
    hostKeyFingerprint: 'SHA256:uQ8t0pXo3rXGZ2n2cB8Hn8kqJvJY4m6bXo0mJq3mZ7c',
    defaults: { bridge: 'ovsbr0', uplink: 'enp5s0f0' },
  };
}

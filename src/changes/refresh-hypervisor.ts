import { snapshotArgv } from '../ovs/snapshot.ts';
import type { Plan } from './plan.ts';

/** Plan for refreshHypervisor: one read-only step per host (they run in parallel). */
export function planRefresh(hypervisors: readonly string[]): Plan {
  return {
    kind: 'refreshHypervisor',
    hypervisors: [...hypervisors],
    steps: hypervisors.map((host) => ({
      host,
      subject: host,
      description: `read the state of ${host} (OVS, libvirt networks and VMs)`,
      probe: { kind: 'host-state' as const, argv: snapshotArgv() },
      wanted: 'observed',
      apply: null,
      observed: null,
      changes: false,
    })),
  };
}

/** The fleet queries the benchmarks send (and the abuse-limit tests check the defaults pass). */
export const QUERIES = {
  fleet:
    '{ hypervisors { name status stale observedAt bridges { name ports { name tag trunks } } vms(first: 50) { nodes { name state interfaces { mac portgroup vlanTags } } } } }',
  vlan: '{ vlan(tag: 1001) { interfaces { hypervisor vmName mac } } }',
  small: '{ hypervisors { name status } }',
  /** Not in the issue: touches no Redis at all, so it shows the cost of yoga + HTTP alone. */
  floor: '{ __typename }',
} as const;

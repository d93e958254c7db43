/** GraphQL operations the gateway must refuse before running them (issue 12), for the benchmark and the tests. */

/** The flood: `n` aliases of the fleet query (2,000 make about 250 KB). */
export function aliasFlood(n: number): string {
  const one = 'hypervisors { name bridges { name ports { name tag trunks } } vms { nodes { name interfaces { mac } } } }';
  return `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${one}`).join(' ')} }`;
}

/** `{ vlans { interfaces { vm { interfaces { vm … } } } } }`, `levels` below the first interfaces: VmInterface.vm and Vm.interfaces go round. */
export function deepQuery(levels: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < levels; i++) {
    open += i % 2 === 0 ? 'vm { ' : 'interfaces { ';
    close += ' }';
  }
  return `{ vlans { interfaces { ${open}${levels % 2 === 1 ? 'name' : 'mac'}${close} } } }`;
}

export const INTROSPECTION_QUERY = '{ __schema { types { name fields { name type { name kind ofType { name } } } } } }';

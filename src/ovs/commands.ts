/**
 * argv builders for ovs-vsctl. Pure: they only build arrays; names are validated before they
 * get here and quoted by ssh/quote.ts on the way out.
 */

// Bound every wait on ovsdb/vswitchd: a hung daemon must fail the step, not hang the worker.
const OVS = ['ovs-vsctl', '--timeout=10'] as const;

/** Prints the bridge's datapath_type, or nothing at all when the bridge does not exist. */
export function bridgeDatapathArgv(bridge: string): string[] {
  return [...OVS, '--if-exists', 'get', 'Bridge', bridge, 'datapath_type'];
}

/**
 * Creates the bridge if missing and sets its datapath, in one OVSDB transaction.
 * `--may-exist add-br` alone would leave an existing bridge's columns untouched.
 */
export function ensureBridgeArgv(bridge: string, datapathType: string): string[] {
  return [...OVS, '--may-exist', 'add-br', bridge, '--', 'set', 'Bridge', bridge, `datapath_type=${datapathType}`];
}

/** Deletes the bridge with all its ports; no error when absent. */
export function deleteBridgeArgv(bridge: string): string[] {
  return [...OVS, '--if-exists', 'del-br', bridge];
}

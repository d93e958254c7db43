/**
 * argv builders for ovs-vsctl. Pure: they only build arrays; names are validated before they
 * get here and quoted by ssh/quote.ts on the way out.
 *
 * No `--` before names: ovs-vsctl stops reading options at the first command word and takes every
 * word after it as an argument (`add-br -x` makes a bridge "-x"), while `--` separates COMMANDS
 * (`add-br -- NAME` fails: "'add-br' command requires at least 1 arguments"). Checked on OVS 3.1.
 * Names starting with '-' are refused by validation/names.ts instead.
 */

// Bound every wait on ovsdb/vswitchd: a hung daemon must fail the step, not hang the worker.
const OVS = ['ovs-vsctl', '--timeout=10'] as const;

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

/** A port's VLAN settings as OVS stores them. */
export interface PortVlans {
  tag: number | null;
  trunks: number[];
  vlanMode: 'access' | 'trunk' | 'native-tagged' | 'native-untagged' | null;
}

/** `col=value` words for ovs-vsctl `set Port`: empty sets written as [] so one command sets all. */
export function portVlanColumns(v: PortVlans): string[] {
  return [`tag=${v.tag ?? '[]'}`, `trunks=${v.trunks.length ? v.trunks.join(',') : '[]'}`, `vlan_mode=${v.vlanMode ?? '[]'}`];
}

/**
 * Adds the port if missing and sets its VLANs and interface type, in one transaction:
 * `--may-exist add-port B P tag=5` would NOT apply tag=5 to an existing port (docs/lab.md).
 */
export function ensurePortArgv(bridge: string, port: string, type: 'internal' | 'system', v: PortVlans): string[] {
  return [
    ...OVS,
    '--may-exist',
    'add-port',
    bridge,
    port,
    '--',
    'set',
    'Port',
    port,
    ...portVlanColumns(v),
    '--',
    'set',
    'Interface',
    port,
    `type=${type === 'system' ? '""' : type}`,
  ];
}

export function setPortVlansArgv(port: string, v: PortVlans): string[] {
  return [...OVS, 'set', 'Port', port, ...portVlanColumns(v)];
}

export function deletePortArgv(port: string): string[] {
  return [...OVS, '--if-exists', 'del-port', port];
}

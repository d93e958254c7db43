import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import { cellMap, cellOptional, cellSet, cellString, parseOvsTables, type OvsTable } from './ovsdb-json.ts';

/** One host's Open vSwitch configuration, as read in a single ovs-vsctl transaction. */
export interface OvsSnapshot {
  bridges: OvsBridge[];
}
export interface OvsBridge {
  uuid: string;
  name: string;
  /** '' in OVSDB means the default, `system`. */
  datapathType: string;
  ports: OvsPort[];
}
export interface OvsPort {
  uuid: string;
  name: string;
  tag: number | null;
  trunks: number[];
  vlanMode: string | null;
  interfaces: OvsInterface[];
}
export interface OvsInterface {
  uuid: string;
  name: string;
  type: string;
  ofport: number | null;
  externalIds: Record<string, string>;
  error: string | null;
}

export const BRIDGE_COLUMNS = ['_uuid', 'name', 'datapath_type', 'ports'] as const;
export const PORT_COLUMNS = ['_uuid', 'name', 'tag', 'trunks', 'vlan_mode', 'interfaces'] as const;
export const INTERFACE_COLUMNS = ['_uuid', 'name', 'type', 'ofport', 'external_ids', 'error'] as const;

/**
 * argv that reads bridges, ports and interfaces in one round trip and one OVSDB transaction,
 * however many ports the host has.
 */
export function snapshotArgv(): string[] {
  return [
    'ovs-vsctl',
    '--format=json',
    '--data=json',
    '--timeout=10',
    '--',
    `--columns=${BRIDGE_COLUMNS.join(',')}`,
    'list',
    'Bridge',
    '--',
    `--columns=${PORT_COLUMNS.join(',')}`,
    'list',
    'Port',
    '--',
    `--columns=${INTERFACE_COLUMNS.join(',')}`,
    'list',
    'Interface',
  ];
}

function table(tables: OvsTable[], index: number, what: string): OvsTable {
  const t = tables[index];
  if (!t) throw new TrunklineError(ErrorCode.UNEXPECTED_OUTPUT, `ovs-vsctl output lacks the ${what} table`);
  return t;
}

/** Parses the output of `snapshotArgv()` into bridges → ports → interfaces, sorted by name. */
export function parseOvsSnapshot(stdout: string): OvsSnapshot {
  const tables = parseOvsTables(stdout);
  if (tables.length !== 3)
    throw new TrunklineError(
      ErrorCode.UNEXPECTED_OUTPUT,
      `expected 3 tables (Bridge, Port, Interface) from ovs-vsctl, got ${tables.length}`,
    );
  const interfaces = new Map<string, OvsInterface>();
  for (const row of table(tables, 2, 'Interface').rows) {
    const ofport = cellOptional(row.ofport);
    const error = cellOptional(row.error);
    const iface: OvsInterface = {
      uuid: cellString(row._uuid),
      name: cellString(row.name),
      type: cellString(row.type),
      ofport: typeof ofport === 'number' ? ofport : null,
      externalIds: cellMap(row.external_ids),
      error: error === null ? null : String(error),
    };
    interfaces.set(iface.uuid, iface);
  }
  const ports = new Map<string, OvsPort>();
  for (const row of table(tables, 1, 'Port').rows) {
    const tag = cellOptional(row.tag);
    const vlanMode = cellOptional(row.vlan_mode);
    const port: OvsPort = {
      uuid: cellString(row._uuid),
      name: cellString(row.name),
      tag: typeof tag === 'number' ? tag : null,
      trunks: cellSet(row.trunks)
        .map(Number)
        .sort((a, b) => a - b),
      vlanMode: vlanMode === null ? null : String(vlanMode),
      interfaces: cellSet(row.interfaces)
        .map((u) => interfaces.get(String(u)))
        .filter((i): i is OvsInterface => i !== undefined)
        .sort(byName),
    };
    ports.set(port.uuid, port);
  }
  const bridges = table(tables, 0, 'Bridge').rows.map(
    (row): OvsBridge => ({
      uuid: cellString(row._uuid),
      name: cellString(row.name),
      datapathType: cellString(row.datapath_type),
      ports: cellSet(row.ports)
        .map((u) => ports.get(String(u)))
        .filter((p): p is OvsPort => p !== undefined)
        .sort(byName),
    }),
  );
  return { bridges: bridges.sort(byName) };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

// Every OVS step of a host is observed with the snapshot command, so one round's output is
// parsed once for all of them (the parsed snapshot is shared: callers only read it).
let lastParsed: { stdout: string; snapshot: OvsSnapshot } | undefined;

/** parseOvsSnapshot, remembering the last output it parsed. */
export function parseOvsSnapshotOnce(stdout: string): OvsSnapshot {
  if (lastParsed?.stdout !== stdout) lastParsed = { stdout, snapshot: parseOvsSnapshot(stdout) };
  return lastParsed.snapshot;
}

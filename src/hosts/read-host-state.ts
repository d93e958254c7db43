import { describeError, ErrorCode } from '../errors/codes.ts';
import type { Host } from '../inventory/host-registry.ts';
import {
  combinedReadArgv,
  inventoryRound1Argv,
  inventoryRound2Argv,
  newMarker,
  parseRound1,
  parseRound2,
  splitCombinedRead,
} from '../libvirt/virsh-batch.ts';
import { parseOvsSnapshot, snapshotArgv } from '../ovs/snapshot.ts';
import { okStdout as ok } from '../ssh/command-output.ts';
import type { CommandRunner, ExecResult } from '../ssh/runner.ts';
import { withFailedRead, type HostState } from './host-state.ts';

/** `ovs-appctl version` asks the running ovs-vswitchd, not the client binary. */
export const OVS_VERSION_ARGV = ['ovs-appctl', '--timeout=10', 'version'];

export function parseOvsVersion(stdout: string): string | null {
  return /\(Open vSwitch\)\s+(\S+)/.exec(stdout)?.[1] ?? null;
}

/**
 * Reads a host's whole state in two sequential SSH round trips, however many bridges, ports,
 * VMs and networks it has: (1) the OVS tables, the vswitchd version and libvirt's object lists
 * in parallel, (2) every domain's and network's XML in a single virsh process.
 * Never throws: a failed read becomes the previous state marked UNREACHABLE (or REACHABLE with
 * an error, when the host answered but a command failed).
 */
export async function readHostState(runner: CommandRunner, host: Host, previous: HostState | null, timeoutMs: number): Promise<HostState> {
  const started = performance.now();
  const marker = newMarker();
  try {
    const [ovsOut, versionOut, round1Out] = await Promise.all([
      runner.exec(host, snapshotArgv(), { timeoutMs }),
      runner.exec(host, OVS_VERSION_ARGV, { timeoutMs }),
      runner.exec(host, inventoryRound1Argv(marker), { timeoutMs }),
    ]);
    const ovs = parseOvsSnapshot(ok('ovs-vsctl list', ovsOut));
    const round1 = parseRound1(ok('virsh (lists)', round1Out), marker);
    let commands = 3;
    let roundTrips = 1;
    let libvirt: HostState['libvirt'] = { domains: [], networks: [] };
    // null when the host has neither domains nor networks: nothing more to read.
    const round2Argv = inventoryRound2Argv(marker, round1.domainUuids, round1.networkUuids);
    if (round2Argv) {
      const round2Out = await runner.exec(host, round2Argv, { timeoutMs });
      // virsh reports objects that vanished since round 1 on stderr but still exits 0 for the batch.
      libvirt = parseRound2(ok('virsh (definitions)', round2Out), marker, round1.domainUuids, round1.networkUuids);
      commands++;
      roundTrips++;
    }
    const versions = { ovs: versionOut.exitCode === 0 ? parseOvsVersion(versionOut.stdout) : null, ...round1.versions };
    return reachable(host, versions, ovs, libvirt, { roundTrips, commands, durationMs: Math.round(performance.now() - started) });
  } catch (err) {
    return failedRead(previous, host, err);
  }
}

/**
 * The read after a job that neither defined nor removed domains or networks: the OVS tables and
 * every known domain's and network's XML (2 commands, no dependency between them: one round
 * trip, or part of someone else's batch). The object lists and daemon versions come from the
 * previous complete read; objects created behind Trunkline's back since then appear with the
 * next scheduled refresh, as they would have. null when there is no complete read to build on.
 */
export interface KnownObjectsRead {
  commands: { argv: string[] }[];
  /** The state from the commands' results (in `commands` order); throws on unusable output. */
  build(results: readonly ExecResult[], roundTrips: number): HostState;
}

export function knownObjectsRead(host: Host, previous: HostState | null): KnownObjectsRead | null {
  if (previous?.status !== 'REACHABLE' || previous.error || !previous.libvirt || !previous.ovs) return null;
  const marker = newMarker();
  const domainUuids = previous.libvirt.domains.map((d) => d.uuid);
  const networkUuids = previous.libvirt.networks.map((n) => n.uuid);
  const round2Argv = inventoryRound2Argv(marker, domainUuids, networkUuids);
  return {
    commands: [{ argv: snapshotArgv() }, ...(round2Argv ? [{ argv: round2Argv }] : [])],
    build: (results, roundTrips) => {
      const [ovsOut, round2Out] = results;
      const ovs = parseOvsSnapshot(ok('ovs-vsctl list', ovsOut!));
      // An object removed since the previous read leaves empty sections: it is dropped.
      const libvirt = round2Out
        ? parseRound2(ok('virsh (definitions)', round2Out), marker, domainUuids, networkUuids)
        : { domains: [], networks: [] };
      return reachable(host, previous.versions, ovs, libvirt, {
        roundTrips,
        commands: results.length,
        durationMs: Math.max(...results.map((r) => r.durationMs)),
      });
    },
  };
}

/** What a host part plans from: the host as it is, and the raw results (the OVS snapshot is also every OVS step's first probe). */
export interface PlanningRead {
  state: HostState;
  /** Results by command (argv joined with NUL), for probes that ran the same command. */
  results: Map<string, ExecResult>;
  /** Only the OVS tables were read (the rest is the cache's): not a read to store. */
  partial: boolean;
}

export const argvKey = (argv: readonly string[]): string => argv.join('\0');

/**
 * The read a host part plans from, under the host lock: complete (libvirt's object lists
 * included, so an object made behind Trunkline's back is seen) and usually one round trip: the
 * OVS tables, libvirt's versions and lists, and the XML of every object the cache knew, in one
 * batch. A second round reads only when the lists name objects the cache did not know.
 * Throws when the host cannot be read: nothing is planned from a guess.
 */
export async function readForPlanning(
  runner: CommandRunner,
  host: Host,
  previous: HostState | null,
  timeoutMs: number,
  /** 'ovs': the planner reads only the OVS tables; the rest of the state is the cached one (not a read: `partial`). */
  scope: 'ovs' | 'host' = 'host',
): Promise<PlanningRead> {
  const started = performance.now();
  const usable = previous && previous.status === 'REACHABLE' && !previous.error ? previous : null;
  if (scope === 'ovs' && usable) {
    const out = await runner.execBatch(host, [{ argv: snapshotArgv() }], { timeoutMs });
    const ovs = parseOvsSnapshot(ok('ovs-vsctl list', out[0]!));
    const state = { ...usable, ovs, read: { roundTrips: 1, commands: 1, durationMs: Math.round(performance.now() - started) } };
    return { state, results: new Map([[argvKey(snapshotArgv()), out[0]!]]), partial: true };
  }
  const marker = newMarker();
  const knownDomains = usable?.libvirt?.domains.map((d) => d.uuid) ?? [];
  const knownNetworks = usable?.libvirt?.networks.map((n) => n.uuid) ?? [];
  // One virsh process: the lists, then the XML of the objects the cache knew.
  const virshArgv = combinedReadArgv(marker, knownDomains, knownNetworks);
  const ovsVersion = usable?.versions.ovs ?? null;
  const commands = [snapshotArgv(), virshArgv, ...(ovsVersion ? [] : [OVS_VERSION_ARGV])];
  const out = await runner.execBatch(
    host,
    commands.map((argv) => ({ argv })),
    { timeoutMs },
  );
  const results = new Map(commands.map((argv, i) => [argvKey(argv), out[i]!]));
  const get = (argv: readonly string[]) => results.get(argvKey(argv))!;
  const ovs = parseOvsSnapshot(ok('ovs-vsctl list', get(snapshotArgv())));
  const [round1Out, knownOut] = splitCombinedRead(ok('virsh (lists and definitions)', get(virshArgv)), marker);
  const round1 = parseRound1(round1Out, marker);
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && new Set([...a, ...b]).size === a.length;
  let libvirt: HostState['libvirt'] = { domains: [], networks: [] };
  let roundTrips = 1;
  if (sameSet(round1.domainUuids, knownDomains) && sameSet(round1.networkUuids, knownNetworks)) {
    if (knownDomains.length || knownNetworks.length) libvirt = parseRound2(knownOut, marker, knownDomains, knownNetworks);
  } else {
    const round2Argv = inventoryRound2Argv(marker, round1.domainUuids, round1.networkUuids);
    if (round2Argv) {
      libvirt = parseRound2(
        ok('virsh (definitions)', await runner.exec(host, round2Argv, { timeoutMs })),
        marker,
        round1.domainUuids,
        round1.networkUuids,
      );
      roundTrips++;
    }
  }
  const versionOut = ovsVersion ? null : get(OVS_VERSION_ARGV);
  const versions = { ovs: ovsVersion ?? (versionOut?.exitCode === 0 ? parseOvsVersion(versionOut.stdout) : null), ...round1.versions };
  const state = reachable(host, versions, ovs, libvirt, {
    roundTrips,
    commands: commands.length + roundTrips - 1,
    durationMs: Math.round(performance.now() - started),
  });
  return { state, results, partial: false };
}

function reachable(
  host: Host,
  versions: HostState['versions'],
  ovs: HostState['ovs'],
  libvirt: HostState['libvirt'],
  read: HostState['read'],
): HostState {
  const now = new Date().toISOString();
  return { host: host.name, status: 'REACHABLE', observedAt: now, checkedAt: now, error: null, versions, ovs, libvirt, read };
}

/** What the cache should say after a read of `host` failed with `err`. */
export function failedReadState(previous: HostState | null, host: Host, err: unknown): HostState {
  return failedRead(previous, host, err);
}

function failedRead(previous: HostState | null, host: Host, err: unknown): HostState {
  const { code, message } = describeError(err);
  // These codes mean the host answered; the others mean we could not reach it.
  const answered = code === ErrorCode.COMMAND_FAILED || code === ErrorCode.UNEXPECTED_OUTPUT || code === ErrorCode.COMMAND_TIMEOUT;
  return withFailedRead(previous, host.name, { code, message }, answered);
}

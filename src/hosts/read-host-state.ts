import { describeError, ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { Host } from '../inventory/host-registry.ts';
import { inventoryRound1Argv, inventoryRound2Argv, newMarker, parseRound1, parseRound2 } from '../libvirt/virsh-batch.ts';
import { parseOvsSnapshot, snapshotArgv } from '../ovs/snapshot.ts';
import type { CommandRunner, ExecResult } from '../ssh/ssh-pool.ts';
import { withFailedRead, type HostState } from './host-state.ts';

/** `ovs-appctl version` asks the running ovs-vswitchd, not the client binary. */
export const OVS_VERSION_ARGV = ['ovs-appctl', '--timeout=10', 'version'];

export function parseOvsVersion(stdout: string): string | null {
  return /\(Open vSwitch\)\s+(\S+)/.exec(stdout)?.[1] ?? null;
}

function ok(what: string, result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new TrunklineError(ErrorCode.COMMAND_FAILED, `${what} exited ${result.exitCode}: ${result.stderr.trim().slice(0, 500) || '(no stderr)'}`);
  return result.stdout;
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
  if (!previous || previous.status !== 'REACHABLE' || previous.error || !previous.libvirt || !previous.ovs) return null;
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
      const libvirt = round2Out ? parseRound2(ok('virsh (definitions)', round2Out), marker, domainUuids, networkUuids) : { domains: [], networks: [] };
      return reachable(host, previous.versions, ovs, libvirt, { roundTrips, commands: results.length, durationMs: Math.max(...results.map((r) => r.durationMs)) });
    },
  };
}

function reachable(host: Host, versions: HostState['versions'], ovs: HostState['ovs'], libvirt: HostState['libvirt'], read: HostState['read']): HostState {
  const now = new Date().toISOString();
  return { host: host.name, status: 'REACHABLE', observedAt: now, checkedAt: now, error: null, versions, ovs, libvirt, read };
}

function failedRead(previous: HostState | null, host: Host, err: unknown): HostState {
  const { code, message } = describeError(err);
  // These codes mean the host answered; the others mean we could not reach it.
  const answered = code === ErrorCode.COMMAND_FAILED || code === ErrorCode.UNEXPECTED_OUTPUT || code === ErrorCode.COMMAND_TIMEOUT;
  return withFailedRead(previous, host.name, { code, message }, answered);
}

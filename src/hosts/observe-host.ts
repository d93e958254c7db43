import { describeError } from '../errors/codes.ts';
import type { Host } from '../inventory/host-registry.ts';
import { parseOvsSnapshot, snapshotArgv, type OvsSnapshot } from '../ovs/snapshot.ts';
import type { CommandRunner } from '../ssh/ssh-pool.ts';

export type HostStatus = 'REACHABLE' | 'UNREACHABLE' | 'UNKNOWN';

export interface HostObservation {
  host: string;
  status: HostStatus;
  observedAt: string;
  error: { code: string; message: string } | null;
  ovs: OvsSnapshot | null;
}

/**
 * Reads a host's state in one SSH round trip. Never throws: an unreachable host is an
 * observation too, with the reason.
 */
export async function observeHost(runner: CommandRunner, host: Host, timeoutMs: number): Promise<HostObservation> {
  const observedAt = new Date().toISOString();
  try {
    const result = await runner.exec(host, snapshotArgv(), { timeoutMs });
    if (result.exitCode !== 0) {
      return {
        host: host.name,
        status: 'REACHABLE',
        observedAt,
        error: { code: 'COMMAND_FAILED', message: `ovs-vsctl exited ${result.exitCode}: ${result.stderr.trim().slice(0, 500)}` },
        ovs: null,
      };
    }
    return { host: host.name, status: 'REACHABLE', observedAt, error: null, ovs: parseOvsSnapshot(result.stdout) };
  } catch (err) {
    const { code, message } = describeError(err);
    const reachable = code === 'UNEXPECTED_OUTPUT' || code === 'COMMAND_TIMEOUT';
    return { host: host.name, status: reachable ? 'REACHABLE' : 'UNREACHABLE', observedAt, error: { code, message }, ovs: null };
  }
}

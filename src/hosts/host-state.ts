import type { ErrorCode } from '../errors/codes.ts';
import type { LibvirtSnapshot } from '../libvirt/types.ts';
import type { OvsSnapshot } from '../ovs/snapshot.ts';

export type HostStatus = 'REACHABLE' | 'UNREACHABLE' | 'UNKNOWN';

/**
 * What Trunkline last knew about a host. `observedAt` is the time of the last successful
 * read (its data is kept when a later read fails); `checkedAt` is the last attempt.
 */
export interface HostState {
  host: string;
  status: HostStatus;
  observedAt: string | null;
  checkedAt: string;
  error: { code: ErrorCode; message: string } | null;
  versions: { ovs: string | null; libvirt: string | null; qemu: string | null };
  ovs: OvsSnapshot | null;
  libvirt: Omit<LibvirtSnapshot, 'versions'> | null;
  /** How the last successful read went: SSH round trips (sequential) and commands run. */
  read: { roundTrips: number; commands: number; durationMs: number } | null;
}

/** The state of a host never read yet. */
export function unknownHostState(host: string, now = new Date()): HostState {
  return {
    host,
    status: 'UNKNOWN',
    observedAt: null,
    checkedAt: now.toISOString(),
    error: null,
    versions: { ovs: null, libvirt: null, qemu: null },
    ovs: null,
    libvirt: null,
    read: null,
  };
}

/**
 * Merges a failed read into the previous state: keep the last known data (flagged by its
 * observedAt), report the host as unreachable with the reason.
 */
export function withFailedRead(
  previous: HostState | null,
  host: string,
  error: { code: ErrorCode; message: string },
  reachable: boolean,
  now = new Date(),
): HostState {
  const base = previous ?? unknownHostState(host, now);
  return { ...base, status: reachable ? 'REACHABLE' : 'UNREACHABLE', checkedAt: now.toISOString(), error };
}

/**
 * Whether clients should distrust the state: never read, last read failed, or older than the
 * configured freshness.
 */
export function isStale(state: HostState, freshnessSeconds: number, now = Date.now()): boolean {
  if (!state.observedAt || state.error !== null) return true;
  return now - Date.parse(state.observedAt) > freshnessSeconds * 1000;
}

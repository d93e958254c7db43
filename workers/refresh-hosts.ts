import type { HostStateCache } from '../src/hosts/host-state-cache.ts';
import type { HostState } from '../src/hosts/host-state.ts';
import { knownObjectsRead, readHostState } from '../src/hosts/read-host-state.ts';
import type { BatchCommand } from '../src/ssh/command-batch.ts';
import type { Host } from '../src/inventory/host-registry.ts';
import type { Logger } from '../src/log/logger.ts';
import { workerMetrics } from '../src/metrics/worker.ts';
import type { CommandRunner, ExecResult } from '../src/ssh/runner.ts';

export interface RefreshDeps {
  runner: CommandRunner;
  cache: HostStateCache;
  logger: Logger;
  readTimeoutMs: number;
}

/**
 * Reads one host and stores the result in the cache (also a failed read, which keeps the last
 * known data and says why it is old).
 */
export async function refreshHost(deps: RefreshDeps, host: Host): Promise<HostState> {
  const previous = await deps.cache.get(host.name);
  const state = await readHostState(deps.runner, host, previous, deps.readTimeoutMs);
  await deps.cache.put(state);
  workerMetrics.hostReads.inc({ host: host.name, outcome: state.error?.code ?? 'ok' });
  if (state.error) deps.logger.warn({ host: host.name, code: state.error.code, err: state.error.message }, 'host read failed');
  else deps.logger.debug({ host: host.name, ...state.read }, 'host refreshed');
  return state;
}

/**
 * The light re-read (known objects: after a job that created or removed none) as commands for
 * a host part's last batch, and what stores its result; null when only a full read will do.
 */
export async function readAlongFor(
  deps: RefreshDeps,
  host: Host,
  /** The state to build on (default: the cached one). */
  known?: HostState | null,
): Promise<{ commands: BatchCommand[]; done(results: ExecResult[]): Promise<void> } | null> {
  const read = knownObjectsRead(host, known ?? (await deps.cache.get(host.name)));
  if (!read) return null;
  return { commands: read.commands, done: async (results) => void (await deps.cache.put(read.build(results, 1))) };
}

/** Refreshes hosts in parallel: one slow or dead host delays only itself. */
export function refreshHosts(deps: RefreshDeps, hosts: readonly Host[]): Promise<HostState[]> {
  return Promise.all(hosts.map((h) => refreshHost(deps, h)));
}

/** One line a human can read about what a read found. */
export function summarizeState(state: HostState): string {
  if (state.error) return `${state.status}: ${state.error.message}`;
  const bridges = state.ovs?.bridges ?? [];
  const ports = bridges.reduce((n, b) => n + b.ports.length, 0);
  const lv = state.libvirt;
  return `${bridges.length} bridges, ${ports} ports, ${lv?.domains.length ?? 0} VMs, ${lv?.networks.length ?? 0} networks (${state.read?.roundTrips} round trips, ${state.read?.durationMs} ms)`;
}

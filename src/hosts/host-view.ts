import type { Host } from '../inventory/host-registry.ts';
import type { HostState } from './host-state.ts';

/** A registered host with its cached state: what the APIs answer from and plan against. */
export interface HostView {
  host: Host;
  state: HostState;
}

/** The planners' view of a host: state null when it was never read. */
export function memberOf(view: HostView): { host: Host; state: HostState | null } {
  return { host: view.host, state: view.state.status === 'UNKNOWN' ? null : view.state };
}

import { ErrorCode } from '../../errors/codes.ts';
import type { HostState } from '../../hosts/host-state.ts';
import type { Host } from '../../inventory/host-registry.ts';
import type { ChangeJobKind } from '../../jobs/job-kinds.ts';
import type { DatapathType } from '../../validation/names.ts';
import type { AddPortInput, DeleteBridgeInput, RemovePortInput, SetPortVlansInput } from '../inputs.ts';
import type { Plan } from '../plan.ts';
import { bridgeAbsentStep, bridgePresentStep, bridgeStateFromSnapshot } from '../steps/ovs-bridge.ts';
import { portAbsentStep, portPresentStep, portStateFromSnapshot, portVlansStep } from '../steps/ovs-port.ts';
import type { UserError } from '../user-errors.ts';
import { checkPortVlans } from './port-vlans.ts';

/** A planner's answer: a plan, or the reasons it refuses (nothing is queued then). */
export type Planned = { plan: Plan; errors?: undefined } | { plan?: undefined; errors: UserError[] };

const one = (kind: ChangeJobKind, host: string, steps: Plan['steps']): Planned => ({ plan: { kind, hypervisors: [host], steps } });

export function planCreateBridge(host: Host, state: HostState | null, input: { name: string; datapathType: DatapathType }): Planned {
  return one('createBridge', host.name, [
    bridgePresentStep(host.name, input.name, input.datapathType, bridgeStateFromSnapshot(state?.ovs ?? null, input.name)),
  ]);
}

export function planDeleteBridge(host: Host, state: HostState | null, input: Pick<DeleteBridgeInput, 'name'>): Planned {
  return one('deleteBridge', host.name, [bridgeAbsentStep(host.name, input.name, bridgeStateFromSnapshot(state?.ovs ?? null, input.name))]);
}

export function planAddPort(
  host: Host,
  state: HostState | null,
  input: Omit<AddPortInput, 'hypervisor' | 'dryRun' | 'ticketRef' | 'deviceMayBeMissing'> & { deviceMayBeMissing?: boolean },
): Planned {
  const bridge = input.bridge ?? host.defaults.bridge;
  const { vlans, errors } = checkPortVlans({
    ...input,
    trunkAllVlans: input.trunkAllVlans || (input.tag == null && !input.trunks?.length),
  });
  if (errors.length) return { errors };
  const cachedBridge = bridgeStateFromSnapshot(state?.ovs ?? null, bridge);
  if (cachedBridge === null)
    return {
      errors: [
        {
          field: ['input', 'bridge'],
          code: ErrorCode.NOT_FOUND,
          message: `bridge: ${host.name} has no bridge ${bridge} (create it first)`,
        },
      ],
    };
  const cachedPort = portStateFromSnapshot(state?.ovs ?? null, input.name);
  if (cachedPort && cachedPort.bridge !== bridge)
    return {
      errors: [
        {
          field: ['input', 'name'],
          code: ErrorCode.PORT_ON_OTHER_BRIDGE,
          message: `name: port ${input.name} already exists on bridge ${cachedPort.bridge} of ${host.name}`,
        },
      ],
    };
  return one('addPort', host.name, [
    portPresentStep(host.name, bridge, input.name, input.type, vlans, cachedPort, input.deviceMayBeMissing ?? false),
  ]);
}

export function planRemovePort(host: Host, state: HostState | null, input: Pick<RemovePortInput, 'name'>): Planned {
  return one('removePort', host.name, [portAbsentStep(host.name, input.name, portStateFromSnapshot(state?.ovs ?? null, input.name))]);
}

export function planSetPortVlans(
  host: Host,
  state: HostState | null,
  input: Omit<SetPortVlansInput, 'hypervisor' | 'dryRun' | 'ticketRef'>,
): Planned {
  const { vlans, errors } = checkPortVlans(input);
  if (errors.length) return { errors };
  const cached = portStateFromSnapshot(state?.ovs ?? null, input.name);
  if (cached === null)
    return { errors: [{ field: ['input', 'name'], code: ErrorCode.NOT_FOUND, message: `name: ${host.name} has no port ${input.name}` }] };
  return one('setPortVlans', host.name, [portVlansStep(host.name, input.name, vlans, cached)]);
}

import type { Config } from '../../config/config.ts';
import { ErrorCode } from '../../errors/codes.ts';
import { resolveDomain } from '../../fleet/vm-interfaces.ts';
import type { HostState } from '../../hosts/host-state.ts';
import type { Host } from '../../inventory/host-registry.ts';
import type { ChangeJobKind } from '../../jobs/job-kinds.ts';
import { stableMac, type NicSpec } from '../../libvirt/domain-build.ts';
import type { Domain } from '../../libvirt/types.ts';
import { newMarker } from '../../libvirt/virsh-batch.ts';
import type {
  AttachVmInterfaceInput,
  DefineVmInput,
  DetachVmInterfaceInput,
  SetVmInterfaceVlanInput,
  StopVmInput,
  VmRefInput,
} from '../inputs.ts';
import { nicPortgroupStep, nicStep, vmDefinedStep, vmRunningStep, vmStoppedStep, vmUndefinedStep } from '../steps/libvirt-vm.ts';
import { portStateFromSnapshot, portVlansStep } from '../steps/ovs-port.ts';
import type { PlanStep } from '../plan.ts';
import { inputError as err, type UserError } from '../user-errors.ts';
import { portVlansOf } from './libvirt.ts';
import type { Planned } from './ovs.ts';

type Args<T> = Omit<T, 'hypervisor' | 'dryRun' | 'ticketRef'>;
const DEFAULT_NETWORK = 'ovs-network';

function domain(state: HostState | null, name: string): Domain | null | undefined {
  return state?.libvirt ? (state.libvirt.domains.find((d) => d.name === name) ?? null) : undefined;
}

function vmMissing(host: Host, state: HostState | null, name: string, field = 'name'): UserError[] {
  return domain(state, name) === null ? [err([field], ErrorCode.NOT_FOUND, `${host.name} has no VM ${name}`)] : [];
}

/** Checks that the network (and portgroup) a NIC names exist in the cache, when known. */
function checkNic(host: Host, state: HostState | null, network: string, portgroup: string | null, field: string[]): UserError[] {
  if (!state?.libvirt) return [];
  const net = state.libvirt.networks.find((n) => n.name === network);
  if (!net) return [err([...field, 'network'], ErrorCode.NOT_FOUND, `${host.name} has no libvirt network ${network}`)];
  if (portgroup && !net.portgroups.some((p) => p.name === portgroup))
    return [err([...field, 'portgroup'], ErrorCode.NOT_FOUND, `network ${network} on ${host.name} has no portgroup ${portgroup}`)];
  return [];
}

const one = (kind: ChangeJobKind, host: string, steps: PlanStep[]): Planned => ({ plan: { kind, hypervisors: [host], steps } });

export function planDefineVm(host: Host, state: HostState | null, input: Args<DefineVmInput>, config: Config): Planned {
  const nics: NicSpec[] = input.nics.map((n, i) => ({
    network: n.network ?? host.defaults.network ?? DEFAULT_NETWORK,
    portgroup: n.portgroup ?? null,
    // Derived, not random: the same request twice defines the same VM.
    mac: n.mac ?? stableMac(`${host.name}/${input.name}/${i}`),
    model: n.model,
  }));
  const errors = nics.flatMap((n, i) => checkNic(host, state, n.network, n.portgroup, ['nics', String(i)]));
  const macs = new Set<string>();
  nics.forEach((n, i) => {
    if (macs.has(n.mac)) errors.push(err(['nics', String(i), 'mac'], ErrorCode.DUPLICATE_MAC, `MAC ${n.mac} is used twice`));
    macs.add(n.mac);
  });
  if (errors.length) return { errors };
  const spec = { name: input.name, vcpus: input.vcpus, memoryMiB: input.memoryMiB, domainType: config.defaults.vmDomainType, nics };
  return one('defineVm', host.name, [vmDefinedStep(host.name, spec, domain(state, input.name))]);
}

export function planStartVm(host: Host, state: HostState | null, input: Args<VmRefInput>): Planned {
  const errors = vmMissing(host, state, input.name);
  if (errors.length) return { errors };
  return one('startVm', host.name, [vmRunningStep(host.name, input.name, domain(state, input.name)?.state)]);
}

export function planStopVm(host: Host, state: HostState | null, input: Args<StopVmInput>): Planned {
  const errors = vmMissing(host, state, input.name);
  if (errors.length) return { errors };
  return one('stopVm', host.name, [
    vmStoppedStep(host.name, input.name, domain(state, input.name)?.state, input.timeoutSeconds * 1000, input.force),
  ]);
}

export function planUndefineVm(host: Host, state: HostState | null, input: Args<VmRefInput>): Planned {
  const d = domain(state, input.name);
  if (d && d.state !== 'shut off')
    return { errors: [err(['name'], ErrorCode.VM_RUNNING, `VM ${input.name} is ${d.state}; stop it first`)] };
  return one('undefineVm', host.name, [vmUndefinedStep(host.name, input.name, d)]);
}

export function planAttachVmInterface(host: Host, state: HostState | null, input: Args<AttachVmInterfaceInput>): Planned {
  const network = input.network ?? host.defaults.network ?? DEFAULT_NETWORK;
  const errors = [...vmMissing(host, state, input.vm, 'vm'), ...checkNic(host, state, network, input.portgroup ?? null, [])];
  if (errors.length) return { errors };
  const nic: NicSpec = {
    network,
    portgroup: input.portgroup ?? null,
    model: input.model,
    mac: input.mac ?? stableMac(`${host.name}/${input.vm}/${network}/${input.portgroup ?? ''}`),
  };
  return one('attachVmInterface', host.name, [nicStep(host.name, input.vm, nic, newMarker(), null)]);
}

export function planDetachVmInterface(host: Host, state: HostState | null, input: Args<DetachVmInterfaceInput>): Planned {
  const errors = vmMissing(host, state, input.vm, 'vm');
  if (errors.length) return { errors };
  const step = nicStep(host.name, input.vm, { mac: input.mac, network: null, portgroup: null, model: 'virtio' }, newMarker(), null, true);
  return one('detachVmInterface', host.name, [
    {
      ...step,
      waitMs: input.timeoutSeconds * 1000,
      hint: 'the guest did not release the NIC (a live unplug needs the guest OS to acknowledge it); stop the VM and retry, or retry later',
    },
  ]);
}

/**
 * Moves a NIC to another portgroup: its persistent definition (update-device --config) and,
 * while the VM runs, its live OVS port, which libvirt would only retag at the next start.
 */
export function planSetVmInterfaceVlan(host: Host, state: HostState | null, input: Args<SetVmInterfaceVlanInput>): Planned {
  const d = domain(state, input.vm);
  if (d === null) return { errors: [err(['vm'], ErrorCode.NOT_FOUND, `${host.name} has no VM ${input.vm}`)] };
  const nic = d && state ? resolveDomain(state, d).find((i) => i.iface.mac === input.mac) : undefined;
  if (d && !nic) return { errors: [err(['mac'], ErrorCode.NOT_FOUND, `VM ${input.vm} has no NIC ${input.mac}`)] };
  const network = nic?.iface.network ?? host.defaults.network ?? DEFAULT_NETWORK;
  const errors = checkNic(host, state, network, input.portgroup, []);
  if (errors.length) return { errors };
  const steps = [nicPortgroupStep(host.name, input.vm, input.mac, network, input.portgroup, newMarker(), null)];
  const pg = state?.libvirt?.networks.find((n) => n.name === network)?.portgroups.find((p) => p.name === input.portgroup);
  const target = nic?.iface.target;
  if (pg && target && nic?.port)
    steps.push(portVlansStep(host.name, target, portVlansOf(pg), portStateFromSnapshot(state?.ovs ?? null, target)));
  return one('setVmInterfaceVlan', host.name, steps);
}

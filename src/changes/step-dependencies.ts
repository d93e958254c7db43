import type { PlanStep, ProbeKind } from './plan.ts';

/**
 * Whether applying `earlier` can change what `later`'s probe reports. The worker observes all
 * of a host's steps in one round trip and sends independent changes together; a step that
 * depends on an earlier change is observed again (with the earlier step's verification, in the
 * same round trip) before its own command is chosen. When unsure, a pair is dependent: that
 * costs a round trip, never correctness.
 */
export function dependsOn(earlier: PlanStep, later: PlanStep): boolean {
  if (earlier.host !== later.host) return false;
  const a = earlier.probe.kind;
  const b = later.probe.kind;
  const da = domainOf(a);
  const db = domainOf(b);
  if (da === 'other' || db === 'other') return true;
  if (da === 'ovs' && db === 'ovs') {
    // A bridge change adds or removes ports with it; ports are independent of each other.
    if (a === 'ovs-bridge') return true;
    if (b === 'ovs-bridge') return false;
    return portOf(earlier) === portOf(later);
  }
  if (da === 'network' && db === 'network') {
    if (networkOf(earlier) !== networkOf(later)) return false;
    // net-update touches one portgroup; it neither starts nor stops the network.
    if (a === 'libvirt-portgroup' && b === 'libvirt-portgroup') return earlier.subject === later.subject;
    if (a === 'libvirt-portgroup' && b === 'libvirt-network-run') return false;
    return true;
  }
  if (da === 'vm' && db === 'vm') return vmOf(earlier) === vmOf(later);
  // Starting a VM or plugging a NIC adds OVS ports (vnetN) whose names nobody knows beforehand.
  if (da === 'vm' && db === 'ovs') return true;
  return false;
}

type Domain = 'ovs' | 'network' | 'vm' | 'other';

function domainOf(kind: ProbeKind): Domain {
  switch (kind) {
    case 'ovs-bridge':
    case 'ovs-port':
    case 'ovs-port-vlans':
    case 'ovs-uplink-vlan':
      return 'ovs';
    case 'libvirt-network-def':
    case 'libvirt-network-run':
    case 'libvirt-portgroup':
      return 'network';
    case 'libvirt-vm-def':
    case 'libvirt-vm-state':
    case 'libvirt-vm-nic':
    case 'libvirt-vm-nic-portgroup':
      return 'vm';
    default:
      return 'other';
  }
}

/** Port steps are about the port (subject); uplink steps about "port/tag". */
function portOf(step: PlanStep): string {
  return step.probe.kind === 'ovs-uplink-vlan' ? step.subject.slice(0, step.subject.lastIndexOf('/')) : step.subject;
}

/** Network steps are about the network; portgroup steps about "network/portgroup". */
function networkOf(step: PlanStep): string {
  return step.probe.kind === 'libvirt-portgroup' ? step.subject.slice(0, step.subject.indexOf('/')) : step.subject;
}

/** VM steps are about the VM; NIC steps about "vm/mac". */
function vmOf(step: PlanStep): string {
  return step.probe.kind === 'libvirt-vm-nic' || step.probe.kind === 'libvirt-vm-nic-portgroup'
    ? step.subject.slice(0, step.subject.lastIndexOf('/'))
    : step.subject;
}

import type { JobKind } from '../jobs/job-kinds.ts';

/** What each kind of job does, as both APIs document it (GraphQL mutation and REST operation descriptions). */
export const JOB_KIND_DESCRIPTIONS: Readonly<Record<JobKind, string>> = {
  createBridge: 'Ensures an Open vSwitch bridge exists on a hypervisor, with its datapath type. Idempotent.',
  deleteBridge: 'Ensures a bridge is gone, with all its ports. Cannot be rolled back.',
  addPort:
    "Ensures a port exists on a bridge (the host's default bridge unless given) with exactly these VLAN settings and interface type, in one OVS transaction. A port without tag and trunks carries every VLAN.",
  removePort: 'Ensures a port is gone. Rolled back (re-added as it was) if a later step of the job fails.',
  setPortVlans:
    'Sets the VLANs of an existing port (tag, trunks, vlan_mode are all set: what is not given is cleared). Refuses to leave a port trunking every VLAN unless trunkAllVlans is true.',
  defineNetwork:
    "Ensures a libvirt network for OVS (forward mode bridge, virtualport openvswitch) with these portgroups is defined, active and autostarted. Defaults: the host's default network name (else ovs-network) and bridge. An existing network converges and keeps its UUID: portgroups (compared as a set) change live and persistently and running VMs on them are retagged; a running network's bridge cannot change without a restart (NETWORK_RESTART_REQUIRED, nothing changed).",
  deleteNetwork: 'Ensures a libvirt network is stopped and undefined. Refused while VM NICs use it, unless force.',
  addPortgroup:
    'Adds or changes a portgroup in a network, live and persistent (net-update --live --config), and retags the OVS ports of running VMs on it (libvirt leaves plugged ports alone).',
  removePortgroup: 'Removes a portgroup, live and persistent. Refused while VM NICs use it, unless force.',
  defineVm:
    'Ensures a minimal VM is defined (no disk; ACPI and APIC so that NIC hotplug and graceful shutdown work). One Trunkline defined is redefined with its UUID (a running VM takes the new definition at its next start); a VM not defined by Trunkline is never redefined.',
  startVm: 'Ensures a VM is running.',
  stopVm:
    'Ensures a VM is shut off: ACPI shutdown, then waits up to timeoutSeconds; with force, a guest that did not stop is then powered off (virsh destroy).',
  undefineVm: 'Ensures a (stopped) VM is undefined. Rolled back (redefined as it was) if a later step fails.',
  attachVmInterface: 'Ensures a VM has a NIC on a network/portgroup, in its definition and, while it runs, hot-plugged (live).',
  detachVmInterface:
    'Ensures a NIC (by MAC) is gone from a VM, live and persistent. A live unplug completes when the guest releases the device; if it does not within timeoutSeconds, the job fails and the NIC is restored as it was.',
  setVmInterfaceVlan:
    "Moves a NIC to another portgroup: its persistent definition, and while the VM runs its OVS port's VLANs (libvirt retags only at the next start).",
  ensureVlan:
    "Makes a VLAN usable on hypervisors, in one job (hosts in parallel, each host's steps in order): the bridge exists, the uplink trunks the tag (added, other VLANs kept), the libvirt network exists with portgroup vlan-<tag>, and trunk portgroups (vlan-all style) include it. Bridge, uplink and network default to each host's registry defaults. Idempotent; repairs drift.",
  removeVlan:
    'Takes a VLAN off hypervisors: its portgroup, the tag in trunk portgroups and in the uplink trunks. Refused while VM NICs are on it (they are listed) unless force; never leaves a trunk empty (that would carry every VLAN).',
  verifyVlan:
    "Proves a VLAN works: on each hypervisor a temporary probe (a network namespace on an access port of the VLAN, address in 198.19.0.0/16) pings the others across hosts, and probes on each isolationFrom VLAN, in the same subnet, must reach none of them. Probes are always removed, also on failure or cancel. The job's `verification` holds the connectivity matrix.",
  refreshHypervisor: 'Queues a read of hosts into the cache; follow the job for the result.',
};

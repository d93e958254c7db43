/** libvirt objects as Trunkline reads them from a host (parsed from virsh output). */

export interface LibvirtVersions {
  /** e.g. "9.0.0" (from "Using library: libvirt 9.0.0"). */
  libvirt: string | null;
  /** e.g. "7.2.22" (from "Running hypervisor: QEMU 7.2.22"). */
  qemu: string | null;
}

export interface VlanSpec {
  /** VLAN ids in <vlan><tag id=.../></vlan>, in document order, except that the native one (nativeMode) comes first. */
  tags: number[];
  /** <vlan trunk='yes'>. */
  trunk: boolean;
  /** nativeMode attribute of a <tag nativeMode=...> (tagged|untagged), if any. */
  nativeMode: string | null;
}

export interface Portgroup {
  name: string;
  isDefault: boolean;
  vlan: VlanSpec | null;
}

export interface LibvirtNetwork {
  name: string;
  uuid: string;
  /** <forward mode=...>; null when there is no <forward> (isolated network). */
  forwardMode: string | null;
  bridge: string | null;
  virtualportType: string | null;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  portgroups: Portgroup[];
}

export interface DomainInterface {
  /** <interface type=...>: 'network' in inactive XML, 'bridge' once a running VM resolved it. */
  type: string;
  mac: string | null;
  network: string | null;
  portgroup: string | null;
  bridge: string | null;
  /** <target dev=...>: the OVS port name (vnetN) while the VM runs. */
  target: string | null;
  virtualportType: string | null;
  model: string | null;
  /** VLAN config in the interface XML itself (running VMs carry the resolved portgroup's). */
  vlan: VlanSpec | null;
}

export interface Domain {
  name: string;
  uuid: string;
  /** virsh domstate: running, shut off, paused, ... */
  state: string;
  vcpus: number;
  memoryKiB: number;
  interfaces: DomainInterface[];
}

export interface LibvirtSnapshot {
  versions: LibvirtVersions;
  networks: LibvirtNetwork[];
  domains: Domain[];
}

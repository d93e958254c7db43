/**
 * libvirt's side of "no change applied twice": libvirtd logs the entry of every public network and
 * domain API call (log filters `1:libvirt.network 1:libvirt.domain`, to API_LOG inside the lab
 * host), so the changes Trunkline made (`virsh net-update`, `net-define`, `start`, ...) can be
 * counted like the OVSDB log's transactions. Pure functions, tested on a log captured from a lab
 * host (test/fixtures/chaos/libvirt-api-hv1.txt).
 */
import type { OvsdbRecord } from './ovs-log.ts';
import { commandWords } from './ovs-log.ts';

/** Where each lab host's libvirtd writes the API log (inside the host's mount namespace). */
export const API_LOG = '/var/log/libvirt/api.log';
export const API_LOG_FILTERS = '1:libvirt.network 1:libvirt.domain';
/** The lab's own daemon log stays as it was; the API log comes next to it. */
export const API_LOG_OUTPUTS = `1:file:${API_LOG} 3:file:/var/log/libvirt/libvirtd.log`;

/** The API calls that change a host, by the virsh verb that makes them. */
const VERB_OF: Readonly<Record<string, string>> = {
  virNetworkUpdate: 'net-update',
  virNetworkDefineXML: 'net-define',
  virNetworkDefineXMLFlags: 'net-define',
  virNetworkCreate: 'net-start',
  virNetworkCreateXML: 'net-create',
  virNetworkDestroy: 'net-destroy',
  virNetworkUndefine: 'net-undefine',
  virNetworkSetAutostart: 'net-autostart',
  virDomainDefineXML: 'define',
  virDomainDefineXMLFlags: 'define',
  virDomainUndefine: 'undefine',
  virDomainUndefineFlags: 'undefine',
  virDomainCreate: 'start',
  virDomainCreateWithFlags: 'start',
  virDomainDestroy: 'destroy',
  virDomainDestroyFlags: 'destroy',
  virDomainShutdown: 'shutdown',
  virDomainShutdownFlags: 'shutdown',
  virDomainAttachDevice: 'attach-device',
  virDomainAttachDeviceFlags: 'attach-device',
  virDomainDetachDevice: 'detach-device',
  virDomainDetachDeviceFlags: 'detach-device',
  virDomainDetachDeviceAlias: 'detach-device',
  virDomainUpdateDeviceFlags: 'update-device',
};
const VERBS = new Set(Object.values(VERB_OF));

/** virNetworkUpdate's `command` and `section` numbers (libvirt-network.h) as virsh names them. */
const UPDATE_COMMANDS: Readonly<Record<string, string>> = { '1': 'modify', '2': 'delete', '3': 'add', '4': 'add-first' };
const SECTIONS: Readonly<Record<string, string>> = {
  '1': 'bridge',
  '2': 'domain',
  '3': 'ip',
  '4': 'ip-dhcp-host',
  '5': 'ip-dhcp-range',
  '6': 'forward',
  '7': 'forward-interface',
  '8': 'forward-pf',
  '9': 'portgroup',
  '10': 'dns-host',
  '11': 'dns-txt',
  '12': 'dns-srv',
};

// "2026-12-01 17:00:48.313+0000: 23101: debug : virNetworkUpdate:647 : network=0x7f.., command=3, ..."
const LINE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)\+0000: \d+: debug : (vir\w+):\d+ : (.*)$/;
// A call's entry line names its object first; other lines of the same function are its remarks.
const ENTRY = /^(conn|network|net|domain|dom)=0x[0-9a-f]+/;
const UPDATE = /command=(\d+), section=(\d+), parentIndex=-?\d+, xml=(.*), flags=0x[0-9a-f]+$/;

/**
 * The changing API calls of a log, as records the change check reads like OVSDB transactions:
 * `comment` is the call's key (libvirtCallKey), `index` its line number.
 */
export function parseApiLog(text: string): OvsdbRecord[] {
  const out: OvsdbRecord[] = [];
  text.split('\n').forEach((line, i) => {
    const m = LINE.exec(line);
    if (!m || !VERB_OF[m[3]!] || !ENTRY.test(m[4]!)) return;
    out.push({ index: i + 1, at: Date.parse(`${m[1]}T${m[2]}Z`), comment: libvirtCallKey(m[3]!, m[4]!), changes: [] });
  });
  return out;
}

/** `net-update add portgroup <xml>` for an update (the network is a pointer in the log), else the verb. */
export function libvirtCallKey(fn: string, args: string): string {
  const verb = VERB_OF[fn] ?? fn;
  if (verb !== 'net-update') return verb;
  const u = UPDATE.exec(args);
  if (!u) return verb;
  return `net-update ${UPDATE_COMMANDS[u[1]!] ?? u[1]} ${SECTIONS[u[2]!] ?? u[2]} ${u[3]}`;
}

/**
 * The key of the libvirt call a step's (or rollback's) shell command makes, in the form
 * libvirtCallKey gives the log's entry; null when it is not a virsh command that changes anything.
 */
export function libvirtStepKey(command: string | null | undefined): string | null {
  const words = commandWords(command, 'virsh');
  if (!words) return null;
  const at = words.findIndex((w, i) => i > 0 && VERBS.has(w));
  if (at < 0) return null;
  const verb = words[at]!;
  if (verb !== 'net-update') return verb;
  // net-update [--live] [--config] [--] NETWORK COMMAND SECTION XML
  const rest = words.slice(at + 1).filter((w) => !w.startsWith('--'));
  const [, cmd, section, xml] = rest;
  if (!cmd || !section || !xml) return verb;
  return `net-update ${cmd === 'add-last' ? 'add' : cmd} ${section} ${xml}`;
}

/** Whether a libvirt change is one a job of this kind and input may make (it names the job's portgroup). */
export function libvirtCommandFits(kind: string, input: Record<string, any>, key: string): boolean {
  switch (kind) {
    // addPortgroup names it in its portgroup (the API's input), removePortgroup as `name`.
    case 'addPortgroup':
      return key.includes(`name='${input.portgroup?.name}'`);
    case 'removePortgroup':
      return key.includes(`name='${input.name}'`);
    case 'ensureVlan':
    case 'removeVlan':
      return key.includes(`name='vlan-${input.tag}'`);
    default:
      return false;
  }
}

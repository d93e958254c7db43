import type { ApiToken, Bridge, Caller, Job, Network, Port, Verification, Vlan, Vm, WebhookDelivery } from '../api.ts';
import { type Column, col } from './table.ts';

/*
 * The columns of each kind of API object (openapi.yaml components): lists show the short set,
 * `show` the long one. Keys are the JSON field paths, so `-c` takes what `-o json` shows.
 */

const problemText = (e: { code: string; message: string } | null | undefined) => (e ? `${e.code}: ${e.message}` : null);

export const HOST_COLUMNS: Column[] = [
  col('name'),
  col('address'),
  col('status', { state: true }),
  col('stale'),
  col('observedAt'),
  col('counts.bridges', { header: 'BRIDGES' }),
  col('counts.ports', { header: 'PORTS' }),
  col('counts.networks', { header: 'NETWORKS' }),
  col('counts.vms', { header: 'VMS' }),
];

export const HOST_FIELDS: Column[] = [
  col('name'),
  col('address'),
  col('port'),
  col('user'),
  col('status', { state: true }),
  col('stale'),
  col('observedAt'),
  col('checkedAt'),
  col<{ lastError: { code: string; message: string } | null }>('lastError', { get: (h) => problemText(h.lastError) }),
  col('hostKeyFingerprint'),
  col('defaults.bridge'),
  col('defaults.uplink'),
  col('defaults.network'),
  col('defaults.datapathType'),
  col('versions.ovs'),
  col('versions.libvirt'),
  col('versions.qemu'),
  col('counts.bridges'),
  col('counts.ports'),
  col('counts.networks'),
  col('counts.vms'),
];

export const BRIDGE_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('name'),
  col('datapathType', { header: 'DATAPATH' }),
  col<Bridge>('ports', { get: (b) => b.ports.map((p) => p.name) }),
];

export const PORT_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('bridge'),
  col('name'),
  col('tag'),
  col('trunks'),
  col('vlanMode'),
  col<Port>('type', { get: (p) => p.interfaces.map((i) => i.type) }),
  col<Port>('error', { get: (p) => p.interfaces.map((i) => i.error).filter(Boolean) }),
];

export const NETWORK_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('name'),
  col('active'),
  col('autostart'),
  col('bridge'),
  col('forwardMode', { header: 'FORWARD' }),
  col('virtualportType', { header: 'VIRTUALPORT' }),
  col<Network>('portgroups', { get: (n) => n.portgroups.map((p) => p.name) }),
];

export const NETWORK_FIELDS: Column[] = [
  col('hypervisor'),
  col('name'),
  col('uuid'),
  col('active'),
  col('autostart'),
  col('persistent'),
  col('bridge'),
  col('forwardMode'),
  col('virtualportType'),
  col<Network>('portgroups', { get: (n) => n.portgroups.map((p) => p.name) }),
];

export const PORTGROUP_COLUMNS: Column[] = [
  col('name'),
  col('isDefault', { header: 'DEFAULT' }),
  col('vlanTags', { header: 'VLANS' }),
  col('trunk'),
  col('nativeMode'),
];

export const VM_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('name'),
  col('state', { state: true }),
  col('vcpus'),
  col('memoryMiB', { header: 'MEMORY_MIB' }),
  col<Vm>('nics', { get: (v) => v.interfaces.map((i) => `${i.mac}@${i.portgroup ?? i.network ?? '-'}`) }),
];

export const VM_FIELDS: Column[] = [
  col('hypervisor'),
  col('name'),
  col('uuid'),
  col('state', { state: true }),
  col('vcpus'),
  col('memoryMiB'),
  col<Vm>('interfaces', { get: (v) => v.interfaces.map((i) => i.mac) }),
];

export const NIC_COLUMNS: Column[] = [
  col('vm'),
  col('index'),
  col('mac'),
  col('network'),
  col('portgroup'),
  col('target'),
  col('configuredVlanTags', { header: 'CONFIGURED' }),
  col('vlanTags', { header: 'LIVE_VLANS' }),
  col('model'),
];

export const VLAN_COLUMNS: Column[] = [
  col('tag'),
  col('name'),
  col('carriedBy'),
  col('missingOn'),
  col<Vlan>('portgroups', { get: (v) => v.portgroups.length }),
  col<Vlan>('interfaces', { header: 'NICS', get: (v) => v.interfaces.length }),
  col<Vlan>('drift', { get: (v) => v.drift.length }),
];

export const UPLINK_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('bridge'),
  col('uplink'),
  col('carriage', { state: true }),
  col('carried'),
];
export const VLAN_PORTGROUP_COLUMNS: Column[] = [
  col('hypervisor', { header: 'HOST' }),
  col('network'),
  col('name'),
  col('isDefault', { header: 'DEFAULT' }),
  col('trunk'),
];
export const DRIFT_COLUMNS: Column[] = [col('hypervisor', { header: 'HOST' }), col('kind'), col('subject'), col('message')];

export const JOB_COLUMNS: Column[] = [
  col('id'),
  col('kind'),
  col('state', { state: true }),
  col('hypervisors', { header: 'HOSTS' }),
  col('ticketRef', { header: 'TICKET' }),
  col('requestedBy', { header: 'BY' }),
  col('createdAt', { header: 'CREATED' }),
  col<Job>('progress', { get: (j) => `${j.progress.done}/${j.progress.total}` }),
];

export const JOB_FIELDS: Column[] = [
  col('id'),
  col('kind'),
  col('state', { state: true }),
  col('hypervisors'),
  col('ticketRef'),
  col('requestedBy'),
  col('createdAt'),
  col('startedAt'),
  col('finishedAt'),
  col('progress.message'),
  col<Job>('error', { get: (j) => problemText(j.error) }),
];

export const PLAN_STEP_COLUMNS: Column[] = [
  col('host'),
  col('description'),
  col('wouldChange'),
  col('observed'),
  col('wanted'),
  col('command'),
];
export const JOB_STEP_COLUMNS: Column[] = [
  col('index'),
  col('host'),
  col('state', { state: true }),
  col('changed'),
  col('durationMs', { header: 'MS' }),
  col('description'),
  col('command'),
];
export const JOB_HOST_COLUMNS: Column[] = [col('hypervisor', { header: 'HOST' }), col('state', { state: true }), col('message')];
export const EVENT_COLUMNS: Column[] = [
  col('id'),
  col('at'),
  col('type', { state: true }),
  col('hypervisor', { header: 'HOST' }),
  col('message'),
];

type Probe = Verification['results'][number];
export const VERIFY_COLUMNS: Column[] = [
  col('fromHost', { header: 'FROM' }),
  col('fromVlan', { header: 'VLAN' }),
  col('toHost', { header: 'TO' }),
  col('expect'),
  col<Probe>('received', { get: (r) => `${r.received}/${r.sent}` }),
  col('rttAvgMs', { header: 'RTT_MS' }),
  col<Probe>('ok', { header: 'RESULT', get: (r) => (r.ok ? 'ok' : 'FAILED'), state: true }),
];

const everyHost = '(every host)';
export const CALLER_FIELDS: Column[] = [
  col('name'),
  col('role'),
  col<Caller>('hostGroups', { get: (c) => c.hostGroups ?? everyHost }),
  col('tokenId'),
];

export const TOKEN_COLUMNS: Column[] = [
  col('id'),
  col('name'),
  col('role'),
  col<ApiToken>('hostGroups', { get: (t) => t.hostGroups ?? '*' }),
  col('createdAt', { header: 'CREATED' }),
  col('expiresAt', { header: 'EXPIRES' }),
  col('lastUsedAt', { header: 'LAST_USED' }),
  col('revokedAt', { header: 'REVOKED' }),
];
export const TOKEN_FIELDS: Column[] = [
  col('id'),
  col('name'),
  col('role'),
  col<ApiToken>('hostGroups', { get: (t) => t.hostGroups ?? everyHost }),
  col('createdAt'),
  col('createdBy'),
  col('expiresAt'),
  col('lastUsedAt'),
  col('revokedAt'),
];

export const HOST_GROUP_COLUMNS: Column[] = [
  col('name'),
  col('hypervisors', { header: 'HOSTS' }),
  col('description'),
  col('updatedAt', { header: 'UPDATED' }),
];
export const HOST_GROUP_FIELDS: Column[] = [col('name'), col('description'), col('hypervisors'), col('createdAt'), col('updatedAt')];

export const WEBHOOK_COLUMNS: Column[] = [
  col('id'),
  col('url'),
  col('enabled'),
  col('filter.eventTypes', { header: 'EVENTS' }),
  col('filter.hypervisors', { header: 'HOSTS' }),
  col('filter.ticketRefPrefix', { header: 'TICKET_PREFIX' }),
  col('description'),
];
export const WEBHOOK_FIELDS: Column[] = [
  col('id'),
  col('url'),
  col('description'),
  col('enabled'),
  col('filter.eventTypes'),
  col('filter.hypervisors'),
  col('filter.kinds'),
  col('filter.ticketRefPrefix'),
  col('owner.name'),
  col('createdAt'),
  col('updatedAt'),
];

export const DELIVERY_COLUMNS: Column[] = [
  col('id'),
  col('jobId', { header: 'JOB' }),
  col('type', { header: 'EVENT' }),
  col('status', { state: true }),
  col('attemptCount', { header: 'ATTEMPTS' }),
  col('lastResponseCode', { header: 'LAST_CODE' }),
  col('deliveredAt', { header: 'DELIVERED' }),
  col('nextAttemptAt', { header: 'NEXT_ATTEMPT' }),
];
export const DELIVERY_FIELDS: Column[] = [
  col('id'),
  col('endpointId'),
  col('jobId'),
  col('jobEventType'),
  col('type'),
  col('status', { state: true }),
  col('attemptCount'),
  col('lastResponseCode'),
  col<WebhookDelivery>('lastError', { get: (d) => problemText(d.lastError) }),
  col('createdAt'),
  col('deliveredAt'),
  col('nextAttemptAt'),
  col('redeliveries'),
];
type Attempt = WebhookDelivery['attempts'][number];
export const ATTEMPT_COLUMNS: Column[] = [
  col('attempt'),
  col('at'),
  col('latencyMs', { header: 'MS' }),
  col('responseCode', { header: 'CODE' }),
  col<Attempt>('error', { get: (a) => problemText(a.error) }),
  col('redelivery'),
];

import type { Operation } from '../operation.ts';
import { AUDIT_OPERATIONS } from './audit.ts';
import { AUTH_OPERATIONS } from './auth.ts';
import { HYPERVISOR_OPERATIONS } from './hypervisors.ts';
import { JOB_OPERATIONS } from './jobs.ts';
import { NETWORK_OPERATIONS } from './libvirt.ts';
import { OVS_OPERATIONS } from './ovs.ts';
import { VLAN_OPERATIONS } from './vlans.ts';
import { VM_OPERATIONS } from './vms.ts';
import { WEBHOOK_OPERATIONS } from './webhooks.ts';

/** Every REST operation, in the order openapi.yaml lists them. */
export const OPERATIONS: readonly Operation[] = [
  ...HYPERVISOR_OPERATIONS,
  ...OVS_OPERATIONS,
  ...NETWORK_OPERATIONS,
  ...VM_OPERATIONS,
  ...VLAN_OPERATIONS,
  ...JOB_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...AUTH_OPERATIONS,
  ...AUDIT_OPERATIONS,
];

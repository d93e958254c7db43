import type { z } from 'zod';
import type { ApiTokenSchema, CallerSchema, CreatedApiTokenSchema, HostGroupSchema } from '../rest/schemas/auth.ts';
import type {
  BridgeSchema,
  HypervisorSchema,
  NetworkSchema,
  PortSchema,
  VlanSchema,
  VmInterfaceSchema,
  VmSchema,
} from '../rest/schemas/fleet.ts';
import type { JobEventSchema, JobSchema, PlanSchema } from '../rest/schemas/job.ts';
import type { CreatedWebhookEndpointSchema, WebhookDeliverySchema, WebhookEndpointSchema } from '../rest/schemas/webhook.ts';

/*
 * The shapes of the REST answers the CLI reads, as types only: taken from the schemas that
 * openapi.yaml is generated from, so the CLI and the contract cannot drift apart. Nothing of the
 * gateway is loaded at run time (type-only imports are erased).
 */

export type Job = z.infer<typeof JobSchema>;
export type JobStep = Job['steps'][number];
export type JobHost = Job['hosts'][number];
export type Verification = NonNullable<Job['verification']>;
export type JobEvent = z.infer<typeof JobEventSchema>;
export type Plan = z.infer<typeof PlanSchema>;
export type PlanStep = Plan['steps'][number];
export type Hypervisor = z.infer<typeof HypervisorSchema>;
export type Bridge = z.infer<typeof BridgeSchema>;
export type Port = z.infer<typeof PortSchema>;
export type Network = z.infer<typeof NetworkSchema>;
export type Vm = z.infer<typeof VmSchema>;
export type VmInterface = z.infer<typeof VmInterfaceSchema>;
export type Vlan = z.infer<typeof VlanSchema>;
export type Caller = z.infer<typeof CallerSchema>;
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export type CreatedApiToken = z.infer<typeof CreatedApiTokenSchema>;
export type HostGroup = z.infer<typeof HostGroupSchema>;
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;
export type CreatedWebhookEndpoint = z.infer<typeof CreatedWebhookEndpointSchema>;
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** A list answer (every list of the API pages this way). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

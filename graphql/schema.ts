import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './types/node.ts';
import './types/user-error.ts';
import './types/bridge.ts';
import './types/network.ts';
import './types/vm.ts';
import './types/hypervisor.ts';
import './types/vlan.ts';
import './types/plan.ts';
import './types/job.ts';
import './types/enums.ts';
import './types/webhook.ts';
import './types/auth.ts';
import './types/audit.ts';
import './mutations/ovs.ts';
import './mutations/libvirt.ts';
import './mutations/vm.ts';
import './mutations/vlan.ts';
import './mutations/hypervisor.ts';
import './mutations/jobs.ts';
import './mutations/webhooks.ts';
import './mutations/auth.ts';

/** The whole GraphQL schema; graphql/schema.graphql is its printed form (checked by a test). */
export const schema = builder.toSchema();

export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

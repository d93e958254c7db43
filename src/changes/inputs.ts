import { z } from 'zod';
import { DatapathType, HypervisorName, InterfaceName } from '../validation/names.ts';

/**
 * Input schemas of change operations, shared by the GraphQL and REST layers so both refuse the
 * same things with the same field paths.
 */
export const TicketRef = z
  .string()
  .min(1)
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:#/-]*$/, 'may contain letters, digits and _ . : # / - only');

const ChangeOptions = {
  dryRun: z.boolean().default(false),
  ticketRef: TicketRef.nullish(),
};

export const CreateBridgeInput = z.object({
  hypervisor: HypervisorName,
  name: InterfaceName,
  datapathType: DatapathType.nullish(),
  ...ChangeOptions,
});
export type CreateBridgeInput = z.infer<typeof CreateBridgeInput>;

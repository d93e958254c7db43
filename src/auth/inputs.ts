import { z } from 'zod';
import { HypervisorName } from '../validation/names.ts';
import { ROLES } from './roles.ts';

/** Input schemas of token and host-group administration, shared by GraphQL and REST. */

export const TokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/, 'a token name is 1-64 letters, digits and . _ @ : - (e.g. ci-bot, alice@example.com)');

export const HostGroupName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a host group name is 1-63 lower-case letters, digits and . _ - (e.g. rack-12)');

export const CreateApiTokenInput = z
  .object({
    name: TokenName,
    role: z.enum(ROLES),
    hostGroups: z
      .array(HostGroupName)
      .min(1, 'name at least one host group, or leave hostGroups out for every host')
      .max(50)
      .nullable()
      .default(null)
      .describe('Host groups the token is limited to; null or left out: every host.'),
    expiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .default(null)
      .refine((v) => v === null || Date.parse(v) > Date.now(), 'must be in the future')
      .describe('When the token stops working; null or left out: never.'),
  })
  .strict();
export type CreateApiTokenInput = z.infer<typeof CreateApiTokenInput>;

export const PutHostGroupInput = z
  .object({
    description: z.string().max(200).nullable().default(null),
    hypervisors: z.array(HypervisorName).max(10_000).describe('The hypervisors of the group (registered or not).'),
  })
  .strict();
export type PutHostGroupInput = z.infer<typeof PutHostGroupInput>;

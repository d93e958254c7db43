import { ERROR_CODE_DESCRIPTIONS } from '../../src/errors/codes.ts';
import { JOB_KINDS } from '../../src/jobs/job-kinds.ts';
import { builder } from '../builder.ts';

/*
 * The closed vocabularies of src/ as GraphQL enums, generated from the same unions, so a code or
 * kind added there appears in the schema (and the printed schema test asks for a review).
 */

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description:
    'Stable machine-readable error codes (src/errors/codes.ts): userErrors, job and host errors, and GraphQL errors carry them; clients branch on them.',
  values: Object.fromEntries(Object.entries(ERROR_CODE_DESCRIPTIONS).map(([code, description]) => [code, { value: code, description }])),
});

export const JobKindEnum = builder.enumType('JobKind', {
  description: 'What a job does: the mutation that created it (also the BullMQ job name).',
  values: JOB_KINDS,
});

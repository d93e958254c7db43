import { z } from 'zod';
import { ERROR_CODE_DESCRIPTIONS, ErrorCode } from '../../src/errors/codes.ts';
import { JOB_KINDS } from '../../src/jobs/job-kinds.ts';

/** The closed vocabularies of src/ as JSON Schema enums (components ErrorCode and JobKind). */
export const ErrorCodeSchema = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]).meta({
  id: 'ErrorCode',
  description: `Stable machine-readable error codes (the same as GraphQL's): ${Object.entries(ERROR_CODE_DESCRIPTIONS)
    .map(([code, what]) => `${code}: ${what}`)
    .join(' ')}`,
});

export const JobKindSchema = z.enum(JOB_KINDS).meta({ id: 'JobKind', description: 'What a job does: the operation that created it.' });

export const DateTime = z.iso.datetime({ offset: true });

/** Lists answer a page: the items, and the cursor of the next page (null on the last). */
export function pageSchema<T extends z.ZodType>(id: string, item: T) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
    })
    .meta({ id });
}

/** `limit` and `cursor` of every list. */
export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Items per page (1..100, default 50).'),
  cursor: z.string().min(1).max(200).optional().describe('The nextCursor of the previous page.'),
};

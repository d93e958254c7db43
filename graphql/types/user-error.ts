import { builder } from '../builder.ts';
import type { UserError } from '../../src/changes/user-errors.ts';
import { ErrorCodeEnum } from './vocabularies.ts';

export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'A problem with the input, returned as data. Nothing was queued or changed.',
  fields: (t) => ({
    field: t.exposeStringList('field', { description: 'Path to the offending input field, e.g. ["input", "name"].' }),
    code: t.field({ type: ErrorCodeEnum, description: 'e.g. INVALID_INPUT, UNKNOWN_HYPERVISOR.', resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

import type { UserError } from '../../src/changes/user-errors.ts';
import type { ChangeOutcome } from '../../src/requests/change-request.ts';
import { builder } from '../builder.ts';
import { JobRef } from '../types/job.ts';
import { PlanRef } from '../types/plan.ts';
import { UserErrorRef } from '../types/user-error.ts';

/** What every change mutation returns: a job (unless dryRun or refused), its plan, userErrors. */
export type ChangePayload = ChangeOutcome;

export function changePayloadType(name: string) {
  return builder.objectRef<ChangePayload>(name).implement({
    fields: (t) => ({
      job: t.field({
        type: JobRef,
        nullable: true,
        description: 'The queued job; null for dryRun or when userErrors is not empty.',
        resolve: (p) => p.job,
      }),
      plan: t.field({ type: PlanRef, nullable: true, resolve: (p) => p.plan }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

export const refused = (userErrors: UserError[]): ChangePayload => ({ job: null, plan: null, userErrors });

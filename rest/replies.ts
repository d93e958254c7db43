import type { UserError } from '../src/changes/user-errors.ts';
import type { JobRecord } from '../src/jobs/job-types.ts';
import type { ChangeOutcome } from '../src/requests/change-request.ts';
import type { Reply } from './operation.ts';
import { problemFromUserErrors } from './problem.ts';
import { jobView, planView } from './schemas/job.ts';

export const API_BASE = '/api/v1';

export const jobLocation = (id: string) => `${API_BASE}/jobs/${id}`;

/** 202 with the job and its Location: how every accepted change answers. */
export function accepted(job: JobRecord): Reply {
  return { status: 202, body: jobView(job), headers: { location: jobLocation(job.id) } };
}

export function refusedReply(
  userErrors: readonly UserError[],
  pathFields: Readonly<Record<string, string>> = {},
  otherIn: 'body' | 'query' = 'body',
): Reply {
  return { problem: problemFromUserErrors(userErrors, pathFields, otherIn) };
}

/**
 * A change request's outcome as an answer: the refusal as a problem, a dryRun's plan (200), or
 * the queued job (202). `pathFields` maps input fields that came from the URL to their parameter;
 * the others came from `otherIn`.
 */
export function changeReply(
  outcome: ChangeOutcome,
  pathFields: Readonly<Record<string, string>> = {},
  otherIn: 'body' | 'query' = 'body',
): Reply {
  if (outcome.userErrors.length) return refusedReply(outcome.userErrors, pathFields, otherIn);
  if (!outcome.job) return { status: 200, body: planView(outcome.plan!) };
  return accepted(outcome.job);
}

import { JOB_EVENT_TYPES, type JobEventType } from '../jobs/job-types.ts';

/*
 * Webhook event types: `job.` and the job event type in lower case, so each JobEvent type has
 * exactly one name and back (QUEUED → job.queued, STEP_FINISHED → job.step_finished,
 * SUCCEEDED → job.succeeded). Receivers switch on `type`; filters take the JobEventType values.
 */

export type WebhookEventType = `job.${Lowercase<JobEventType>}`;

export function webhookEventType(type: JobEventType): WebhookEventType {
  return `job.${type.toLowerCase()}` as WebhookEventType;
}

/** Every webhook event type, in the order of JOB_EVENT_TYPES. */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = JOB_EVENT_TYPES.map(webhookEventType);

const BY_NAME: ReadonlyMap<string, JobEventType> = new Map(JOB_EVENT_TYPES.map((t) => [webhookEventType(t), t]));

/** The job event type of a webhook event type; null for a name that is none. */
export function jobEventTypeOf(name: string): JobEventType | null {
  return BY_NAME.get(name) ?? null;
}

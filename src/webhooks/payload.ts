import { publicJobEvent } from '../jobs/event-view.ts';
import type { JobEvent } from '../jobs/job-types.ts';
import { type WebhookEventType, webhookEventType } from './event-types.ts';

/*
 * The body of a delivery, as the Standard Webhooks spec shapes it: `type` (see event-types.ts),
 * `timestamp` (when the event happened) and `data`: the job event in the same shape as the REST
 * API's JobEvent (both come from src/jobs/event-view.ts).
 */

export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/** A job event as the REST API shows it (src/jobs/event-view.ts, the one shape for outside readers). */
export const eventData = (e: JobEvent): Record<string, unknown> => publicJobEvent(e);

export function webhookPayload(e: JobEvent): WebhookPayload {
  return { type: webhookEventType(e.type), timestamp: e.at, data: eventData(e) };
}

/** The job a delivery's body is about, for its log lines (jobId, host, ticketRef as every job line has them). */
export function jobOfPayload(body: string): { jobId: string | null; host: string | null; ticketRef: string | null } {
  try {
    const data = (JSON.parse(body) as Partial<WebhookPayload>).data ?? {};
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    return { jobId: text(data.jobId), host: text(data.hypervisor), ticketRef: text(data.ticketRef) };
  } catch {
    return { jobId: null, host: null, ticketRef: null };
  }
}

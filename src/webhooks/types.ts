import type { ErrorCode } from '../errors/codes.ts';
import type { JobEventType } from '../jobs/job-types.ts';
import type { WebhookEventType } from './event-types.ts';
import type { WebhookFilter } from './filter.ts';

/** A registered webhook endpoint, as the APIs show it (never with its secret). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  enabled: boolean;
  filter: WebhookFilter;
  createdAt: string;
  updatedAt: string;
  /** The fleet log's newest sequence when the endpoint was created: it gets only events after it. */
  since: string;
  /**
   * Who made it: its deliveries carry only events of jobs within the owner's host groups (null
   * groups: every host). Null for endpoints made before authentication (every host).
   */
  owner: WebhookOwner | null;
}

export interface WebhookOwner {
  name: string;
  tokenId: string | null;
  hostGroups: string[] | null;
}

/** An endpoint as stored: with the secret its deliveries are signed with. */
export interface StoredEndpoint extends WebhookEndpoint {
  secret: string;
}

export const DELIVERY_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
/** PENDING: queued or between retries; SUCCEEDED: an attempt got a 2xx; FAILED: every attempt failed. */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryError {
  code: ErrorCode;
  message: string;
}

/** One POST of a delivery. */
export interface DeliveryAttempt {
  /** 1, 2, … over the delivery's life (automatic retries and manual redeliveries alike). */
  attempt: number;
  at: string;
  /** From sending the request to the answer's status line (or to the failure). */
  latencyMs: number;
  /** The HTTP status the endpoint answered; null when none came (timeout, refused, not allowed). */
  responseCode: number | null;
  error: DeliveryError | null;
  /** Sent by a manual redeliver. */
  redelivery: boolean;
}

/** One event to one endpoint: the message (its id is the `webhook-id` header) and every attempt to send it. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** The event's sequence in the fleet log. */
  sequence: string;
  jobId: string;
  jobEventType: JobEventType;
  type: WebhookEventType;
  status: DeliveryStatus;
  attemptCount: number;
  lastResponseCode: number | null;
  lastError: DeliveryError | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  /** When BullMQ tries again (about: the exponential backoff), while PENDING after a failure. */
  nextAttemptAt: string | null;
  redeliveries: number;
  attempts: DeliveryAttempt[];
}

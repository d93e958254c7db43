/**
 * Error codes are part of the public contract: clients branch on them (GraphQL
 * `extensions.code`, userError `code`, REST problem `type`), so they are stable strings.
 */
export const ErrorCode = {
  // Input
  INVALID_INPUT: 'INVALID_INPUT',
  UNKNOWN_HYPERVISOR: 'UNKNOWN_HYPERVISOR',
  NOT_FOUND: 'NOT_FOUND',
  // Requests over HTTP (REST): the request itself, before its input is read
  MALFORMED_BODY: 'MALFORMED_BODY',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  // Who may ask (docs/security.md)
  /** No credentials, or not a valid, current API token. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller's role or host groups do not allow this (or the object is not visible to it). */
  FORBIDDEN: 'FORBIDDEN',
  /** Too many requests of this caller (or refused credentials from this address) this minute; retry after Retry-After seconds. */
  RATE_LIMITED: 'RATE_LIMITED',
  // GraphQL operations refused before they run
  /** The operation is deeper, wider (aliases), costlier, longer (tokens) or has more directives than the gateway allows. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** The GraphQL operation ran longer than TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS. */
  EXECUTION_TIMEOUT: 'EXECUTION_TIMEOUT',
  /** Schema introspection is off (TRUNKLINE_GRAPHQL_INTROSPECTION). */
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  // Idempotent retries (Idempotency-Key / idempotencyKey)
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'IDEMPOTENCY_KEY_IN_PROGRESS',
  // Refusals of a change (userErrors): the input is valid, the hosts' state forbids it
  /** The object is used (by VMs, portgroups, …); detach or move the users first, or force. */
  IN_USE: 'IN_USE',
  /** The port exists, but on another bridge than the one named. */
  PORT_ON_OTHER_BRIDGE: 'PORT_ON_OTHER_BRIDGE',
  /** A VM definition names the same MAC twice. */
  DUPLICATE_MAC: 'DUPLICATE_MAC',
  /** The VM must be shut off for this change. */
  VM_RUNNING: 'VM_RUNNING',
  /** The hypervisor has no uplink in the registry and the input names none. */
  NO_UPLINK: 'NO_UPLINK',
  /** The uplink is an access port (one tag), not a trunk. */
  UPLINK_IS_ACCESS: 'UPLINK_IS_ACCESS',
  /** Removing the VLAN would leave a trunk portgroup with no VLAN. */
  WOULD_EMPTY_TRUNK: 'WOULD_EMPTY_TRUNK',
  /** The change would leave a port with neither tag nor trunks, which in OVS carries every VLAN. */
  WOULD_TRUNK_ALL_VLANS: 'WOULD_TRUNK_ALL_VLANS',
  /** The port's VLAN mode, tag and trunks contradict each other. */
  INVALID_VLAN_CONFIG: 'INVALID_VLAN_CONFIG',
  /** rotateHostKey: the key pinned for the host is not the one the request expected. */
  HOST_KEY_CONFLICT: 'HOST_KEY_CONFLICT',
  /** cancelJob on a job that already ended. */
  JOB_FINISHED: 'JOB_FINISHED',
  // Configuration
  CONFIG_INVALID: 'CONFIG_INVALID',
  INVENTORY_INVALID: 'INVENTORY_INVALID',
  // Reaching hosts
  SSH_CONNECT_FAILED: 'SSH_CONNECT_FAILED',
  SSH_AUTH_FAILED: 'SSH_AUTH_FAILED',
  SSH_HOST_KEY_MISMATCH: 'SSH_HOST_KEY_MISMATCH',
  SSH_TIMEOUT: 'SSH_TIMEOUT',
  SSH_DISCONNECTED: 'SSH_DISCONNECTED',
  // Running steps
  COMMAND_FAILED: 'COMMAND_FAILED',
  COMMAND_TIMEOUT: 'COMMAND_TIMEOUT',
  UNEXPECTED_OUTPUT: 'UNEXPECTED_OUTPUT',
  STEP_NOT_CONVERGED: 'STEP_NOT_CONVERGED',
  /** The step's OVS port is as wanted but OVS reports an error on its interface (e.g. no such device). */
  OVS_INTERFACE_ERROR: 'OVS_INTERFACE_ERROR',
  /** A running libvirt network would need a restart (net-destroy + net-start) to take the definition. */
  NETWORK_RESTART_REQUIRED: 'NETWORK_RESTART_REQUIRED',
  /** The VM exists but Trunkline did not define it; Trunkline refuses to redefine it. */
  VM_NOT_MANAGED: 'VM_NOT_MANAGED',
  /** verifyVlan ran, but a ping that must reach did not, or one that must not did. */
  VLAN_VERIFY_FAILED: 'VLAN_VERIFY_FAILED',
  JOB_INVALID: 'JOB_INVALID',
  /** The job was recorded but could not be handed to the queue (Redis/BullMQ unreachable). */
  QUEUE_UNAVAILABLE: 'QUEUE_UNAVAILABLE',
  /** The workers running a host's part stopped three times (killed, or their claim expired): BullMQ gave up on it. */
  WORKER_FAILED: 'WORKER_FAILED',
  /** A worker found its host lock (or its claim on the job) gone, e.g. after it was paused: it stopped before touching the host again. */
  LOCK_LOST: 'LOCK_LOST',
  /** Redis is unreachable or refuses writes (MISCONF, OOM, LOADING): nothing was changed; retry later. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  // Webhooks
  /** The webhook URL's destination is not on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS (SSRF guard). */
  WEBHOOK_URL_NOT_ALLOWED: 'WEBHOOK_URL_NOT_ALLOWED',
  /** The endpoint is disabled: nothing is delivered to it, not even a redeliver. */
  WEBHOOK_ENDPOINT_DISABLED: 'WEBHOOK_ENDPOINT_DISABLED',
  /** A delivery attempt failed: the endpoint answered other than 2xx, or could not be reached. */
  WEBHOOK_DELIVERY_FAILED: 'WEBHOOK_DELIVERY_FAILED',
  /** A delivery attempt got no answer within TRUNKLINE_WEBHOOK_TIMEOUT_MS. */
  WEBHOOK_TIMEOUT: 'WEBHOOK_TIMEOUT',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What each code means, for API references (GraphQL enum values, OpenAPI): one entry per code, or it does not compile. */
export const ERROR_CODE_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  INVALID_INPUT: 'A field of the input is invalid (the userError names it); nothing was queued.',
  UNKNOWN_HYPERVISOR: 'No hypervisor of that name is registered.',
  NOT_FOUND: 'The object asked for does not exist (or is not visible to the caller).',
  MALFORMED_BODY: 'The request body is not valid JSON (or not a JSON object where one is expected).',
  UNSUPPORTED_MEDIA_TYPE: 'The request body is not application/json.',
  PAYLOAD_TOO_LARGE:
    'The request body is larger than the gateway accepts (TRUNKLINE_REST_BODY_LIMIT_BYTES, TRUNKLINE_GRAPHQL_BODY_LIMIT_BYTES).',
  METHOD_NOT_ALLOWED: 'The resource exists but does not support this HTTP method (the Allow header lists those it does).',
  UNAUTHENTICATED:
    'No credentials, or not a valid, current API token (unknown, wrong, expired or revoked): send Authorization: Bearer tl_<id>_<secret>.',
  FORBIDDEN:
    "The caller's role or host groups do not allow this; for an object, it does not exist or is not visible to the caller (the answer does not say which).",
  RATE_LIMITED:
    'Too many changes or reads by this token (or refused credentials from this address) this minute: retry after the Retry-After seconds (TRUNKLINE_RATE_*).',
  QUERY_TOO_COMPLEX:
    'The GraphQL operation is deeper, has more aliases, costs more, is longer (tokens) or has more directives than the gateway allows (extensions.limit names the limit, extensions.max its value); split it.',
  EXECUTION_TIMEOUT:
    'The GraphQL operation ran longer than the gateway allows (TRUNKLINE_GRAPHQL_EXECUTION_TIMEOUT_MS); nothing more of it runs.',
  INTROSPECTION_DISABLED:
    'Schema introspection is off on this gateway (TRUNKLINE_GRAPHQL_INTROSPECTION); the schema is in graphql/schema.graphql.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used before for a different request (another operation or input).',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'The first request with this idempotency key is still being handled; retry in a moment.',
  IN_USE: 'The object is used (by VMs, portgroups, …); detach or move the users first, or force.',
  PORT_ON_OTHER_BRIDGE: 'The port exists, but on another bridge than the one named.',
  DUPLICATE_MAC: 'A VM definition names the same MAC twice.',
  VM_RUNNING: 'The VM must be shut off for this change.',
  NO_UPLINK: 'The hypervisor has no uplink in the registry and the input names none.',
  UPLINK_IS_ACCESS: 'The uplink is an access port (one tag), not a trunk.',
  WOULD_EMPTY_TRUNK: 'Removing the VLAN would leave a trunk portgroup with no VLAN.',
  WOULD_TRUNK_ALL_VLANS: 'The change would leave a port with neither tag nor trunks, which in OVS carries every VLAN.',
  INVALID_VLAN_CONFIG: "The port's VLAN mode, tag and trunks contradict each other.",
  HOST_KEY_CONFLICT:
    'The host key pinned for the hypervisor is not the one the request named as expected (someone rotated it first); read it and retry.',
  JOB_FINISHED: 'The job already ended (e.g. cancelJob on a finished job).',
  CONFIG_INVALID: "Trunkline's configuration (environment variables) is invalid.",
  INVENTORY_INVALID: 'The inventory file or a registered host record is invalid.',
  SSH_CONNECT_FAILED: 'The host could not be reached over SSH.',
  SSH_AUTH_FAILED: 'The host refused the SSH credentials.',
  SSH_HOST_KEY_MISMATCH: 'The host presented another SSH host key than the one pinned for it.',
  SSH_TIMEOUT: 'The SSH connection or handshake timed out.',
  SSH_DISCONNECTED: 'The SSH connection dropped while a command ran.',
  COMMAND_FAILED: 'A command on the host exited non-zero (the message has its stderr).',
  COMMAND_TIMEOUT: 'A command on the host did not finish in time.',
  UNEXPECTED_OUTPUT: 'A command printed something Trunkline could not parse.',
  STEP_NOT_CONVERGED: 'A change command succeeded but the host still does not show the wanted state.',
  OVS_INTERFACE_ERROR: 'The OVS port is as wanted, but OVS reports an error on its interface (e.g. no such device).',
  NETWORK_RESTART_REQUIRED: 'A running libvirt network would need a restart (net-destroy + net-start) to take the definition.',
  VM_NOT_MANAGED: 'The VM exists but Trunkline did not define it; Trunkline refuses to redefine it.',
  VLAN_VERIFY_FAILED: 'verifyVlan ran, but a ping that must reach did not, or one that must not did.',
  JOB_INVALID: 'The job record is missing or no longer valid (expired, or written by an incompatible version).',
  QUEUE_UNAVAILABLE: 'The job was recorded but could not be handed to the queue (Redis/BullMQ unreachable).',
  WORKER_FAILED:
    "The workers running a host's part stopped three times (killed, or paused or cut off from Redis past their claim's lifetime): BullMQ gave up on it.",
  LOCK_LOST:
    "A worker found its host lock or its claim on the job gone (it was paused or cut off past the lock's lifetime): it stopped before touching the host again; the worker that took the part over reports it.",
  SERVICE_UNAVAILABLE:
    'Redis is unreachable or refuses writes (MISCONF, OOM under noeviction, LOADING after a restart): nothing was accepted or changed; retry later (Retry-After).',
  WEBHOOK_URL_NOT_ALLOWED:
    "The webhook URL's destination (its host, or an address it resolves to) is not on TRUNKLINE_WEBHOOK_ALLOWED_HOSTS (SSRF guard).",
  WEBHOOK_ENDPOINT_DISABLED: 'The webhook endpoint is disabled: nothing is delivered to it, not even a redeliver.',
  WEBHOOK_DELIVERY_FAILED:
    'A webhook delivery attempt failed: the endpoint answered other than 2xx (redirects too) or could not be reached.',
  WEBHOOK_TIMEOUT: 'A webhook delivery attempt got no answer within TRUNKLINE_WEBHOOK_TIMEOUT_MS.',
  INTERNAL: 'An unexpected error inside Trunkline (a bug): the logs have the details.',
};

/**
 * The one error type Trunkline code throws on purpose. `details` must never hold secrets:
 * errors end up in job records, logs and API answers.
 */
export class TrunklineError extends Error {
  override readonly name = 'TrunklineError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** Normalises anything thrown into a code + message pair fit for a job record or API answer. */
export function describeError(err: unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  if (err instanceof TrunklineError) return { code: err.code, message: err.message, details: err.details };
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.INTERNAL, message, details: {} };
}

/**
 * Error codes are part of the public contract: clients branch on them (GraphQL
 * `extensions.code`, userError `code`, REST problem `type`), so they are stable strings.
 */
export const ErrorCode = {
  // Input
  INVALID_INPUT: 'INVALID_INPUT',
  UNKNOWN_HYPERVISOR: 'UNKNOWN_HYPERVISOR',
  NOT_FOUND: 'NOT_FOUND',
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
  JOB_INVALID: 'JOB_INVALID',
  /** A worker died while running a host's part, twice (BullMQ gave up on it). */
  WORKER_FAILED: 'WORKER_FAILED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The one error type Trunkline code throws on purpose. `details` must never hold secrets:
 * errors end up in job records, logs and API answers.
 */
export class TrunklineError extends Error {
  override readonly name = 'TrunklineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Normalises anything thrown into a code + message pair fit for a job record or API answer. */
export function describeError(err: unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  if (err instanceof TrunklineError) return { code: err.code, message: err.message, details: err.details };
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.INTERNAL, message, details: {} };
}

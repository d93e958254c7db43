import type { Plan } from '../changes/plan.ts';
import type { ErrorCode } from '../errors/codes.ts';
import type { JobKind } from './job-kinds.ts';

export const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export const STEP_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const JOB_EVENT_TYPES = [
  'QUEUED',
  'STARTED',
  'HOST_STARTED',
  'HOST_PLANNED',
  'STEP_STARTED',
  'STEP_FINISHED',
  'STEP_ROLLED_BACK',
  'WAITING',
  /** A host's attempt stopped because its worker lost the host lock; the part runs again (the part is not over). */
  'HOST_INTERRUPTED',
  'HOST_FINISHED',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export interface StepRecord {
  index: number;
  host: string;
  description: string;
  /** The change command as the host's shell receives it (quoted), for humans and audits; null for read-only steps. */
  command: string | null;
  probeCommand: string;
  wanted: string;
  observed: string | null;
  state: StepState;
  changed: boolean | null;
  exitCode: number | null;
  stdout: string | null;
  stderr: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /**
   * Set when the step succeeded but what it made may not work yet (e.g. a port whose device
   * does not exist, added with deviceMayBeMissing): OVS's message and what it means.
   */
  warning: string | null;
}

/** What the worker did to undo an applied step after a later step failed. */
export interface RollbackRecord {
  step: number;
  host: string;
  description: string;
  /** The compensating command; null when the step cannot be undone. */
  command: string | null;
  state: 'SUCCEEDED' | 'FAILED' | 'NOT_POSSIBLE';
  message: string;
}

export interface JobError {
  code: ErrorCode;
  message: string;
  step: number | null;
}

export interface JobProgress {
  done: number;
  total: number;
  message: string;
}

export const HOST_RUN_STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type HostRunState = (typeof HOST_RUN_STATES)[number];

export const HOST_ATTEMPT_OUTCOMES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOCK_LOST', 'TAKEN_OVER'] as const;
/**
 * How one attempt at a host's part ended: as the part did, LOCK_LOST (the worker found its host
 * lock gone and stopped; it tried again itself), TAKEN_OVER (its worker stopped renewing its
 * claim, killed or paused, and another worker took the part over), or RUNNING (not ended yet).
 */
export type HostAttemptOutcome = (typeof HOST_ATTEMPT_OUTCOMES)[number];

/** One worker's attempt at a host's part. */
export interface HostAttempt {
  number: number;
  /** The worker process (`host:pid`) that made it. */
  worker: string;
  startedAt: string;
  endedAt: string | null;
  outcome: HostAttemptOutcome;
  /** Why it ended as it did when that was not the part's own outcome. */
  reason: string | null;
}

/**
 * One hypervisor's share of a job: change jobs run each host as its own BullMQ child job,
 * possibly on different workers, and each reports here.
 */
export interface HostRun {
  host: string;
  state: HostRunState;
  /** How many times a worker started this host's part (more than 1 after a takeover). */
  attempts: number;
  /** Each of those attempts, oldest first (absent on records written before attempts were kept). */
  attemptLog?: HostAttempt[];
  startedAt: string | null;
  finishedAt: string | null;
  /** The latest thing this host's part said, and when. */
  message: string;
  updatedAt: string | null;
  error: JobError | null;
  /** While the part waits for its turn: the job that runs on this host first. */
  waitingFor: string | null;
  /**
   * Set when the plan this part executed (made from the host as it was when its turn came)
   * differs from the one shown at submission (made from the cache): how.
   */
  planNote: string | null;
}

export function pendingHostRun(host: string): HostRun {
  return {
    host,
    state: 'PENDING',
    attempts: 0,
    attemptLog: [],
    startedAt: null,
    finishedAt: null,
    message: 'queued',
    updatedAt: null,
    error: null,
    waitingFor: null,
    planNote: null,
  };
}

export interface JobRecord {
  id: string;
  kind: JobKind;
  state: JobState;
  hypervisors: string[];
  input: Record<string, unknown>;
  plan: Plan;
  steps: StepRecord[];
  progress: JobProgress;
  error: JobError | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Who asked: the caller's token name (from its credentials, never from a header it set). */
  requestedBy: string | null;
  /** That token's id (absent on records older than authentication). */
  requestedById?: string | null;
  ticketRef: string | null;
  attempts: number;
  /** Undo of applied steps after a failure, most recent first. */
  rollback: RollbackRecord[];
  /** Per-host progress, in `hypervisors` order. */
  hosts: HostRun[];
  /** verifyVlan's connectivity matrix. */
  verification?: Verification;
}

export interface PingOutcome {
  fromHost: string;
  fromVlan: number;
  fromAddress: string;
  toHost: string;
  toAddress: string;
  /** REACH: members of the VLAN must reach each other; ISOLATED: other VLANs must not. */
  expect: 'REACH' | 'ISOLATED';
  sent: number;
  received: number;
  lossPercent: number;
  rttAvgMs: number | null;
  ok: boolean;
}

export interface Verification {
  tag: number;
  isolationFrom: number[];
  results: PingOutcome[];
  ok: boolean;
}

/** One entry of a job's event log. `id` is the Redis stream id: ordered, unique per job. */
export interface JobEvent {
  id: string;
  /**
   * The event's place in the fleet log (every job's events, one stream): what a notifier that
   * follows all jobs resumes from. Set on live events and fleet-log reads, not on a job's own log.
   */
  sequence?: string;
  jobId: string;
  /** The job's kind and ticket, on every event: notifiers filter on them without loading the job. */
  kind: JobKind;
  ticketRef: string | null;
  type: JobEventType;
  at: string;
  state: JobState;
  /** The hypervisor the event is about (host and step events); null for job-level events. */
  host: string | null;
  step: StepRecord | null;
  progress: JobProgress;
  message: string;
  error: JobError | null;
}

/** Whether a job, or one host's part of it, has ended (the two share these states). */
export function isTerminal(state: JobState | HostRunState): boolean {
  return TERMINAL_STATES.has(state as JobState);
}

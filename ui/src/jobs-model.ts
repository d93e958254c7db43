import { elapsed, type Excerpt, excerpt } from './format.ts';
import type { JobsFilter } from './router.ts';
import type {
  Caller,
  JobDetail,
  JobEventData,
  JobEventType,
  JobHost,
  JobLive,
  JobRollback,
  JobRow,
  JobState,
  JobStep,
  JobStepState,
} from './types.ts';
import { type VerificationGrid, verificationGrid } from './vlan-model.ts';

/*
 * The jobs pages' view models: the list under its filters, kept current by job events (a job
 * that starts matching appears, one that stops matching goes, newest first), and one job as per-host
 * progress with each host's steps (their commands, outcomes, output excerpts) and the rollback.
 */

export const TERMINAL: ReadonlySet<JobState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
export const isTerminal = (state: JobState) => TERMINAL.has(state);

/** The GraphQL JobFilter for the list query. */
export function jobFilterInput(f: JobsFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.state) out.state = f.state;
  if (f.kind) out.kind = f.kind;
  if (f.host) out.hypervisor = f.host;
  if (f.ticket) out.ticketRef = f.ticket;
  return out;
}

/** The JobEventFilter for the live stream (it has no state: the list applies that itself). */
export function eventFilterInput(f: JobsFilter): Record<string, string> {
  const { state: _state, ...rest } = jobFilterInput(f);
  return rest;
}

export function matches(job: JobRow, f: JobsFilter): boolean {
  return (
    (!f.state || job.state === f.state) &&
    (!f.kind || job.kind === f.kind) &&
    (!f.host || job.hypervisors.includes(f.host)) &&
    (!f.ticket || job.ticketRef === f.ticket)
  );
}

/**
 * The list with a job as an event reports it: added, replaced, or dropped when it no longer
 * matches. A report of an ended job is never replaced by an older one of it still running
 * (a list read racing with the job's last event).
 */
export function mergeJob<T extends JobRow>(list: readonly T[], job: T, f: JobsFilter, limit = 100): T[] {
  const existing = list.find((j) => j.id === job.id);
  if (existing && isTerminal(existing.state) && !isTerminal(job.state)) return [...list];
  const rest = list.filter((j) => j.id !== job.id);
  if (!matches(job, f)) return rest;
  return [job, ...rest].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt)).slice(0, limit);
}

/**
 * A fresh read of the list, keeping what events told that the read could not know yet: the
 * end of a job (see mergeJob), and jobs newer than any the read found (queued while it ran).
 */
export function replaceList<T extends JobRow>(previous: readonly T[], fresh: readonly T[]): T[] {
  const ended = new Map(previous.filter((j) => isTerminal(j.state)).map((j) => [j.id, j]));
  const read = new Set(fresh.map((j) => j.id));
  const newest = fresh.length ? Math.max(...fresh.map((j) => Date.parse(j.createdAt))) : Number.NEGATIVE_INFINITY;
  const newer = previous.filter((j) => !read.has(j.id) && Date.parse(j.createdAt) > newest);
  return [...newer, ...fresh.map((j) => (!isTerminal(j.state) && ended.has(j.id) ? ended.get(j.id)! : j))];
}

export interface ListRow {
  id: string;
  kind: string;
  state: JobState;
  hosts: Array<{ host: string; state: string }>;
  ticketRef: string | null;
  requestedBy: string | null;
  createdAt: string;
  duration: string;
  percent: number;
  message: string;
  error: string | null;
}

export function listRow(j: JobRow, now: number): ListRow {
  return {
    id: j.id,
    kind: j.kind,
    state: j.state,
    hosts: j.hosts.length
      ? j.hosts.map((h) => ({ host: h.hypervisor, state: h.state }))
      : j.hypervisors.map((h) => ({ host: h, state: 'PENDING' })),
    ticketRef: j.ticketRef,
    requestedBy: j.requestedBy,
    createdAt: j.createdAt,
    duration: elapsed(j.startedAt, j.finishedAt, now),
    percent: isTerminal(j.state) && j.state === 'SUCCEEDED' ? 100 : j.progress.percent,
    message: j.progress.message,
    error: j.error ? `${j.error.code}: ${j.error.message}` : null,
  };
}

export interface StepView {
  index: number;
  description: string;
  state: JobStepState;
  /** What ran (the change command), else the read-only probe. */
  command: string | null;
  probeCommand: string;
  observed: string | null;
  wanted: string;
  changed: boolean | null;
  exitCode: number | null;
  duration: string | null;
  stdout: Excerpt | null;
  stderr: Excerpt | null;
  warning: string | null;
}

export interface HostView {
  host: string;
  state: string;
  message: string;
  done: number;
  total: number;
  percent: number;
  changed: number;
  startedAt: string | null;
  duration: string;
  error: string | null;
  planNote: string | null;
  waitingFor: string | null;
  attempts: JobHost['attempts'];
  steps: StepView[];
}

export interface JobView {
  id: string;
  kind: string;
  state: JobState;
  title: string;
  terminal: boolean;
  cancellable: boolean;
  cancelRequested: boolean;
  percent: number;
  progressText: string;
  ticketRef: string | null;
  requestedBy: string | null;
  createdAt: string;
  duration: string;
  error: string | null;
  hosts: HostView[];
  rollback: JobRollback[];
  verification: VerificationGrid | null;
}

const FINISHED_STEP: ReadonlySet<JobStepState> = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);

export function stepView(s: JobStep): StepView {
  return {
    index: s.index,
    description: s.description,
    state: s.state,
    command: s.command,
    probeCommand: s.probeCommand,
    observed: s.observed,
    wanted: s.wanted,
    changed: s.changed,
    exitCode: s.exitCode,
    duration: s.durationMs !== null ? `${s.durationMs} ms` : null,
    stdout: excerpt(s.stdout),
    stderr: excerpt(s.stderr),
    warning: s.warning,
  };
}

export function jobView(job: JobDetail, now: number): JobView {
  const hostNames = job.hosts.length ? job.hosts.map((h) => h.hypervisor) : job.hypervisors;
  const hosts = hostNames.map((name): HostView => {
    const h = job.hosts.find((x) => x.hypervisor === name);
    const steps = job.steps.filter((s) => s.host === name).sort((a, b) => a.index - b.index);
    const done = steps.filter((s) => FINISHED_STEP.has(s.state)).length;
    const ended = h ? h.state !== 'PENDING' && h.state !== 'RUNNING' : isTerminal(job.state);
    return {
      host: name,
      state: h?.state ?? 'PENDING',
      message: h?.message ?? '',
      done,
      total: steps.length,
      percent: steps.length ? Math.round((done / steps.length) * 100) : ended ? 100 : 0,
      changed: h?.changedSteps ?? steps.filter((s) => s.changed).length,
      startedAt: h?.startedAt ?? null,
      duration: elapsed(h?.startedAt ?? null, h?.finishedAt ?? null, now),
      error: h?.error ? `${h.error.code}: ${h.error.message}` : null,
      planNote: h?.planNote ?? null,
      waitingFor: h?.waitingFor ?? null,
      attempts: h?.attempts ?? [],
      steps: steps.map(stepView),
    };
  });
  const terminal = isTerminal(job.state);
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    title: `${job.kind} on ${job.hypervisors.join(', ') || 'no host'}`,
    terminal,
    // Whether it may still be stopped at all; whether this caller may is mayCancel's.
    cancellable: !terminal && !job.cancelRequested,
    cancelRequested: job.cancelRequested,
    percent: job.state === 'SUCCEEDED' ? 100 : job.progress.percent,
    progressText: `${job.progress.done}/${job.progress.total} steps${job.progress.message ? ` · ${job.progress.message}` : ''}`,
    ticketRef: job.ticketRef,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt,
    duration: elapsed(job.startedAt, job.finishedAt, now),
    error: job.error ? `${job.error.code}: ${job.error.message}` : null,
    hosts,
    rollback: job.rollback,
    verification: job.verification ? verificationGrid(job.verification) : null,
  };
}

export type EventLine = Pick<JobEventData<unknown>, 'id' | 'type' | 'at' | 'hypervisor' | 'message' | 'state'>;

/** The job's event log with newly arrived events: each once (a resumed stream replays), in order. */
export function mergeEvents(log: readonly EventLine[], events: readonly EventLine[]): EventLine[] {
  const seen = new Set(log.map((e) => e.id));
  const out = [...log];
  for (const e of events)
    if (!seen.has(e.id)) {
      seen.add(e.id);
      out.push(e);
    }
  return out;
}

/** Events after which the whole job is read again: a host's plan made, a step undone, the end. */
const READ_AGAIN_AFTER: ReadonlySet<JobEventType> = new Set(['HOST_PLANNED', 'STEP_ROLLED_BACK', 'SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * The job with a live event applied: the job's fields as the event has them, its step put in
 * place; `readAgain` when the event changed what events do not carry (new steps, rollback,
 * verification), or brought a step the job did not have.
 */
export function applyEvent(job: JobDetail, event: JobEventData<JobLive>): { job: JobDetail; readAgain: boolean } {
  let steps = job.steps;
  let unknownStep = false;
  const step = event.step;
  if (step) {
    const at = steps.findIndex((s) => s.host === step.host && s.index === step.index);
    unknownStep = at < 0;
    steps = at < 0 ? [...steps, step].sort((a, b) => a.index - b.index) : steps.map((s, i) => (i === at ? step : s));
  }
  const live = event.job ?? {};
  return { job: { ...job, ...live, steps }, readAgain: unknownStep || READ_AGAIN_AFTER.has(event.type) };
}

/**
 * Whether the signed-in caller may cancel a job, as the gateway decides it (src/requests/requester.ts):
 * an admin any job, an operator its own, a viewer none. The UI knows a job's requester by name
 * only, so the gateway's answer stays the authority (two tokens of one name: a 403 banner).
 */
export function mayCancel(caller: Pick<Caller, 'name' | 'role'> | null, job: Pick<JobDetail, 'requestedBy'>): boolean {
  if (!caller) return false;
  if (caller.role === 'ADMIN') return true;
  return caller.role === 'OPERATOR' && job.requestedBy === caller.name;
}

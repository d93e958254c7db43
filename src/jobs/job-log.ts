import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../log/logger.ts';
import type { JobRecord } from './job-types.ts';

/*
 * Log context of jobs, the same in the gateway and the workers: every line about a job carries
 * `jobId`, `kind` and `ticketRef` (null when the request named none), and `host` when it is about
 * one hypervisor (`hosts` when about all of the job's). One grep for a job id or a ticket, or one
 * Loki query (`| json | ticketRef="CHG-1234"`), follows a job from its acceptance through every
 * worker and the SSH round trips of its steps (docs/metrics.md).
 */

type JobIdentity = Pick<JobRecord, 'id' | 'kind' | 'ticketRef'>;

/** The fields of a job's log lines. */
export function jobLogFields(job: JobIdentity, host?: string | null): Record<string, unknown> {
  return host
    ? { jobId: job.id, kind: job.kind, host, ticketRef: job.ticketRef }
    : { jobId: job.id, kind: job.kind, ticketRef: job.ticketRef };
}

/** A child logger whose every line carries the job's fields (pino child loggers are cheap). */
export function jobLogger(logger: Logger, job: JobIdentity, host?: string | null): Logger {
  return logger.child(jobLogFields(job, host));
}

/** The gateway's line for a job it accepted (recorded, about to be queued). */
export function logJobAccepted(logger: Logger, record: JobRecord, idempotencyKey: string | null): void {
  jobLogger(logger, record).info(
    { hosts: record.hypervisors, steps: record.steps.length, requestedBy: record.requestedBy, idempotencyKey },
    'job accepted',
  );
}

/** The line for a job's end, by the process that recorded it (a worker; a gateway for a cancel before it started). */
export function logJobEnd(logger: Logger, record: JobRecord): void {
  const started = Date.parse(record.createdAt);
  const ended = Date.parse(record.finishedAt ?? new Date().toISOString());
  const fields = {
    hosts: record.hypervisors,
    state: record.state,
    durationMs: Number.isFinite(ended - started) ? ended - started : null,
    code: record.error?.code ?? null,
  };
  const log = jobLogger(logger, record);
  if (record.state === 'FAILED')
    log.warn(
      { ...fields, err: record.error?.message, failedHosts: record.hosts.filter((h) => h.state === 'FAILED').map((h) => h.host) },
      'job ended',
    );
  else log.info({ ...fields, changed: record.steps.filter((s) => s.changed).length }, 'job ended');
}

/*
 * What a gateway request noted on its way for the log line of the job it makes: the
 * Idempotency-Key (REST) or idempotencyKey (GraphQL) it claimed. The gateway runs every request
 * in its own notes (gateway/main.ts); the idempotency store notes the key when a request claims
 * it (gateway/services.ts); the job's acceptance takes it.
 */
const notes = new AsyncLocalStorage<{ idempotencyKey: string | null }>();

/** Runs one request (and everything it starts) with notes of its own. */
export function withRequestNotes<T>(fn: () => T): T {
  return notes.run({ idempotencyKey: null }, fn);
}

export function noteIdempotencyKey(key: string): void {
  const n = notes.getStore();
  if (n) n.idempotencyKey = key;
}

/** The key the request noted, once: a second job of the same request (another mutation) did not claim it. */
export function takeIdempotencyKey(): string | null {
  const n = notes.getStore();
  if (!n) return null;
  const key = n.idempotencyKey;
  n.idempotencyKey = null;
  return key;
}

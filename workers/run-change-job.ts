import type { PlanStep } from '../src/changes/plan.ts';
import { isAsWanted, stepKind } from '../src/changes/step-kinds.ts';
import { describeError, ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { Host, HostRegistry } from '../src/inventory/host-registry.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { isTerminal, type JobRecord, type RollbackRecord, type StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import { toShellCommand } from '../src/ssh/quote.ts';
import type { CommandRunner, ExecResult } from '../src/ssh/ssh-pool.ts';
import type { HostLocks } from '../src/jobs/host-locks.ts';

export interface RunDeps {
  store: JobStore;
  runner: CommandRunner;
  registry: HostRegistry;
  locks: HostLocks;
  logger: Logger;
  /** Re-reads the touched hosts into the cache before the job is reported finished. */
  refresh?: (hosts: readonly string[]) => Promise<void>;
}

// Job records keep an excerpt of command output, enough to diagnose, small enough to stream.
const EXCERPT_CHARS = 4000;
const excerpt = (s: string) => (s.length > EXCERPT_CHARS ? `${s.slice(0, EXCERPT_CHARS)}…(${s.length - EXCERPT_CHARS} more chars)` : s);

/** A step that changed its host, with what the host looked like before: what rollback needs. */
interface Applied {
  record: StepRecord;
  planned: PlanStep;
  host: Host;
  before: { value: string; state: unknown };
}

class Cancelled extends Error {}

async function refreshTouched(deps: RunDeps, job: JobRecord): Promise<void> {
  if (!deps.refresh) return;
  try {
    await deps.refresh(job.hypervisors);
  } catch (err) {
    deps.logger.warn({ job: job.id, err: (err as Error).message }, 'refresh after job failed');
  }
}

/**
 * Executes a change job's plan. Each step observes the live value first and acts only when it
 * differs from the wanted one, then observes again to prove it converged, so a re-run (or a
 * redelivery after a worker crash) changes nothing twice. Hosts run in parallel, each host's
 * steps in plan order under that host's lock. When a step fails, the steps this run applied on
 * that host are undone in reverse order where a compensating command exists; other hosts go
 * on. A cancel request stops each host before its next step.
 * Returns the final record; a failed job is a normal outcome, not an exception.
 */
export async function runChangeJob(deps: RunDeps, jobId: string): Promise<JobRecord> {
  const { store, logger } = deps;
  const loaded = await store.get(jobId);
  if (!loaded) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${jobId} has no record (expired or never created)`);
  if (isTerminal(loaded.state)) return loaded;
  const job: JobRecord = {
    ...loaded,
    state: 'RUNNING',
    startedAt: loaded.startedAt ?? new Date().toISOString(),
    attempts: loaded.attempts + 1,
    progress: { ...loaded.progress, message: 'running' },
  };
  await store.record(job, 'STARTED', job.attempts > 1 ? `restarted (attempt ${job.attempts}); steps are re-checked, not repeated` : 'started');
  const log = logger.child({ job: job.id, kind: job.kind });

  // Steps run host by host in plan order; hosts run in parallel, each under its own lock, so a
  // host that fails does not hold back or hide the others.
  const groups = new Map<string, StepRecord[]>();
  for (const step of job.steps) groups.set(step.host, [...(groups.get(step.host) ?? []), step]);
  const outcomes = await Promise.all([...groups].map(([host, steps]) => runHostSteps(deps, job, host, steps)));

  for (const s of job.steps) if (s.state === 'PENDING') s.state = 'SKIPPED';
  await refreshTouched(deps, job);
  job.finishedAt = new Date().toISOString();
  const failed = outcomes.filter((o) => o.failure);
  const changed = job.steps.filter((s) => s.changed).length;
  if (failed.length) {
    const first = failed[0]!.failure!;
    job.state = 'FAILED';
    job.error = { code: first.code, message: failed.map((o) => o.failure!.message).join(' | '), step: first.step };
    job.progress = { ...job.progress, message: job.error.message };
    await store.record(job, 'FAILED', job.error.message);
    log.warn({ code: first.code, err: job.error.message, hosts: failed.map((o) => o.host) }, 'job failed');
  } else if (outcomes.some((o) => o.cancelled)) {
    job.state = 'CANCELLED';
    const kept = job.steps.filter((s) => s.changed).map((s) => s.index + 1);
    job.progress = { ...job.progress, message: `cancelled${kept.length ? `; steps ${kept.join(', ')} had been applied and stay` : ' before any change'}` };
    await store.record(job, 'CANCELLED', job.progress.message);
    log.info('job cancelled');
  } else {
    job.state = 'SUCCEEDED';
    job.progress = { done: job.steps.length, total: job.steps.length, message: `done: ${changed} of ${job.steps.length} steps changed something` };
    await store.record(job, 'SUCCEEDED', job.progress.message);
    log.info({ changed, steps: job.steps.length }, 'job succeeded');
  }
  return job;
}

interface HostOutcome {
  host: string;
  cancelled: boolean;
  failure?: { code: string; message: string; step: number | null };
}

/** One host's steps, in order, under its lock; on failure its applied steps are rolled back. */
async function runHostSteps(deps: RunDeps, job: JobRecord, host: string, steps: StepRecord[]): Promise<HostOutcome> {
  const { store } = deps;
  const applied: Applied[] = [];
  let current: StepRecord | undefined;
  const onWait = (h: string) => {
    job.progress = { ...job.progress, message: `waiting for ${h}: another job is changing it` };
    void store.record(job, 'WAITING', job.progress.message).catch(() => {});
  };
  try {
    await deps.locks.withHosts(
      [host],
      async () => {
        for (const step of steps) {
          if (await store.cancelRequested(job.id)) throw new Cancelled();
          current = step;
          await runStep(deps, job, step, applied);
        }
      },
      onWait,
    );
    return { host, cancelled: false };
  } catch (err) {
    if (err instanceof Cancelled) return { host, cancelled: true };
    const { code, message } = describeError(err);
    const failedStep = current && current.state === 'RUNNING' ? current : undefined;
    if (failedStep) {
      failedStep.state = 'FAILED';
      failedStep.finishedAt = new Date().toISOString();
      failedStep.durationMs = Date.parse(failedStep.finishedAt) - Date.parse(failedStep.startedAt ?? failedStep.finishedAt);
      await store.record(job, 'STEP_FINISHED', `step ${failedStep.index + 1} failed on ${host}: ${message}`, structuredClone(failedStep));
    }
    const rolled = await rollBack(deps, job, applied);
    const where = failedStep ? `step ${failedStep.index + 1} (${failedStep.description}) on ${host}` : `${host}, before any step,`;
    const undone = rolled.filter((r) => r.state === 'SUCCEEDED').map((r) => r.step + 1);
    const notUndone = rolled.filter((r) => r.state !== 'SUCCEEDED').map((r) => r.step + 1);
    const note =
      (undone.length ? `; rolled back step${undone.length > 1 ? 's' : ''} ${undone.join(', ')}` : '') +
      (notUndone.length ? `; could NOT roll back step${notUndone.length > 1 ? 's' : ''} ${notUndone.join(', ')}` : '');
    return { host, cancelled: false, failure: { code, message: `${where} failed: ${message}${note}`, step: failedStep?.index ?? null } };
  }
}

async function runStep(deps: RunDeps, job: JobRecord, step: StepRecord, applied: Applied[]): Promise<void> {
  const planned = job.plan.steps[step.index];
  if (!planned?.apply) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${job.id} has no change for step ${step.index}`);
  const host = await deps.registry.get(step.host);
  if (!host) throw new TrunklineError(ErrorCode.UNKNOWN_HYPERVISOR, `hypervisor ${step.host} is no longer registered`);
  const kind = stepKind(planned.probe.kind);

  const started = performance.now();
  Object.assign(step, { state: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, changed: null, durationMs: null });
  job.progress = { ...job.progress, message: `step ${step.index + 1}/${job.steps.length}: ${step.description}` };
  await deps.store.record(job, 'STEP_STARTED', job.progress.message, structuredClone(step));

  const observe = async () => kind.read(await deps.runner.exec(host, planned.probe.argv), planned);
  const before = await observe();
  step.observed = before.value;
  if (isAsWanted(kind, before, planned)) {
    step.changed = false;
  } else {
    const action = kind.applyFor?.(before.state, planned) ?? planned.apply;
    step.command = toShellCommand(action.argv);
    const out: ExecResult = await deps.runner.exec(host, action.argv, { stdin: action.stdin });
    step.exitCode = out.exitCode;
    step.stdout = excerpt(out.stdout);
    step.stderr = excerpt(out.stderr);
    if (out.exitCode !== 0)
      throw new TrunklineError(ErrorCode.COMMAND_FAILED, `exit ${out.exitCode}: ${out.stderr.trim().slice(0, 500) || '(no stderr)'}`, { host: host.name });
    // Applied as soon as the command ran: a step that then fails to converge is undone too.
    applied.push({ record: step, planned, host, before });
    let after = await observe();
    // Some changes complete on the host's own time (a guest shutting down): poll, bounded.
    const deadline = Date.now() + (planned.waitMs ?? 0);
    while (!isAsWanted(kind, after, planned) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
      after = await observe();
    }
    if (!isAsWanted(kind, after, planned) && planned.fallback) {
      const fb = await deps.runner.exec(host, planned.fallback.argv, { stdin: planned.fallback.stdin });
      const note = `not as wanted after ${Math.round((planned.waitMs ?? 0) / 1000)} s (${after.value}); ran ${toShellCommand(planned.fallback.argv)}: exit ${fb.exitCode}`;
      step.stdout = excerpt(`${step.stdout ?? ''}${step.stdout ? '\n' : ''}${note}\n${fb.stdout}`);
      step.stderr = excerpt(`${step.stderr ?? ''}${fb.stderr}`);
      after = await observe();
    }
    if (!isAsWanted(kind, after, planned)) {
      const waited = planned.waitMs ? ` (waited ${Math.round(planned.waitMs / 1000)} s)` : '';
      throw new TrunklineError(
        ErrorCode.STEP_NOT_CONVERGED,
        `after the change the host reports ${after.value}, wanted ${step.wanted}${waited}${planned.hint ? `: ${planned.hint}` : ''}`,
        { host: host.name },
      );
    }
    step.changed = true;
  }
  step.state = 'SUCCEEDED';
  step.finishedAt = new Date().toISOString();
  step.durationMs = Math.round(performance.now() - started);
  job.progress = {
    done: job.steps.filter((s) => s.state === 'SUCCEEDED' || s.state === 'FAILED').length,
    total: job.steps.length,
    message: `step ${step.index + 1}/${job.steps.length} ${step.changed ? 'changed' : 'already as wanted'}: ${step.description}`,
  };
  await deps.store.record(job, 'STEP_FINISHED', job.progress.message, structuredClone(step));
}

/** Undoes applied steps, newest first; records each attempt in the job. Never throws. */
async function rollBack(deps: RunDeps, job: JobRecord, applied: Applied[]): Promise<RollbackRecord[]> {
  const done: RollbackRecord[] = [];
  for (const a of [...applied].reverse()) {
    const kind = stepKind(a.planned.probe.kind);
    const base = { step: a.record.index, host: a.host.name, description: a.record.description };
    // Undo converges back to what was observed before: nothing to do if the host is there already
    // (e.g. a guest that ignored the shutdown is still running).
    const now = await deps.runner
      .exec(a.host, a.planned.probe.argv)
      .then((r) => kind.read(r, a.planned).value)
      .catch(() => null);
    const action = now === a.before.value ? null : kind.undo(a.before.state, a.planned);
    let entry;
    if (now === a.before.value) {
      entry = { ...base, command: null, state: 'SUCCEEDED' as const, message: `already as before (${now})` };
    } else if (!action) {
      entry = { ...base, command: null, state: 'NOT_POSSIBLE' as const, message: 'no compensating command for this step' };
    } else {
      const command = toShellCommand(action.argv);
      try {
        const out = await deps.runner.exec(a.host, action.argv, { stdin: action.stdin });
        entry =
          out.exitCode === 0
            ? { ...base, command, state: 'SUCCEEDED' as const, message: 'undone' }
            : { ...base, command, state: 'FAILED' as const, message: `exit ${out.exitCode}: ${out.stderr.trim().slice(0, 300)}` };
      } catch (err) {
        entry = { ...base, command, state: 'FAILED' as const, message: describeError(err).message };
      }
    }
    job.rollback.push(entry);
    done.push(entry);
    await deps.store.record(job, 'STEP_ROLLED_BACK', `step ${a.record.index + 1} ${entry.state === 'SUCCEEDED' ? 'rolled back' : `not rolled back: ${entry.message}`}`, structuredClone(a.record));
  }
  return done;
}

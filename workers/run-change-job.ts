import { readProbe } from '../src/changes/probes.ts';
import { describeError, ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { HostRegistry } from '../src/inventory/host-registry.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { isTerminal, type JobRecord, type StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import type { CommandRunner, ExecResult } from '../src/ssh/ssh-pool.ts';
import type { HostLocks } from './host-locks.ts';

export interface RunDeps {
  store: JobStore;
  runner: CommandRunner;
  registry: HostRegistry;
  locks: HostLocks;
  logger: Logger;
  /** Re-reads the touched hosts into the cache before the job is reported finished. */
  refresh?: (hosts: readonly string[]) => Promise<void>;
}

async function refreshTouched(deps: RunDeps, job: JobRecord): Promise<void> {
  if (!deps.refresh) return;
  try {
    await deps.refresh(job.hypervisors);
  } catch (err) {
    deps.logger.warn({ job: job.id, err: (err as Error).message }, 'refresh after job failed');
  }
}

// Job records keep an excerpt of command output, enough to diagnose, small enough to stream.
const EXCERPT_CHARS = 4000;
const excerpt = (s: string) => (s.length > EXCERPT_CHARS ? `${s.slice(0, EXCERPT_CHARS)}…(${s.length - EXCERPT_CHARS} more chars)` : s);

/**
 * Executes a change job's plan on its hosts. Each step observes the live value first and acts
 * only when it differs from the wanted one, then observes again to prove it converged, so a
 * re-run (or a redelivery after a worker crash) changes nothing twice.
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
  await store.record(job, 'STARTED', job.attempts > 1 ? `restarted (attempt ${job.attempts})` : 'started');
  const log = logger.child({ job: job.id, kind: job.kind });

  let current: StepRecord | undefined;
  try {
    await deps.locks.withHosts(job.hypervisors, async () => {
      for (const step of job.steps) {
        current = step;
        await runStep(deps, job, step);
      }
    });
    // A finished job means the cache already shows its effect.
    await refreshTouched(deps, job);
    job.state = 'SUCCEEDED';
    const changed = job.steps.filter((s) => s.changed).length;
    job.progress = { done: job.steps.length, total: job.steps.length, message: `done: ${changed} of ${job.steps.length} steps changed something` };
    job.finishedAt = new Date().toISOString();
    await store.record(job, 'SUCCEEDED', job.progress.message);
    log.info({ changed, steps: job.steps.length }, 'job succeeded');
  } catch (err) {
    const { code, message } = describeError(err);
    const failedStep = current && current.state !== 'SUCCEEDED' ? current : undefined;
    if (failedStep && failedStep.state === 'RUNNING') {
      failedStep.state = 'FAILED';
      failedStep.finishedAt = new Date().toISOString();
      failedStep.durationMs = Date.parse(failedStep.finishedAt) - Date.parse(failedStep.startedAt ?? failedStep.finishedAt);
      await store.record(job, 'STEP_FINISHED', `step ${failedStep.index + 1} failed: ${message}`, structuredClone(failedStep));
    }
    for (const s of job.steps) if (s.state === 'PENDING') s.state = 'SKIPPED';
    const where = failedStep ? `step ${failedStep.index + 1} (${failedStep.description}) on ${failedStep.host}` : 'before any step';
    await refreshTouched(deps, job);
    job.state = 'FAILED';
    job.error = { code, message: `${where} failed: ${message}`, step: failedStep?.index ?? null };
    job.progress = { ...job.progress, message: job.error.message };
    job.finishedAt = new Date().toISOString();
    await store.record(job, 'FAILED', job.error.message);
    log.warn({ code, err: message, step: failedStep?.index }, 'job failed');
  }
  return job;
}

async function runStep(deps: RunDeps, job: JobRecord, step: StepRecord): Promise<void> {
  const planned = job.plan.steps[step.index];
  if (!planned) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${job.id} has no plan for step ${step.index}`);
  const host = await deps.registry.get(step.host);
  if (!host) throw new TrunklineError(ErrorCode.UNKNOWN_HYPERVISOR, `hypervisor ${step.host} is no longer registered`);

  const started = performance.now();
  Object.assign(step, { state: 'RUNNING', startedAt: new Date().toISOString(), finishedAt: null, changed: null, durationMs: null });
  job.progress = { ...job.progress, message: `step ${step.index + 1}/${job.steps.length}: ${step.description}` };
  await deps.store.record(job, 'STEP_STARTED', job.progress.message, structuredClone(step));

  const observe = async () => readProbe(planned.probe.kind, await deps.runner.exec(host, planned.probe.argv));
  step.observed = await observe();
  if (!planned.apply) throw new TrunklineError(ErrorCode.JOB_INVALID, `step ${step.index} of job ${job.id} has nothing to apply`);
  if (step.observed === step.wanted) {
    step.changed = false;
  } else {
    const result: ExecResult = await deps.runner.exec(host, planned.apply.argv);
    step.exitCode = result.exitCode;
    step.stdout = excerpt(result.stdout);
    step.stderr = excerpt(result.stderr);
    if (result.exitCode !== 0)
      throw new TrunklineError(ErrorCode.COMMAND_FAILED, `exit ${result.exitCode}: ${result.stderr.trim().slice(0, 500) || '(no stderr)'}`, {
        host: host.name,
      });
    const after = await observe();
    if (after !== step.wanted)
      throw new TrunklineError(ErrorCode.STEP_NOT_CONVERGED, `after the change the host reports ${after}, wanted ${step.wanted}`, {
        host: host.name,
      });
    step.changed = true;
  }
  step.state = 'SUCCEEDED';
  step.finishedAt = new Date().toISOString();
  step.durationMs = Math.round(performance.now() - started);
  job.progress = {
    done: step.index + 1,
    total: job.steps.length,
    message: `step ${step.index + 1}/${job.steps.length} ${step.changed ? 'changed' : 'already as wanted'}: ${step.description}`,
  };
  await deps.store.record(job, 'STEP_FINISHED', job.progress.message, structuredClone(step));
}

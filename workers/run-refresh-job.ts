import { describeError, ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { HostRegistry } from '../src/inventory/host-registry.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { endHostRuns, startHostRuns } from '../src/jobs/host-runs.ts';
import { isTerminal, type JobRecord } from '../src/jobs/job-types.ts';
import { refreshHost, summarizeState, type RefreshDeps } from './refresh-hosts.ts';

/**
 * Executes a refreshHypervisor job: one read-only step per host, run in parallel. The job
 * fails (naming the hosts and reasons) if any host could not be read; the others' state is
 * refreshed all the same.
 */
export async function runRefreshJob(deps: RefreshDeps & { store: JobStore; registry: HostRegistry }, jobId: string): Promise<JobRecord> {
  const { store } = deps;
  const loaded = await store.get(jobId);
  if (!loaded) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${jobId} has no record (expired or never created)`);
  if (isTerminal(loaded.state)) return loaded;
  const job: JobRecord = { ...loaded, state: 'RUNNING', startedAt: new Date().toISOString(), attempts: loaded.attempts + 1 };
  job.progress = { ...job.progress, message: `reading ${job.hypervisors.join(', ')}` };
  startHostRuns(job);
  await store.record(job, 'STARTED', job.progress.message);

  let done = 0;
  const failures: Array<{ host: string; index: number; code: ErrorCode; message: string }> = [];
  await Promise.all(
    job.steps.map(async (step) => {
      Object.assign(step, { state: 'RUNNING', startedAt: new Date().toISOString() });
      await store.record(job, 'STEP_STARTED', step.description, structuredClone(step));
      const started = performance.now();
      try {
        const host = await deps.registry.get(step.host);
        if (!host) throw new TrunklineError(ErrorCode.UNKNOWN_HYPERVISOR, `hypervisor ${step.host} is no longer registered`);
        const state = await refreshHost(deps, host);
        step.observed = summarizeState(state);
        if (state.error) throw new TrunklineError(state.error.code, state.error.message);
        step.state = 'SUCCEEDED';
      } catch (err) {
        const { code, message } = describeError(err);
        step.state = 'FAILED';
        step.stderr = message;
        failures.push({ host: step.host, index: step.index, code, message });
      }
      step.changed = false;
      step.finishedAt = new Date().toISOString();
      step.durationMs = Math.round(performance.now() - started);
      done++;
      job.progress = { done, total: job.steps.length, message: `${step.host}: ${step.observed ?? step.stderr}` };
      await store.record(job, 'STEP_FINISHED', job.progress.message, structuredClone(step));
    }),
  );

  job.finishedAt = new Date().toISOString();
  if (failures.length) {
    failures.sort((a, b) => a.index - b.index);
    job.error = { code: failures[0]!.code, message: '', step: failures[0]!.index };
  }
  job.state = failures.length ? 'FAILED' : 'SUCCEEDED';
  endHostRuns(job);
  if (failures.length) {
    failures.sort((a, b) => a.index - b.index);
    const first = failures[0]!;
    job.state = 'FAILED';
    job.error = {
      code: first.code,
      message: `could not read ${failures.map((f) => `${f.host}: ${f.message}`).join('; ')}`,
      step: first.index,
    };
    job.progress = { ...job.progress, message: job.error.message };
    await store.record(job, 'FAILED', job.error.message);
  } else {
    job.state = 'SUCCEEDED';
    job.progress = { ...job.progress, message: `read ${job.steps.length} host(s)` };
    await store.record(job, 'SUCCEEDED', job.progress.message);
  }
  return job;
}

import { describeError, ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { HostRegistry } from '../src/inventory/host-registry.ts';
import { jobLogger } from '../src/jobs/job-log.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { isTerminal, type JobRecord } from '../src/jobs/job-types.ts';
import { withLogContext } from '../src/ssh/log-context.ts';
import { beginOnePiece, endOnePiece, runOnePieceStep } from './one-piece-job.ts';
import { refreshHost, summarizeState, type RefreshDeps } from './refresh-hosts.ts';

/**
 * Executes a refreshHypervisor job: one read-only step per host, run in parallel. The job
 * fails (naming the hosts and reasons) if any host could not be read; the others' state is
 * refreshed all the same.
 */
export async function runRefreshJob(deps: RefreshDeps & { store: JobStore; registry: HostRegistry }, jobId: string): Promise<JobRecord> {
  const { store } = deps;
  const loaded = await store.require(jobId);
  if (isTerminal(loaded.state)) return loaded;
  // Its lines, and the SSH layer's for its reads, carry the job's fields (src/jobs/job-log.ts).
  const log = jobLogger(deps.logger, loaded);
  const reading = { ...deps, logger: log, runner: withLogContext(deps.runner, log) };
  const job = await beginOnePiece(store, loaded, `reading ${loaded.hypervisors.join(', ')}`);
  log.info({ hosts: job.hypervisors, attempt: job.attempts }, 'job started');

  const failures: Array<{ host: string; index: number; code: ErrorCode; message: string }> = [];
  await Promise.all(
    job.steps.map((step) =>
      runOnePieceStep(
        store,
        job,
        step,
        async () => {
          try {
            const host = await deps.registry.get(step.host);
            if (!host) throw new TrunklineError(ErrorCode.UNKNOWN_HYPERVISOR, `hypervisor ${step.host} is no longer registered`);
            const state = await refreshHost(reading, host);
            // A failed read is still an observation: the cache says why the host's data is old.
            step.observed = summarizeState(state);
            if (state.error) throw new TrunklineError(state.error.code, state.error.message);
            return step.observed;
          } catch (err) {
            failures.push({ host: step.host, index: step.index, ...describeError(err) });
            throw err;
          }
        },
        false,
        undefined,
        log,
      ),
    ),
  );

  if (!failures.length) return endOnePiece(store, job, { state: 'SUCCEEDED', message: `read ${job.steps.length} host(s)` });
  failures.sort((a, b) => a.index - b.index);
  const first = failures[0]!;
  return endOnePiece(store, job, {
    state: 'FAILED',
    error: { code: first.code, message: `could not read ${failures.map((f) => `${f.host}: ${f.message}`).join('; ')}`, step: first.index },
  });
}

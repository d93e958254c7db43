import { ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { Host, HostRegistry } from '../src/inventory/host-registry.ts';
import type { HostLocks } from '../src/jobs/host-locks.ts';
import type { HostPart, JobStore } from '../src/jobs/job-store.ts';
import { isTerminal, pendingHostRun, type HostRunState, type JobEventType, type StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import type { CommandRunner } from '../src/ssh/ssh-pool.ts';
import { runHostSteps, type HostStepsContext } from './host-steps.ts';

export interface HostPartDeps {
  store: JobStore;
  runner: CommandRunner;
  registry: HostRegistry;
  locks: HostLocks;
  logger: Logger;
  /** Re-reads the host into the cache; a job is reported finished only after its hosts were. */
  refresh(host: Host): Promise<void>;
  /**
   * The light re-read, for a job that neither defined nor removed domains or networks, as
   * commands for the host part's last batch (see refresh-hosts.ts); null: only a full read will do.
   */
  readAlong(host: Host): Promise<HostStepsContext['readAlong']>;
}

/**
 * One hypervisor's part of a change job (a BullMQ child of the job's flow): its steps under the
 * host's lock, then its cache entry brought up to date. Writes only its own part of the record,
 * so parts of one job run on any number of workers at once. A host failure is a normal outcome
 * (returned, recorded); it throws only when the job record is gone.
 */
export async function runHostPart(deps: HostPartDeps, jobId: string, hostName: string): Promise<HostRunState> {
  const { store } = deps;
  const job = await store.get(jobId);
  if (!job) throw new TrunklineError(ErrorCode.JOB_INVALID, `job ${jobId} has no record (expired or never created)`);
  const prior = job.hosts.find((h) => h.host === hostName) ?? pendingHostRun(hostName);
  if (isTerminal(job.state) || isTerminal(prior.state)) return prior.state;

  const now = new Date().toISOString();
  const part: HostPart = {
    run: { ...prior, state: 'RUNNING', attempts: prior.attempts + 1, startedAt: prior.startedAt ?? now, finishedAt: null, error: null },
    steps: job.steps.filter((s) => s.host === hostName),
    rollback: job.rollback.filter((r) => r.host === hostName),
  };
  const log = deps.logger.child({ job: job.id, kind: job.kind, host: hostName });
  const report = async (type: JobEventType, message: string, step: StepRecord | null = null) => {
    part.run.message = message;
    part.run.updatedAt = new Date().toISOString();
    await store.recordHost(job, part, type, message, step);
  };
  await report(
    'HOST_STARTED',
    part.run.attempts > 1 ? `${hostName}: restarted (attempt ${part.run.attempts}); steps are re-checked, not repeated` : `${hostName}: started`,
  );

  const host = await deps.registry.get(hostName);
  if (!host) {
    part.run.error = { code: ErrorCode.UNKNOWN_HYPERVISOR, message: `hypervisor ${hostName} is no longer registered`, step: null };
    return finish('FAILED', part.run.error.message);
  }
  // Steps that define or remove domains or networks change the object lists; others only what is in them.
  const listsUnchanged = !part.steps.some((s) => ['libvirt-network-def', 'libvirt-vm-def'].includes(job.plan.steps[s.index]!.probe.kind));
  const refresh = async () => {
    try {
      await deps.refresh(host);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'refresh after job failed');
    }
  };
  const onWait = () => void report('WAITING', `waiting for ${hostName}: another job is changing it`).catch(() => {});
  const outcome = await deps.locks.withHosts(
    [hostName],
    async () =>
      runHostSteps({
        // The light re-read rides along with the verification batch (one snapshot serves both).
        // Planned under the lock: the object lists it builds on are the latest cached ones.
        readAlong: listsUnchanged ? await deps.readAlong(host).catch(() => null) : null,
        runner: deps.runner,
        host,
        steps: part.steps.map((record) => ({ record, planned: job.plan.steps[record.index]! })),
        report,
        rollback: part.rollback,
        cancelRequested: () => store.cancelRequested(job.id),
        whileVerifying: refresh,
      }),
    onWait,
  );
  // The cache must show what the host looks like now: after a rollback, after changes the
  // refresh did not overlap, or when the host differed from what the plan saw.
  if ((outcome.applied && (!outcome.refreshed || outcome.state !== 'SUCCEEDED')) || !outcome.cacheAgreed) await refresh();

  const changed = part.steps.filter((s) => s.changed).length;
  if (outcome.state === 'FAILED') {
    part.run.error = outcome.failure!;
    log.warn({ code: outcome.failure!.code, err: outcome.failure!.message }, 'host part failed');
    return finish('FAILED', outcome.failure!.message);
  }
  if (outcome.state === 'CANCELLED') return finish('CANCELLED', `${hostName}: cancelled${changed ? ` after ${changed} change(s), which stay` : ' before any change'}`);
  return finish('SUCCEEDED', `${hostName}: done, ${changed} of ${part.steps.length} steps changed something`);

  async function finish(state: HostRunState, message: string): Promise<HostRunState> {
    part.run.state = state;
    part.run.finishedAt = new Date().toISOString();
    await report('HOST_FINISHED', message);
    return state;
  }
}

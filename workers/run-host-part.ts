import type { PlanStep } from '../src/changes/plan.ts';
import { planDifference } from '../src/changes/plan-difference.ts';
import { planHostPart, planningScope } from '../src/changes/planners.ts';
import type { Config } from '../src/config/config.ts';
import { describeError, ErrorCode } from '../src/errors/codes.ts';
import type { HostStateCache } from '../src/hosts/host-state-cache.ts';
import type { HostState } from '../src/hosts/host-state.ts';
import { failedReadState, readForPlanning, type PlanningRead } from '../src/hosts/read-host-state.ts';
import type { Host, HostRegistry } from '../src/inventory/host-registry.ts';
import { beginAttempt, endAttempt } from '../src/jobs/host-attempts.ts';
import { isLockLost, type HostLease, type HostLocks } from '../src/jobs/host-locks.ts';
import { jobLogger } from '../src/jobs/job-log.ts';
import type { HostPart, JobStore } from '../src/jobs/job-store.ts';
import {
  isTerminal,
  pendingHostRun,
  type HostRunState,
  type JobEventType,
  type JobRecord,
  type StepRecord,
} from '../src/jobs/job-types.ts';
import { pendingStepRecord } from '../src/jobs/submit-change.ts';
import type { Logger } from '../src/log/logger.ts';
import { workerMetrics } from '../src/metrics/worker.ts';
import { withLogContext } from '../src/ssh/log-context.ts';
import type { CommandRunner } from '../src/ssh/runner.ts';
import { fencedRunner } from './fenced-runner.ts';
import { type AttemptClaim, interruptedBy, PartInterrupted } from './interrupted.ts';
import { runHostSteps, type HostStepsContext, type HostStepsOutcome } from './host-steps.ts';
import { awaitTurn, handOver, type TurnDeps } from './host-turn.ts';

export interface HostPartDeps {
  store: JobStore;
  runner: CommandRunner;
  registry: HostRegistry;
  locks: HostLocks;
  cache: HostStateCache;
  turns: TurnDeps;
  config: Config;
  logger: Logger;
  /** Limit for the read the part plans from. */
  readTimeoutMs: number;
  /** Re-reads the host into the cache (its lines logged with `log`); a job is reported finished only after its hosts were. */
  refresh(host: Host, log?: Logger): Promise<void>;
  /**
   * The light re-read, for a job that neither defined nor removed domains or networks, as
   * commands for the host part's last batch (see refresh-hosts.ts); null: only a full read will do.
   */
  readAlong(host: Host, known: HostState): Promise<HostStepsContext['readAlong']>;
  /** This worker process (`host:pid`), as the part's attempts name it. */
  worker: string;
}

/**
 * One hypervisor's part of a change job (a BullMQ child of the job's flow):
 *   1. wait for its turn: every job accepted earlier on this host has ended (host-turn.ts);
 *   2. under the host lock, read the host as it is and plan this part again from that read and
 *      the job's input (the plan shown at submission came from the cache; a refusal that
 *      depends on state is checked again here);
 *   3. run the steps, then bring the cache up to date, then hand the turn to the next job.
 * Writes only its own part of the record, so parts of one job run on any number of workers at
 * once. A host failure is a normal outcome (returned, recorded); it throws only when the job
 * record is gone, or NotYourTurn when the part must give its worker slot up while it waits.
 */
export async function runHostPart(
  deps: HostPartDeps,
  jobId: string,
  hostName: string,
  claim: AttemptClaim = { stillOurs: async () => true },
): Promise<HostRunState> {
  const { store } = deps;
  const job = await store.require(jobId);
  const prior = job.hosts.find((h) => h.host === hostName) ?? pendingHostRun(hostName);
  if (isTerminal(job.state) || isTerminal(prior.state)) {
    await handOver(deps.turns, jobId, hostName);
    return prior.state;
  }
  const part: HostPart = {
    run: { ...prior },
    steps: job.steps.filter((s) => s.host === hostName),
    rollback: job.rollback.filter((r) => r.host === hostName),
  };
  let totalSteps = job.steps.length;
  // Every line of the part (its steps', the SSH layer's for its commands) carries the job's fields and the host.
  const log = jobLogger(deps.logger, job, hostName);
  // While the part holds the host lock, its writes are fenced by it (job-store.ts recordHost).
  let lease: HostLease | null = null;
  const report = async (type: JobEventType, message: string, step: StepRecord | null = null) => {
    part.run.message = message;
    part.run.updatedAt = new Date().toISOString();
    const fence = lease ? { lockKey: lease.lockKey(hostName), token: lease.token } : null;
    await store.recordHost(job, part, type, message, step, totalSteps, fence);
  };
  const finish = async (state: Exclude<HostRunState, 'PENDING' | 'RUNNING'>, message: string): Promise<HostRunState> => {
    const now = new Date().toISOString();
    part.run.state = state;
    part.run.finishedAt = now;
    part.run.attemptLog = endAttempt(part.run.attemptLog, state, now);
    await report('HOST_FINISHED', message);
    workerMetrics.hostParts.inc({ kind: job.kind, state });
    log[state === 'FAILED' ? 'warn' : 'info'](
      {
        state,
        attempts: part.run.attempts,
        changed: part.steps.filter((s) => s.changed).length,
        steps: part.steps.length,
        code: part.run.error?.code ?? null,
        err: part.run.error?.message,
      },
      'host part finished',
    );
    return state;
  };

  const turn = await awaitTurn(deps.turns, jobId, hostName, {
    cancelRequested: () => store.cancelRequested(jobId),
    // Said once per job ahead (the record keeps it across the part's returns from delay).
    onWait: async (place) => {
      if (part.run.waitingFor === place.first) return;
      part.run.waitingFor = place.first;
      const more = place.ahead > 1 ? `; ${place.ahead} jobs accepted earlier are ahead of it` : '';
      await report('WAITING', `${hostName}: waiting for its turn: job ${place.first} runs on ${hostName} first${more}`);
    },
  });
  // Set when the part stops because its lease or claim was lost: it is not over, so it keeps its place.
  let interrupted = false;
  let hostRecord: Host | null = null;
  try {
    part.run.waitingFor = null;
    if (turn === 'CANCELLED') return await finish('CANCELLED', `${hostName}: cancelled while it waited for its turn`);

    // The OVS tables the part planned from differ from the cached ones (and were not stored).
    let cacheBehind = false;
    const outcome = await deps.locks
      .withHosts(
        [hostName],
        async (held): Promise<HostStepsOutcome> => {
          // A worker that slept past its claim may wake here: BullMQ gave the part to another
          // worker, which may have finished it and let later jobs run. It must not run it again.
          if (!(await claim.stillOurs()))
            throw new PartInterrupted(
              false,
              `${hostName}: BullMQ handed the part to another worker while this one was not renewing its claim`,
            );
          const latest = await store.require(jobId);
          const run = latest.hosts.find((h) => h.host === hostName);
          if (run && isTerminal(run.state))
            throw new PartInterrupted(false, `${hostName}: the part already ended (${run.state}) on another attempt`);
          // What the part's earlier attempts recorded (a take-over goes on from there).
          if (run) part.run = { ...run, waitingFor: null };
          part.steps = latest.steps.filter((x) => x.host === hostName);
          part.rollback = latest.rollback.filter((x) => x.host === hostName);
          // Cancelled while it waited for the host lock: it ends before it starts. Not so a part an
          // earlier attempt started: that one may have changed the host, so this attempt checks its
          // steps first (the step engine honours the cancel and records what stays).
          if (part.run.attempts === 0 && (await store.cancelRequested(jobId)))
            return { state: 'CANCELLED', applied: false, refreshed: true, cacheAgreed: true };
          lease = held;
          const now = new Date().toISOString();
          part.run = {
            ...part.run,
            state: 'RUNNING',
            attempts: part.run.attempts + 1,
            startedAt: part.run.startedAt ?? now,
            finishedAt: null,
            error: null,
          };
          part.run.attemptLog = beginAttempt(part.run, deps.worker, now);
          const before = part.run.attemptLog.at(-2);
          log.info({ attempt: part.run.attempts, worker: deps.worker }, 'host part started');
          await report(
            'HOST_STARTED',
            part.run.attempts > 1
              ? `${hostName}: restarted (attempt ${part.run.attempts}${before?.reason ? `: ${before.reason}` : ''}); planned again from the host, steps re-checked, not repeated`
              : `${hostName}: started`,
          );
          const host = await deps.registry.get(hostName);
          if (!host) {
            const why = host === null ? 'has a registry record that no longer validates (re-register it)' : 'is no longer registered';
            const failure = { code: ErrorCode.UNKNOWN_HYPERVISOR, message: `hypervisor ${hostName} ${why}`, step: null };
            return { state: 'FAILED', failure, applied: false, refreshed: true, cacheAgreed: true };
          }
          hostRecord = host;
          // Every round trip to the host first proves the lease is still ours (fenced-runner.ts), and logs with the part's fields.
          const runner = withLogContext(fencedRunner(deps.runner, held), log);
          const made = await planFromHost({ ...deps, runner }, job, host, part, (n) => (totalSteps = n), held);
          if ('failure' in made) {
            // A read that failed while the worker slept (its timeout fired on waking) is not this part's outcome.
            await held.confirm();
            return made.failure;
          }
          cacheBehind = made.cacheBehind;
          const planned = made.steps;
          await report('HOST_PLANNED', made.message);
          // Steps that define or remove domains or networks change the object lists; others only what is in them.
          const listsUnchanged = !planned.some((s) => ['libvirt-network-def', 'libvirt-vm-def'].includes(s.probe.kind));
          const outcome = await runHostSteps({
            // The light re-read rides along with the verification batch (one snapshot serves both).
            // Built on the state just read, not on another read of the cache.
            readAlong: listsUnchanged ? await deps.readAlong(host, made.read.state).catch(() => null) : null,
            runner,
            host,
            steps: part.steps.map((record, i) => ({ record, planned: planned[i]! })),
            report,
            rollback: part.rollback,
            cancelRequested: () => store.cancelRequested(job.id),
            whileVerifying: () => refresh(host),
            preobserved: made.read.results,
            log,
          });
          // The outcome is this part's only if the lease held to the end (the part is recorded after release).
          await held.confirm();
          return outcome;
        },
        () => void report('WAITING', `${hostName}: waiting for the host lock (another job holds it)`).catch(() => {}),
      )
      .catch(async (err: unknown) => {
        if (err instanceof PartInterrupted || !isLockLost(err)) throw err;
        throw await interruptedBy(err as Error, claim);
      });
    lease = null;
    const host = hostRecord;
    if (!host && outcome.state === 'CANCELLED')
      return await finish('CANCELLED', `${hostName}: cancelled while it waited for the host lock`);
    if (!host) {
      part.run.error = outcome.failure!;
      return await finish('FAILED', outcome.failure!.message);
    }
    // The cache must show what the host looks like now: after a rollback, after changes the
    // refresh did not overlap, or when the host differed from what the plan saw.
    // (The re-read in the verification batch covers all of these when the part succeeded.)
    const behind = outcome.applied || !outcome.cacheAgreed || cacheBehind;
    if (behind && (!outcome.refreshed || outcome.state !== 'SUCCEEDED')) await refresh(host);

    const changed = part.steps.filter((s) => s.changed).length;
    if (outcome.state === 'FAILED') {
      part.run.error = outcome.failure!;
      return await finish('FAILED', outcome.failure!.message);
    }
    if (outcome.state === 'CANCELLED')
      return await finish(
        'CANCELLED',
        `${hostName}: cancelled${changed ? ` after ${changed} change(s), which stay` : ' before any change'}`,
      );
    return await finish('SUCCEEDED', `${hostName}: done, ${changed} of ${part.steps.length} steps changed something`);
  } catch (err) {
    if (err instanceof PartInterrupted) {
      interrupted = true;
      log.warn({ code: ErrorCode.LOCK_LOST, claimed: err.claimed, err: err.reason }, 'host part interrupted: lease or claim lost');
      // Still this worker's part: the attempt ends LOCK_LOST in the record, and the part runs again.
      if (err.claimed) {
        // Unfenced: the lease is gone, but BullMQ still has the part here, so nobody else writes it.
        lease = null;
        part.run.attemptLog = endAttempt(part.run.attemptLog, 'LOCK_LOST', new Date().toISOString(), err.reason);
        await report(
          'HOST_INTERRUPTED',
          `${hostName}: attempt ${part.run.attempts} stopped: ${err.reason}; it runs again, planned from the host`,
        ).catch(() => {});
      }
    }
    throw err;
  } finally {
    // Whatever happened, the next job on this host may go (a killed worker never gets here: its
    // place is kept for the worker that takes the part over; nor does an interrupted part).
    if (!interrupted)
      await handOver(deps.turns, jobId, hostName).catch((err) => log.warn({ err: (err as Error).message }, 'could not hand the host over'));
  }

  async function refresh(host: Host): Promise<void> {
    try {
      await deps.refresh(host, log);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'refresh after job failed');
    }
  }
}

type Planning = { steps: PlanStep[]; read: PlanningRead; message: string; cacheBehind: boolean } | { failure: HostStepsOutcome };

/**
 * Plans the part from the host as it is: reads it (also into the cache), plans with the job's
 * input, and replaces the part's step records with the executed plan's. (Only change kinds run
 * as host parts; planHostPart refuses any other kind a record might carry.)
 */
async function planFromHost(
  deps: HostPartDeps,
  job: JobRecord,
  host: Host,
  part: HostPart,
  setTotal: (n: number) => void,
  /** Confirmed before the read goes into the cache: a read made before a long pause is stale. */
  lease: HostLease,
): Promise<Planning> {
  const submitted = part.steps;
  const submittedPlan = submitted.map((r) => job.plan.steps[r.index]!).filter(Boolean);
  const fail = (code: ErrorCode, message: string): Planning => ({
    failure: { state: 'FAILED', failure: { code, message, step: null }, applied: false, refreshed: true, cacheAgreed: true },
  });

  const previous = await deps.cache.get(host.name);
  let read: PlanningRead;
  try {
    read = await readForPlanning(deps.runner, host, previous, deps.readTimeoutMs, planningScope(job.kind));
  } catch (err) {
    if (isLockLost(err)) throw err;
    const { code, message } = describeError(err);
    await lease.confirm();
    await deps.cache.put(failedReadState(previous, host, err)).catch(() => {});
    return fail(code, `${host.name}: could not read the host to plan from it, nothing was changed: ${message}`);
  }
  // A complete read goes into the cache (what the next plan at submission sees); an OVS-only one
  // is followed by the re-read at the end of the part anyway.
  await lease.confirm();
  if (!read.partial) await deps.cache.put(read.state);

  const planned = planHostPart(job.kind, job.input, { host, state: read.state }, deps.config);
  if (planned.errors) {
    const first = planned.errors[0];
    const why = planned.errors.map((e) => e.message).join('; ');
    return fail(
      first?.code ?? ErrorCode.JOB_INVALID,
      `${host.name}: refused when its turn came (the host as it is now): ${why}; nothing was changed`,
    );
  }
  const steps = planned.plan.steps;

  // The executed plan's records keep the submitted indexes where they can; extra steps get new ones.
  const indexes = submitted.map((r) => r.index);
  if (steps.length > indexes.length) {
    const start = await deps.store.reserveStepIndexes(job.id, job.plan.steps.length, steps.length - indexes.length);
    for (let i = indexes.length; i < steps.length; i++) indexes.push(start + i - submitted.length);
  }
  part.steps = steps.map((s, i) => pendingStepRecord(s, indexes[i]!));
  setTotal(job.steps.length - submitted.length + steps.length);

  const changes = steps.filter((s) => s.changes !== false).length;
  const note = planDifference(submittedPlan, steps);
  part.run.planNote = note;
  const said = `${host.name}: planned from the host as it is (${read.partial ? 'its OVS tables' : 'a full read'}, ${read.state.read?.roundTrips ?? 1} round trip${read.state.read?.roundTrips === 1 ? '' : 's'}): ${steps.length} step${steps.length === 1 ? '' : 's'}, ${changes} to change`;
  const cacheBehind = read.partial && JSON.stringify(read.state.ovs) !== JSON.stringify(previous?.ovs ?? null);
  return { steps, read, message: note ? `${said}; ${note}` : said, cacheBehind };
}

import type { VerifySpec } from '../src/changes/plans/verify.ts';
import { ErrorCode, TrunklineError } from '../src/errors/codes.ts';
import type { Host, HostRegistry } from '../src/inventory/host-registry.ts';
import { type HostLease, type HostLocks, isLockLost } from '../src/jobs/host-locks.ts';
import { jobLogger } from '../src/jobs/job-log.ts';
import type { JobStore } from '../src/jobs/job-store.ts';
import { cancelledBeforeStart } from '../src/jobs/host-runs.ts';
import { isTerminal, type JobRecord, type PingOutcome, type StepRecord } from '../src/jobs/job-types.ts';
import type { Logger } from '../src/log/logger.ts';
import { EXCERPT_CHARS, stderrExcerpt } from '../src/ssh/command-output.ts';
import { withLogContext } from '../src/ssh/log-context.ts';
import type { CommandRunner } from '../src/ssh/runner.ts';
import { parsePing } from '../src/verify/ping.ts';
import { awaitTurn, handOver, type TurnDeps } from './host-turn.ts';
import { type AttemptClaim, interruptedBy, PartInterrupted } from './interrupted.ts';
import { beginOnePiece, endOnePiece, runOnePieceStep } from './one-piece-job.ts';
import { createProbeArgvs, pingArgv, pingPairs, removeProbeArgvs, type Probe } from '../src/verify/probes.ts';

export interface VerifyDeps {
  store: JobStore;
  runner: CommandRunner;
  registry: HostRegistry;
  locks: HostLocks;
  turns: TurnDeps;
  logger: Logger;
}

type SpecProbe = Probe & { bridge: string };

/**
 * verifyVlan: creates probes (namespaces on the VLAN's bridge) on every host, pings between
 * them and from the isolation VLANs' probes, and ALWAYS removes the probes, also after a
 * failure or a cancel. The connectivity matrix goes into the job record.
 */
export async function runVerifyJob(
  deps: VerifyDeps,
  jobId: string,
  claim: AttemptClaim = { stillOurs: async () => true },
): Promise<JobRecord> {
  const { store } = deps;
  const loaded = await store.require(jobId);
  if (isTerminal(loaded.state)) {
    for (const h of loaded.hypervisors) await handOver(deps.turns, jobId, h);
    return loaded;
  }
  // It proves what the jobs accepted before it made: its turn on every host first (hosts in
  // name order; one order for all hosts, so two multi-host jobs never wait for each other).
  let waitingFor: string | null = null;
  for (const h of [...loaded.hypervisors].sort()) {
    const turn = await awaitTurn(deps.turns, jobId, h, {
      cancelRequested: () => store.cancelRequested(jobId),
      onWait: async (place) => {
        if (waitingFor === place.first) return;
        waitingFor = place.first;
        await store.record(loaded, 'WAITING', `waiting for its turn on ${h}: job ${place.first} runs there first`);
      },
    });
    if (turn === 'CANCELLED') {
      const cancelled = cancelledBeforeStart(loaded, 'cancelled while it waited for its turn');
      await store.record(cancelled, 'CANCELLED', cancelled.progress.message);
      for (const x of loaded.hypervisors) await handOver(deps.turns, jobId, x);
      return cancelled;
    }
  }
  let interrupted = false;
  // Its lines, and the SSH layer's for its probes and pings, carry the job's fields (src/jobs/job-log.ts).
  const log = jobLogger(deps.logger, loaded);
  try {
    return await verify({ ...deps, logger: log, runner: withLogContext(deps.runner, log) }, loaded, claim);
  } catch (err) {
    if (!isLockLost(err) && !(err instanceof PartInterrupted)) throw err;
    // Its lease or claim is gone: no more writes, and the places stay for whoever runs it now.
    interrupted = true;
    log.warn({ code: ErrorCode.LOCK_LOST, err: (err as Error).message }, 'verifyVlan interrupted: lease or claim lost');
    if (err instanceof PartInterrupted) throw err;
    throw await interruptedBy(err as Error, claim);
  } finally {
    if (!interrupted) for (const h of loaded.hypervisors) await handOver(deps.turns, jobId, h).catch(() => {});
  }
}

async function verify(deps: VerifyDeps, loaded: JobRecord, claim: AttemptClaim): Promise<JobRecord> {
  const { store } = deps;
  // Woken after a stall, BullMQ may have handed the job to another worker: that one runs it.
  if (!(await claim.stillOurs())) throw new PartInterrupted(false, 'BullMQ handed the job to another worker');
  const spec = loaded.input.spec as VerifySpec;
  const job = await beginOnePiece(store, loaded, `verifying VLAN ${spec.tag} on ${loaded.hypervisors.join(', ')}`);
  deps.logger.info({ hosts: job.hypervisors, tag: spec.tag, attempt: job.attempts }, 'job started');
  const hosts = new Map<string, Host>();
  for (const name of job.hypervisors) {
    const h = await deps.registry.get(name);
    if (h) hosts.set(name, h);
  }
  const byHost = (name: string) => spec.probes.filter((p) => p.host === name);
  const hostCount = job.hypervisors.length;
  const setupSteps = job.steps.slice(0, hostCount);
  const pingStep = job.steps[hostCount]!;
  const cleanupSteps = job.steps.slice(hostCount + 1);
  // Setup and cleanup change the hosts (probes come and go); the ping step only observes.
  let lease: HostLease | null = null;
  const run = (step: StepRecord, work: () => Promise<string>, changes = true) =>
    runOnePieceStep(store, job, step, work, changes, async () => lease?.confirm(), deps.logger);

  const exec = async (host: string, argv: string[], allowFail = false) => {
    const h = hosts.get(host);
    if (!h) throw new TrunklineError(ErrorCode.UNKNOWN_HYPERVISOR, `hypervisor ${host} is no longer registered`);
    // Fenced: a worker that lost the hosts' lease while paused sends nothing more.
    await lease?.confirm();
    const r = await deps.runner.exec(h, argv, { timeoutMs: 15_000 });
    if (r.exitCode !== 0 && !allowFail)
      throw new TrunklineError(
        ErrorCode.COMMAND_FAILED,
        `${argv.join(' ')}: exit ${r.exitCode}: ${stderrExcerpt(r.stderr, EXCERPT_CHARS.shortMessage)}`,
      );
    return r;
  };
  const removeProbes = async (host: string) => {
    for (const p of byHost(host)) for (const argv of removeProbeArgvs(p)) await exec(host, argv, true);
  };

  let results: PingOutcome[] = [];
  let cancelled = false;
  await deps.locks.withHosts(job.hypervisors, async (held) => {
    lease = held;
    try {
      const made = await Promise.all(
        setupSteps.map((step) =>
          run(step, async () => {
            await removeProbes(step.host); // left over from an interrupted run
            for (const p of byHost(step.host) as SpecProbe[]) for (const argv of createProbeArgvs(p, p.bridge)) await exec(step.host, argv);
            return `${byHost(step.host).length} probe(s) up`;
          }),
        ),
      );
      cancelled = await store.cancelRequested(job.id);
      if (made.every(Boolean) && !cancelled) {
        await run(
          pingStep,
          async () => {
            results = await Promise.all(
              pingPairs(spec.probes).map(async ({ from, to, expect }) => {
                const r = await exec(from.host, pingArgv(from, to), true);
                const ping = parsePing(r.stdout) ?? { sent: 0, received: 0, lossPercent: 100, rttAvgMs: null };
                const ok = expect === 'REACH' ? ping.received > 0 : ping.received === 0;
                return {
                  fromHost: from.host,
                  fromVlan: from.vlan,
                  fromAddress: from.address,
                  toHost: to.host,
                  toAddress: to.address,
                  expect,
                  ...ping,
                  ok,
                };
              }),
            );
            const bad = results.filter((r) => !r.ok).length;
            return `${results.length - bad} of ${results.length} pings as expected`;
          },
          false,
        );
      }
    } finally {
      // Probes never outlive the job.
      await Promise.all(
        cleanupSteps.map((step) =>
          run(step, async () => {
            await removeProbes(step.host);
            return 'probes removed';
          }),
        ),
      );
    }
  });

  // The hosts were let go; the job's end is this worker's to write only if BullMQ still has it here.
  if (!(await claim.stillOurs())) throw new PartInterrupted(false, 'BullMQ handed the job to another worker while it ran');
  const failedSteps = job.steps.filter((s) => s.state === 'FAILED');
  const failedPings = results.filter((r) => !r.ok);
  job.verification = {
    tag: spec.tag,
    isolationFrom: spec.isolationFrom,
    results,
    ok: failedSteps.length === 0 && failedPings.length === 0 && results.length > 0,
  };
  if (cancelled) return endOnePiece(store, job, { state: 'CANCELLED', message: 'cancelled; probes removed' });
  if (job.verification.ok)
    return endOnePiece(store, job, { state: 'SUCCEEDED', message: `VLAN ${spec.tag} works: ${results.length} pings as expected` });
  const why = failedSteps.length
    ? failedSteps.map((s) => `${s.description} on ${s.host}: ${s.stderr}`).join('; ')
    : failedPings
        .map(
          (r) =>
            `${r.fromHost} ${r.fromAddress} (VLAN ${r.fromVlan}) -> ${r.toHost} ${r.toAddress}: ${r.expect === 'REACH' ? `no reply (${r.lossPercent}% loss)` : `replied although isolated`}`,
        )
        .join('; ');
  return endOnePiece(store, job, {
    state: 'FAILED',
    error: {
      code: failedSteps.length ? ErrorCode.COMMAND_FAILED : ErrorCode.VLAN_VERIFY_FAILED,
      message: why,
      step: failedSteps[0]?.index ?? pingStep.index,
    },
  });
}

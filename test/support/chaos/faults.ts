/**
 * The fault injectors. Each kind injects one fault and undoes it (restart, SIGCONT, link up)
 * before it returns, so faults run one after another on the seeded schedule; each returns a
 * line describing what it did, for the run's log.
 */
import type { Api, RunningPart } from './api.ts';
import type { Deployment, ManagedProcess } from './deployment.ts';
import type { Lab } from './lab-hosts.ts';
import type { Rng } from './prng.ts';
import type { AofRedis } from './redis-aof.ts';

export const FAULT_KINDS = [
  'worker-kill',
  'worker-stop',
  'redis-restart',
  'redis-unreachable',
  'gateway-kill',
  'sshd-kill',
  'session-cut',
  'host-freeze',
  'link-down',
  'ovsdb-restart',
  'libvirtd-restart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultContext {
  lab: Lab;
  deployment: Deployment;
  redis: AofRedis;
  rng: Rng;
  lockMs: number;
  commandTimeoutMs: number;
  /** Both gateways' clients: a worker fault looks for a worker that runs a host part now. */
  apis: Api[];
  /** How long a worker fault waits for a busy worker before it takes any worker. */
  aimMs: number;
  log: (line: string) => void;
}

/** What a worker fault aimed at: the part that ran on the worker when it was signalled. */
export interface WorkerTarget {
  worker: string;
  pid: number;
  /** A host part was RUNNING on this worker when the fault chose it (else: a random worker). */
  aimed: boolean;
  jobId: string | null;
  host: string | null;
  /** Attempt number of the part on this worker. */
  attempt: number | null;
  /** Read again after the signal: the part was still RUNNING on this worker (it was hit mid-part). */
  hitMidPart: boolean;
  /** Waited this long for a busy worker. */
  waitedMs: number;
  frozenAt?: number;
  thawedAt?: number;
}

export interface FaultRecord {
  kind: FaultKind;
  at: string;
  ms: number;
  detail: string;
  error?: string;
  target?: WorkerTarget;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function restart(p: ManagedProcess): Promise<void> {
  // Restart attempts: a worker or gateway started while Redis refuses it may exit; try again.
  for (let i = 0; ; i++) {
    try {
      await p.start();
      return;
    } catch (err) {
      if (i >= 4) throw err;
      await sleep(1000);
    }
  }
}

/** A running host part on a worker that runs (not frozen), within `aimMs`; null if none. */
async function findBusyWorker(ctx: FaultContext): Promise<{ proc: ManagedProcess; part: RunningPart; waitedMs: number } | null> {
  const t0 = Date.now();
  let g = 0;
  while (Date.now() - t0 < ctx.aimMs) {
    const parts = await ctx.apis[g]!.runningParts(1000).catch(() => null);
    if (parts === null) g = (g + 1) % ctx.apis.length;
    const usable = (parts ?? []).flatMap((part) => {
      const proc = ctx.deployment.workers.find((w) => w.running() && !w.frozen() && w.pid() === part.pid);
      return proc ? [{ proc, part }] : [];
    });
    if (usable.length) return { ...ctx.rng.pick(usable), waitedMs: Date.now() - t0 };
    await sleep(parts === null ? 200 : 30);
  }
  return null;
}

/** Whether the part is still RUNNING on that worker's attempt (read after the worker was signalled). */
async function stillRunningOn(ctx: FaultContext, part: RunningPart): Promise<boolean> {
  for (const api of ctx.apis) {
    const j = await api.job(part.jobId).catch(() => undefined);
    if (j === undefined) continue;
    const h = j?.hosts.find((x) => x.hypervisor === part.host);
    const last = h?.attemptList.at(-1);
    return h?.state === 'RUNNING' && last?.outcome === 'RUNNING' && last.worker === part.worker && last.number === part.attempt;
  }
  return false;
}

/** A busy worker if one shows up within aimMs, else a random running one. */
async function chooseWorker(ctx: FaultContext): Promise<{ proc: ManagedProcess; target: WorkerTarget; part: RunningPart | null }> {
  const busy = await findBusyWorker(ctx);
  if (busy)
    return {
      proc: busy.proc,
      part: busy.part,
      target: {
        worker: busy.proc.name,
        pid: busy.part.pid,
        aimed: true,
        jobId: busy.part.jobId,
        host: busy.part.host,
        attempt: busy.part.attempt,
        hitMidPart: false,
        waitedMs: busy.waitedMs,
      },
    };
  const proc = ctx.rng.pick(ctx.deployment.workers.filter((x) => x.running() && !x.frozen()));
  return {
    proc,
    part: null,
    target: {
      worker: proc.name,
      pid: proc.pid()!,
      aimed: false,
      jobId: null,
      host: null,
      attempt: null,
      hitMidPart: false,
      waitedMs: ctx.aimMs,
    },
  };
}

const describeTarget = (t: WorkerTarget) =>
  t.aimed
    ? `aimed at ${t.host} part of job ${t.jobId} (attempt ${t.attempt}, found after ${t.waitedMs} ms)${t.hitMidPart ? ', hit mid-part' : ', part ended before the signal'}`
    : `no part ran within ${t.waitedMs} ms: a random worker`;

export async function injectFault(kind: FaultKind, ctx: FaultContext): Promise<FaultRecord> {
  const t0 = Date.now();
  const rec: FaultRecord = { kind, at: new Date(t0).toISOString(), ms: 0, detail: '' };
  const { rng, lab, deployment, redis } = ctx;
  const host = rng.pick(lab.hosts);
  try {
    switch (kind) {
      case 'worker-kill': {
        const { proc: w, target, part } = await chooseWorker(ctx);
        rec.target = target;
        await w.kill();
        if (part) target.hitMidPart = await stillRunningOn(ctx, part);
        const down = rng.int(200, 1500);
        await sleep(down);
        await restart(w);
        rec.detail = `SIGKILL ${w.name} (pid ${target.pid}) ${describeTarget(target)}, restarted after ${down} ms as pid ${w.pid()}`;
        break;
      }
      case 'worker-stop': {
        // Longer than 1.5 x the lock: the part's claim and host lock expire while the worker sleeps.
        const ms = Math.round(ctx.lockMs * 1.5) + rng.int(500, 1500);
        const { proc: w, target, part } = await chooseWorker(ctx);
        rec.target = target;
        w.freeze();
        target.frozenAt = Date.now();
        if (part) target.hitMidPart = await stillRunningOn(ctx, part);
        await sleep(Math.max(0, ms - (Date.now() - target.frozenAt)));
        w.thaw();
        target.thawedAt = Date.now();
        rec.detail = `SIGSTOP ${w.name} (pid ${target.pid}) ${describeTarget(target)} for ${target.thawedAt - target.frozenAt} ms (lock ${ctx.lockMs} ms), then SIGCONT`;
        break;
      }
      case 'redis-restart': {
        const pid = redis.pid();
        await redis.kill();
        const down = rng.int(300, 1200);
        await sleep(down);
        await redis.start();
        rec.detail = `SIGKILL redis-server (pid ${pid}), started again from the AOF after ${down} ms (pid ${redis.pid()})`;
        break;
      }
      case 'redis-unreachable': {
        redis.freeze();
        await sleep(5000);
        redis.thaw();
        rec.detail = `SIGSTOP redis-server (pid ${redis.pid()}) for 5000 ms, then SIGCONT`;
        break;
      }
      case 'gateway-kill': {
        const g = rng.pick(deployment.gateways.filter((x) => x.running()));
        const pid = g.pid();
        await g.kill();
        const down = rng.int(1000, 3000);
        await sleep(down);
        await restart(g);
        rec.detail = `SIGKILL ${g.name} (pid ${pid}) with subscribers on it, restarted after ${down} ms`;
        break;
      }
      case 'sshd-kill': {
        const out = await lab.killSshd(host);
        const down = rng.int(1000, 3000);
        await sleep(down);
        await lab.ensureDaemon(host, 'sshd');
        rec.detail = `${out}; sshd started again after ${down} ms (pid ${lab.daemonPid(host, 'sshd')})`;
        break;
      }
      case 'session-cut': {
        // Wait (a little) for a session to exist: the workers keep one pooled connection per host.
        let pids: number[] = [];
        for (let i = 0; i < 20 && pids.length === 0; i++) {
          pids = lab.cutSessions(host);
          if (!pids.length) await sleep(100);
        }
        rec.detail = `${host}: SIGKILL of the trunkline user's sshd session process(es) ${pids.join(' ') || '(none found)'}`;
        break;
      }
      case 'host-freeze': {
        const ms = ctx.commandTimeoutMs + rng.int(1000, 2500);
        const pids = lab.signalHost(host, 'SIGSTOP');
        await sleep(ms);
        const again = lab.signalHost(host, 'SIGCONT');
        rec.detail = `${host}: SIGSTOP of ${pids.length} processes (its daemons and sessions) for ${ms} ms (command timeout ${ctx.commandTimeoutMs} ms), SIGCONT to ${again.length}`;
        break;
      }
      case 'link-down': {
        const ms = rng.int(3000, 6000);
        await lab.setLink(host, false);
        await sleep(ms);
        await lab.setLink(host, true);
        rec.detail = `${host}: ip link set ${lab.mgmtLink(host)} down for ${ms} ms, then up`;
        break;
      }
      case 'ovsdb-restart': {
        const pid = lab.daemonPid(host, 'ovsdb-server');
        await lab.restartDaemon(host, 'ovsdb-server');
        rec.detail = `${host}: SIGKILL ovsdb-server (pid ${pid}), started again (pid ${lab.daemonPid(host, 'ovsdb-server')})`;
        break;
      }
      case 'libvirtd-restart': {
        const pid = lab.daemonPid(host, 'libvirtd');
        await lab.restartDaemon(host, 'libvirtd');
        rec.detail = `${host}: SIGKILL libvirtd (pid ${pid}), started again (pid ${lab.daemonPid(host, 'libvirtd')})`;
        break;
      }
    }
  } catch (err) {
    rec.error = (err as Error).message.slice(0, 1000);
  }
  rec.ms = Date.now() - t0;
  return rec;
}

/** A seeded schedule: `counts` faults of each kind, shuffled. */
export function faultSchedule(rng: Rng, counts: Partial<Record<FaultKind, number>>): FaultKind[] {
  const list: FaultKind[] = [];
  for (const k of FAULT_KINDS) for (let i = 0; i < (counts[k] ?? 0); i++) list.push(k);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../src/log/logger.ts';
import { scrapeChild } from '../src/metrics/child-process.ts';

/*
 * Starts the webhook process (workers/webhook-process.ts) as a child of the worker, `nice`
 * steps below it in CPU priority: its fan-out (a BullMQ job, a signature and a POST per event
 * and endpoint) then takes only the CPU that change jobs leave, and never shares their event
 * loop. A child that dies is started again; the worker's shutdown stops it.
 *
 * `nice` alone is not enough on Linux with autogroup scheduling (kernel.sched_autogroup_enabled=1,
 * the default of desktop and many server kernels): CPU time is shared fairly between sessions
 * first, and a process's nice value only counts against others of its own session. So the child
 * gets a session of its own (`detached`: setsid) and that session's autogroup gets the nice value
 * (/proc/<pid>/autogroup); without it, webhook fan-out took half the CPU from the SSH sessions of
 * change jobs on a 2-core lab machine, whatever its nice value. Under a cgroup CPU controller
 * (systemd with CPUWeight=) autogroups do not apply, and the plain nice value does. The child still
 * ends with the worker: it exits when the IPC channel closes.
 */

const ENTRY = fileURLToPath(new URL('./webhook-process.ts', import.meta.url));
const RESTART_MS = 1000;

export interface WebhookProcess {
  /** Resolves when the first child is ready; rejects if it exits before that (bad configuration). */
  ready: Promise<void>;
  /** The child's metrics (its exposition) for the worker's scrape; null when it is not running or did not answer in time. */
  scrape(timeoutMs: number): Promise<string | null>;
  close(): Promise<void>;
}

export function startWebhookProcess(opts: { logger: Logger; nice: number; stopTimeoutMs: number }): WebhookProcess {
  const log = opts.logger.child({ component: 'webhook-supervisor' });
  let child: ChildProcess | undefined;
  let stopping = false;
  let becameReady = false;
  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });

  const spawnChild = () => {
    const c = fork(ENTRY, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: opts.nice > 0 });
    child = c;
    if (c.pid !== undefined && opts.nice > 0) lowerPriority(c.pid, opts.nice, log);
    c.on('message', (m) => {
      if ((m as { ready?: boolean })?.ready && !becameReady) {
        becameReady = true;
        readyResolve();
      }
    });
    c.once('exit', (code, signal) => {
      if (stopping) return;
      if (!becameReady) {
        readyReject(new Error(`the webhook process exited (code ${code}, signal ${signal}) before it was ready`));
        return;
      }
      log.error({ code, signal }, `webhook process exited; starting another in ${RESTART_MS} ms`);
      setTimeout(() => {
        if (!stopping) spawnChild();
      }, RESTART_MS);
    });
  };
  spawnChild();

  return {
    ready,
    scrape: (timeoutMs) => scrapeChild(child, timeoutMs),
    async close() {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill(constants.signals.SIGKILL), opts.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Lowers a process's CPU priority: its nice value, and that of its autogroup where the kernel has them. */
function lowerPriority(pid: number, nice: number, log: Logger): void {
  try {
    setPriority(pid, nice);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not lower the webhook process priority');
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch (err) {
    // ENOENT: no autogroups (not Linux, or a kernel built without them); nothing more to do.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn({ err: (err as Error).message }, 'could not lower the webhook process autogroup priority');
  }
}

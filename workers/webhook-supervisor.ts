import { type ChildProcess, fork } from 'node:child_process';
import { constants, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../src/log/logger.ts';

/*
 * Starts the webhook process (workers/webhook-process.ts) as a child of the worker, `nice`
 * steps below it in CPU priority: its fan-out (a BullMQ job, a signature and a POST per event
 * and endpoint) then takes only the CPU that change jobs leave, and never shares their event
 * loop. A child that dies is started again; the worker's shutdown stops it.
 */

const ENTRY = fileURLToPath(new URL('./webhook-process.ts', import.meta.url));
const RESTART_MS = 1000;

export interface WebhookProcess {
  /** Resolves when the first child is ready; rejects if it exits before that (bad configuration). */
  ready: Promise<void>;
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
    const c = fork(ENTRY, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = c;
    try {
      if (c.pid !== undefined && opts.nice > 0) setPriority(c.pid, opts.nice);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not lower the webhook process priority');
    }
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

/**
 * A Trunkline entry point (gateway or worker) as a real child process for benchmarks, started
 * the way test/support/processes.ts starts it (`node --import tsx ENTRY` in the repository
 * root) but ready when a probe says so rather than when a log line appears: benchmarks run the
 * processes at TRUNKLINE_LOG_LEVEL=warn, where the info-level "ready" lines are not printed.
 * Its stop is registered as a cleanup action as soon as it is spawned; it is stopped by its own
 * pid (SIGTERM, SIGKILL after 5 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from '../../test/support/processes.ts';
import { onCleanup } from './cleanup.ts';
import { ROOT } from './results.ts';

const KEEP_OUTPUT_CHARS = 64 * 1024;

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** The last 64 KiB of stdout + stderr. */
  output(): string;
  stop(): Promise<void>;
}

export function spawnTrunkline(name: string, entry: string, env: Record<string, string>): BenchProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > KEEP_OUTPUT_CHARS) out = out.slice(-KEEP_OUTPUT_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let stopping = false;
  child.once('exit', (code, signal) => {
    // Exit 0 without our stop: a Ctrl-C in the terminal reached the child too (it shuts down cleanly).
    if (!stopping && code !== 0) console.error(`[${name}] exited unexpectedly (code ${code}, signal ${signal}); last output:\n${out.slice(-4000)}`);
  });
  const stop = async () => {
    stopping = true;
    await stopChild(child);
  };
  onCleanup(`stop ${name} (pid ${child.pid})`, stop);
  return { name, child, output: () => out, stop };
}

/** Polls `ready()` every 100 ms until it returns true; fails if the process exits or time runs out. */
export async function waitUntilReady(proc: BenchProcess, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${proc.name} exited (code ${proc.child.exitCode}) before becoming ready:\n${proc.output().slice(-4000)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready after ${timeoutMs} ms:\n${proc.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

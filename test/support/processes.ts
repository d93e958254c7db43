import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A Trunkline entry point as a real process (log level info unless `env` says otherwise), its output kept. */
export function spawnEntry(entry: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, TRUNKLINE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts a Trunkline entry point (gateway or worker) as a real process and waits until it logs
 * `readyMessage`. Output is kept for failure messages.
 */
export async function startProcess(entry: string, env: Record<string, string>, readyMessage: string, timeoutMs = 30_000): Promise<Proc> {
  const { child, output } = spawnEntry(entry, env);
  const stop = () => stopChild(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${entry} did not become ready in ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const check = () => {
      if (output().includes(readyMessage)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before becoming ready:\n${output()}`));
    });
  });
  return { child, output, stop };
}

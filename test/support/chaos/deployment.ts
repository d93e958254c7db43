/**
 * A Trunkline deployment as real processes: gateways (`node gateway/main.ts`) and workers
 * (`node workers/main.ts`) started from the repository root with TRUNKLINE_* settings, each of
 * which can be SIGKILLed, SIGSTOPped/SIGCONTed and started again. Every incarnation's output is
 * appended to a log file per process (evidence for failures) and its last 64 KiB kept in memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KEEP = 64 * 1024;

export type Role = 'gateway' | 'worker';

export interface ManagedProcess {
  name: string;
  role: Role;
  /** The gateway's GraphQL URL (gateways only). */
  url?: string;
  /** Unexpected exits (not by our kill or stop), with their code/signal: a crash is a finding. */
  crashes: string[];
  incarnations: number;
  /** The file every incarnation's output is appended to. */
  logPath: string;
  running(): boolean;
  frozen(): boolean;
  pid(): number | undefined;
  output(): string;
  start(): Promise<void>;
  /** SIGKILL (after SIGCONT if frozen); resolves when it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop), SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
  freeze(): void;
  thaw(): void;
}

export interface DeploymentOptions {
  env: Record<string, string>;
  logDir: string;
  gateways: Array<{ name: string; port: number }>;
  workers: string[];
  readyTimeoutMs?: number;
}

export interface Deployment {
  gateways: ManagedProcess[];
  workers: ManagedProcess[];
  all(): ManagedProcess[];
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
}

function managed(
  name: string,
  role: Role,
  entry: string,
  env: Record<string, string>,
  logDir: string,
  readyTimeoutMs: number,
  url?: string,
): ManagedProcess {
  let child: ChildProcess | undefined;
  let out = '';
  let frozen = false;
  let expectedExit = false;
  let log: WriteStream | undefined;
  const readyLine = role === 'gateway' ? 'gateway listening' : 'worker ready';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const proc: ManagedProcess = {
    name,
    role,
    url,
    crashes: [],
    incarnations: 0,
    logPath: join(logDir, `${name}.log`),
    running: alive,
    frozen: () => frozen,
    pid: () => (alive() ? child!.pid : undefined),
    output: () => out,
    async start() {
      if (alive()) return;
      log ??= createWriteStream(proc.logPath, { flags: 'a' });
      proc.incarnations++;
      expectedExit = false;
      frozen = false;
      let mine = '';
      const c = spawn(process.execPath, [entry], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      log.write(`\n===== ${new Date().toISOString()} ${name} start #${proc.incarnations} pid ${c.pid}\n`);
      const keep = (d: Buffer) => {
        const s = d.toString();
        log!.write(s);
        out += s;
        if (out.length > KEEP) out = out.slice(-KEEP);
        if (mine.length < 1 << 20) mine += s;
      };
      c.stdout!.on('data', keep);
      c.stderr!.on('data', keep);
      c.once('exit', (code, signal) => {
        log!.write(`===== ${new Date().toISOString()} ${name} pid ${c.pid} exited code ${code} signal ${signal}\n`);
        if (!expectedExit) proc.crashes.push(`${name} pid ${c.pid} exited unexpectedly (code ${code}, signal ${signal})`);
      });
      const deadline = Date.now() + readyTimeoutMs;
      while (!mine.includes(readyLine)) {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${name} exited before it was ready:\n${mine.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`${name} not ready after ${readyTimeoutMs} ms:\n${mine.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      const c = child;
      if (!c || !alive()) return;
      expectedExit = true;
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      if (frozen) c.kill('SIGCONT');
      frozen = false;
      await gone;
    },
    async stop(timeoutMs = 10_000) {
      const c = child;
      if (!c || !alive()) return;
      expectedExit = true;
      if (frozen) c.kill('SIGCONT');
      frozen = false;
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      await gone;
      clearTimeout(t);
    },
    freeze() {
      if (!alive() || frozen) return;
      child!.kill('SIGSTOP');
      frozen = true;
    },
    thaw() {
      if (!alive() || !frozen) return;
      child!.kill('SIGCONT');
      frozen = false;
    },
  };
  return proc;
}

export function createDeployment(opts: DeploymentOptions): Deployment {
  mkdirSync(opts.logDir, { recursive: true });
  const t = opts.readyTimeoutMs ?? 60_000;
  const gateways = opts.gateways.map((g) =>
    managed(
      g.name,
      'gateway',
      'gateway/main.ts',
      { ...opts.env, TRUNKLINE_LISTEN_PORT: String(g.port) },
      opts.logDir,
      t,
      `http://127.0.0.1:${g.port}/graphql`,
    ),
  );
  const workers = opts.workers.map((w) => managed(w, 'worker', 'workers/main.ts', opts.env, opts.logDir, t));
  const all = () => [...gateways, ...workers];
  return {
    gateways,
    workers,
    all,
    startAll: async () => {
      // One at a time: the first seeds the registry from the inventory.
      for (const p of all()) await p.start();
    },
    stopAll: async () => {
      await Promise.allSettled(all().map((p) => p.kill()));
    },
  };
}

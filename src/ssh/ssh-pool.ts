import { readFile } from 'node:fs/promises';
import { Client, type ClientChannel } from 'ssh2';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { Host } from '../inventory/host-registry.ts';
import type { Logger } from '../log/logger.ts';
import { workerMetrics } from '../metrics/worker.ts';
import { buildBatchScript, splitBatchOutput, type BatchCommand } from './command-batch.ts';
import { sameFingerprint, sha256Fingerprint } from './fingerprint.ts';
import { toShellCommand } from './quote.ts';
import type { BatchExecOptions, CommandRunner, ExecOptions, ExecResult } from './runner.ts';

export interface SshPoolOptions {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxChannels: number;
  keepaliveMs: number;
  sudo: boolean;
  logger: Logger;
  /**
   * Pins the key a host presents first when its record asks for trust on first use
   * (hostKeyFingerprint null); answers the fingerprint pinned after it (another worker's, if it
   * was first). Without it such a host is refused.
   */
  pinHostKey?: (host: Host, fingerprint: string) => Promise<string | null>;
}

// Output beyond this is cut: a runaway command must not exhaust the worker's memory.
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * One SSH connection per host, reused by every command, with at most `maxChannels` exec
 * channels open at once (sshd's MaxSessions; the rest wait their turn). The host key must
 * match the fingerprint pinned in the registry: ssh2 accepts any key unless told otherwise.
 */
export class SshPool implements CommandRunner {
  private readonly connections = new Map<string, HostConnection>();
  private closed = false;

  private readonly options: SshPoolOptions;

  constructor(options: SshPoolOptions) {
    this.options = options;
  }

  async exec(host: Host, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw new TrunklineError(ErrorCode.SSH_DISCONNECTED, 'SSH pool is closed');
    const sudo = options.sudo ?? this.options.sudo;
    // LC_ALL=C: virsh and ovs-vsctl translate messages we parse; sudo keeps LC_* by default.
    const command = `LC_ALL=C ${toShellCommand(sudo ? ['sudo', '-n', '--', ...argv] : argv)}`;
    return this.run(host, command, options.timeoutMs ?? this.options.commandTimeoutMs, options.stdin, options.log, 1);
  }

  async execBatch(host: Host, commands: readonly BatchCommand[], options: BatchExecOptions = {}): Promise<ExecResult[]> {
    if (this.closed) throw new TrunklineError(ErrorCode.SSH_DISCONNECTED, 'SSH pool is closed');
    const stopOnFailure = options.stopOnFailure ?? false;
    const { script, marker } = buildBatchScript(commands, { sudo: options.sudo ?? this.options.sudo, stopOnFailure });
    const res = await this.run(host, script, options.timeoutMs ?? this.options.commandTimeoutMs, undefined, options.log, commands.length);
    const parts = splitBatchOutput(res.stdout, res.stderr, marker);
    const stoppedOnFailure = stopOnFailure && parts.length > 0 && parts.at(-1)!.exitCode !== 0;
    if (parts.length < commands.length && !stoppedOnFailure)
      throw new TrunklineError(
        ErrorCode.COMMAND_FAILED,
        `batch on ${host.name} ended after ${parts.length} of ${commands.length} commands (exit ${res.exitCode}): ${res.stderr.trim().slice(-500) || '(no stderr)'}`,
        { host: host.name },
      );
    return parts.map((p) => ({ ...p, durationMs: res.durationMs }));
  }

  /**
   * One round trip: `commands` commands (a batch's), logged with `log` (a job's context) at debug
   * level, counted per host (trunkline_ssh_* metrics).
   */
  private async run(
    host: Host,
    command: string,
    timeoutMs: number,
    stdin: string | undefined,
    given: Logger | undefined,
    commands: number,
  ): Promise<ExecResult> {
    const log = given ?? this.options.logger;
    const conn = this.connectionFor(host, log);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    workerMetrics.sshCommands.inc({ host: host.name }, commands);
    try {
      const res = await conn.exec(command, timeoutMs, stdin);
      const s = seconds();
      workerMetrics.sshRoundTrips.inc({ host: host.name, outcome: 'ok' });
      workerMetrics.sshRoundTripSeconds.observe({ host: host.name }, s);
      log.debug({ host: host.name, ms: Math.round(s * 1000), commands, exitCode: res.exitCode }, 'ssh round trip');
      return res;
    } catch (err) {
      const s = seconds();
      const code = err instanceof TrunklineError ? err.code : ErrorCode.INTERNAL;
      workerMetrics.sshRoundTrips.inc({ host: host.name, outcome: code });
      workerMetrics.sshRoundTripSeconds.observe({ host: host.name }, s);
      log.debug({ host: host.name, ms: Math.round(s * 1000), commands, code, err: (err as Error).message }, 'ssh round trip failed');
      // A broken connection is dropped so that the next command reconnects.
      if (conn.broken) this.drop(conn);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const conn of this.connections.values()) conn.end();
    this.connections.clear();
  }

  /** The host's connection; a new one logs its connecting with `log` (the context of the command that needed it). */
  private connectionFor(host: Host, log: Logger): HostConnection {
    const key = `${host.name}|${host.user}@${host.address}:${host.port}|${host.hostKeyFingerprint}|${host.privateKeyPath}`;
    let conn = this.connections.get(key);
    if (!conn || conn.broken) {
      conn = new HostConnection(key, host, this.options, log);
      this.connections.set(key, conn);
      // A host whose address or key changed in the registry gets a fresh connection.
      for (const [k, c] of this.connections) {
        if (c.hostName === host.name && k !== key) this.drop(c);
      }
    }
    return conn;
  }

  private drop(conn: HostConnection): void {
    if (this.connections.get(conn.key) === conn) this.connections.delete(conn.key);
    conn.end();
  }
}

class HostConnection {
  readonly hostName: string;
  broken = false;
  private readonly client = new Client();
  private readonly ready: Promise<void>;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly openChannels = new Set<ClientChannel>();

  readonly key: string;
  private readonly host: Host;
  private readonly options: SshPoolOptions;
  private readonly log: Logger;

  constructor(key: string, host: Host, options: SshPoolOptions, log: Logger) {
    this.key = key;
    this.host = host;
    this.options = options;
    this.log = log;
    this.hostName = host.name;
    this.ready = this.connect();
    this.ready.then(
      () => workerMetrics.sshConnections.inc({ host: host.name, outcome: 'ok' }),
      (err: unknown) => {
        const code = err instanceof TrunklineError ? err.code : ErrorCode.SSH_CONNECT_FAILED;
        workerMetrics.sshConnections.inc({ host: host.name, outcome: code });
        this.log.info({ host: host.name, code, err: (err as Error).message }, 'ssh connection failed');
      },
    );
  }

  private async connect(): Promise<void> {
    const { host, options } = this;
    let privateKey: Buffer;
    try {
      privateKey = await readFile(host.privateKeyPath);
    } catch (err) {
      this.broken = true;
      throw new TrunklineError(
        ErrorCode.SSH_AUTH_FAILED,
        `cannot read private key for ${host.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { host: host.name },
      );
    }
    let presentedKey: string | undefined;
    let pinnedOnFirstUse: string | undefined;
    return new Promise<void>((resolve, reject) => {
      const started = Date.now();
      this.client
        .on('ready', () => {
          // Every exec is a few small packets (channel open, exec request, EOF); with Nagle's
          // algorithm on, each waits for the server's delayed ACK: ~40 ms per command for nothing.
          this.client.setNoDelay(true);
          this.log.info({ host: host.name, ms: Date.now() - started }, 'ssh connected');
          resolve();
        })
        .on('error', (err: Error & { level?: string; code?: string }) => {
          this.broken = true;
          reject(this.classify(err, presentedKey, pinnedOnFirstUse));
        })
        .on('close', () => {
          this.broken = true;
          reject(new TrunklineError(ErrorCode.SSH_DISCONNECTED, `SSH connection to ${host.name} closed`, { host: host.name }));
          for (const ch of this.openChannels) ch.emit('trunkline-disconnect');
        })
        .connect({
          host: host.address,
          port: host.port,
          username: host.user,
          privateKey,
          readyTimeout: options.connectTimeoutMs,
          keepaliveInterval: options.keepaliveMs,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
            const presented = sha256Fingerprint(key);
            presentedKey = presented;
            if (host.hostKeyFingerprint !== null) return verify(sameFingerprint(presented, host.hostKeyFingerprint));
            // Trust on first use, asked for at registration: pin this key, then hold the host to it.
            if (!options.pinHostKey) return verify(false);
            options.pinHostKey(host, presented).then(
              (pinned) => {
                if (pinned && sameFingerprint(pinned, presented)) {
                  this.log.warn({ host: host.name, fingerprint: presented }, 'host key pinned on first use');
                  pinnedOnFirstUse = presented;
                  verify(true);
                } else verify(false);
              },
              () => verify(false),
            );
          },
        });
    });
  }

  private classify(
    err: Error & { level?: string; code?: string },
    presentedKey: string | undefined,
    pinnedOnFirstUse?: string,
  ): TrunklineError {
    const { host } = this;
    const where = `${host.user}@${host.address}:${host.port} (${host.name})`;
    const expected = host.hostKeyFingerprint ?? pinnedOnFirstUse ?? null;
    if (presentedKey && (expected === null || !sameFingerprint(presentedKey, expected))) {
      return new TrunklineError(
        ErrorCode.SSH_HOST_KEY_MISMATCH,
        expected === null
          ? `host key of ${where} is ${presentedKey}, and no key could be pinned on first use: refusing to connect`
          : `host key of ${where} is ${presentedKey}, expected ${expected}: refusing to connect`,
        { host: host.name, presented: presentedKey },
      );
    }
    if (err.level === 'client-authentication')
      return new TrunklineError(ErrorCode.SSH_AUTH_FAILED, `authentication to ${where} failed`, { host: host.name });
    if (err.level === 'client-timeout')
      return new TrunklineError(ErrorCode.SSH_TIMEOUT, `no SSH handshake with ${where} within ${this.options.connectTimeoutMs} ms`, {
        host: host.name,
      });
    return new TrunklineError(ErrorCode.SSH_CONNECT_FAILED, `cannot connect to ${where}: ${err.message}`, {
      host: host.name,
      cause: err.code,
    });
  }

  async exec(command: string, timeoutMs: number, stdin?: string): Promise<ExecResult> {
    await this.ready;
    await this.acquire();
    try {
      return await this.run(command, timeoutMs, stdin);
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.options.maxChannels) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private run(command: string, timeoutMs: number, stdin: string | undefined): Promise<ExecResult> {
    const { host } = this;
    const started = performance.now();
    return new Promise<ExecResult>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (channel) this.openChannels.delete(channel);
        fn();
      };
      // The deadline covers opening the channel too: a host that stopped answering never
      // confirms the open, and the callback below would never run.
      const timer = setTimeout(() => {
        finish(() => {
          if (channel) channel.close();
          else this.broken = true; // the connection itself no longer answers: reconnect next time
          reject(
            new TrunklineError(ErrorCode.COMMAND_TIMEOUT, `command on ${host.name} did not finish within ${timeoutMs} ms`, {
              host: host.name,
              command,
              phase: channel ? 'running' : 'opening channel',
            }),
          );
        });
      }, timeoutMs);
      this.client.exec(command, (err, opened) => {
        if (settled) {
          // Opened after we gave up on it: nobody reads it.
          opened?.close();
          return;
        }
        if (err) {
          this.broken = this.broken || /not connected|No response/i.test(err.message);
          finish(() =>
            reject(
              new TrunklineError(ErrorCode.SSH_DISCONNECTED, `cannot open a channel on ${host.name}: ${err.message}`, { host: host.name }),
            ),
          );
          return;
        }
        channel = opened;
        this.openChannels.add(opened);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let outBytes = 0;
        let exitCode: number | undefined;
        let signal: string | undefined;
        const collect = (sink: Buffer[]) => (chunk: Buffer) => {
          if (outBytes >= MAX_OUTPUT_BYTES) return;
          outBytes += chunk.length;
          sink.push(chunk);
        };
        opened.on('data', collect(out));
        opened.stderr.on('data', collect(errOut));
        opened.on('exit', (code: number | null, sig?: string) => {
          if (code !== null && code !== undefined) exitCode = code;
          if (sig) signal = sig;
        });
        opened.on('close', () =>
          finish(() =>
            resolve({
              // A command killed by a signal has no exit status; report it like a shell would.
              exitCode: exitCode ?? (signal ? 128 : 255),
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8') + (signal ? `\n(killed by signal ${signal})` : ''),
              durationMs: Math.round(performance.now() - started),
            }),
          ),
        );
        // EOF on stdin, after the input if any: nothing a step runs may wait for a terminal.
        opened.end(stdin);
        opened.on('trunkline-disconnect', () =>
          finish(() =>
            reject(
              new TrunklineError(ErrorCode.SSH_DISCONNECTED, `SSH connection to ${host.name} lost during a command`, { host: host.name }),
            ),
          ),
        );
      });
    });
  }

  end(): void {
    this.broken = true;
    this.client.end();
  }
}

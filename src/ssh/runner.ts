import type { Host } from '../inventory/host-registry.ts';
import type { Logger } from '../log/logger.ts';
import type { BatchCommand } from './command-batch.ts';

/**
 * The host-command interface: what pure code (parsers, step kinds, planners) and the workers'
 * step engine need to know about running a command, without the ssh2 implementation
 * (`ssh-pool.ts`, which implements `CommandRunner`). test/unit/layering.test.ts keeps the pure
 * folders off ssh-pool.ts.
 */

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  /** Run through `sudo -n` (default: the pool's setting). */
  sudo?: boolean;
  timeoutMs?: number;
  /** Text written to the command's stdin (e.g. XML for `virsh define /dev/stdin`). */
  stdin?: string;
  /** Where the round trip's log lines go: a job's child logger (log-context.ts); default: the runner's own. */
  log?: Logger;
}

export interface BatchExecOptions {
  sudo?: boolean;
  /** For the whole batch. */
  timeoutMs?: number;
  /** Stop at the first command that fails; the result then has fewer entries than commands. */
  stopOnFailure?: boolean;
  /** As ExecOptions.log. */
  log?: Logger;
}

/**
 * Runs argv on a host. The only way Trunkline code touches a hypervisor; tests of pure code
 * never need it, and integration tests use the real SSH implementation (`SshPool`,
 * ssh-pool.ts).
 */
export interface CommandRunner {
  exec(host: Host, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Runs commands one after the other in one round trip (command-batch.ts) and returns one
   * result per command that ran; `durationMs` of each is the whole batch's.
   */
  execBatch(host: Host, commands: readonly BatchCommand[], options?: BatchExecOptions): Promise<ExecResult[]>;
  close(): Promise<void>;
}

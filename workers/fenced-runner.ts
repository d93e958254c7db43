import type { Host } from '../src/inventory/host-registry.ts';
import type { HostLease } from '../src/jobs/host-locks.ts';
import type { BatchCommand } from '../src/ssh/command-batch.ts';
import type { BatchExecOptions, CommandRunner, ExecOptions, ExecResult } from '../src/ssh/runner.ts';

/**
 * A runner that confirms the host lease before every round trip (the fencing check): a worker
 * that lost its lock while paused throws LOCK_LOST instead of sending one more command to a
 * host another worker now runs. One Redis round trip (a small script) per host round trip.
 */
export function fencedRunner(runner: CommandRunner, lease: HostLease): CommandRunner {
  return {
    async exec(host: Host, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
      await lease.confirm();
      return runner.exec(host, argv, options);
    },
    async execBatch(host: Host, commands: readonly BatchCommand[], options?: BatchExecOptions): Promise<ExecResult[]> {
      await lease.confirm();
      return runner.execBatch(host, commands, options);
    },
    // The pool is the worker's, not the lease's.
    close: async () => {},
  };
}

import type { Logger } from '../log/logger.ts';
import type { CommandRunner } from './runner.ts';

/**
 * A runner whose every round trip logs with `log` (a job's child logger, src/jobs/job-log.ts): the
 * SSH layer's lines (a connection it opens, each round trip at debug level) then carry the job's
 * id, kind and ticketRef wherever the command came from (a step, a planning read, a probe).
 */
export function withLogContext(runner: CommandRunner, log: Logger): CommandRunner {
  return {
    exec: (host, argv, options) => runner.exec(host, argv, { ...options, log: options?.log ?? log }),
    execBatch: (host, commands, options) => runner.execBatch(host, commands, { ...options, log: options?.log ?? log }),
    // The pool is the worker's, not the job's.
    close: async () => {},
  };
}

import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { ExecResult } from './runner.ts';

/** How much of a command's output Trunkline keeps, by where it ends up. */
export const EXCERPT_CHARS = {
  /** stderr in an error message (a step failure, a failed read): its first lines say why. */
  errorMessage: 500,
  /** stderr in a rollback entry or a verify probe failure: one short line among several. */
  shortMessage: 300,
  /** stdout/stderr kept in a step record: enough to diagnose, small enough to stream. */
  stepRecord: 4000,
} as const;

/** The trimmed start of a command's stderr, for an error message. */
export function stderrExcerpt(stderr: string | null | undefined, chars: number = EXCERPT_CHARS.errorMessage): string {
  return stderr?.trim().slice(0, chars) ?? '';
}

/** A command's stdout when it exited 0; otherwise COMMAND_FAILED naming `what` and the start of its stderr. */
export function okStdout(what: string, result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new TrunklineError(
      ErrorCode.COMMAND_FAILED,
      `${what} exited ${result.exitCode}: ${stderrExcerpt(result.stderr) || '(no stderr)'}`,
    );
  return result.stdout;
}

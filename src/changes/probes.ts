import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { ExecResult } from '../ssh/ssh-pool.ts';
import type { ProbeKind } from './plan.ts';

export const ABSENT = 'absent';

/** Turns a probe's output into the observed value, comparable with the step's `wanted`. */
export function readProbe(kind: ProbeKind, result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new TrunklineError(ErrorCode.COMMAND_FAILED, `probe exited ${result.exitCode}: ${result.stderr.trim().slice(0, 500)}`);
  switch (kind) {
    case 'ovs-bridge-datapath':
      return bridgeDatapathValue(result.stdout);
    case 'host-state':
      throw new TrunklineError(ErrorCode.JOB_INVALID, 'host-state steps are read by the refresh job, not probed');
  }
}

/**
 * `ovs-vsctl --if-exists get Bridge B datapath_type` prints nothing for a missing bridge,
 * `""` for the default datapath (system) and the bare word otherwise.
 */
export function bridgeDatapathValue(stdout: string): string {
  const text = stdout.trim();
  if (text === '') return ABSENT;
  const unquoted = text.startsWith('"') ? (JSON.parse(text) as string) : text;
  return `datapath_type=${unquoted === '' ? 'system' : unquoted}`;
}

import { ErrorCode, TrunklineError } from '../errors/codes.ts';
import type { ExecResult } from '../ssh/ssh-pool.ts';
import type { PlanStep, ProbeKind, StepAction } from './plan.ts';
import { bridgeStateFromProbe, bridgeValue, undoBridge, type BridgeState } from './steps/ovs-bridge.ts';
import { portStateFromProbe, portValue, portVlansValue, undoPort, undoPortVlans, type PortState } from './steps/ovs-port.ts';

/**
 * How the worker handles each kind of step: turn the probe's output into the observed value
 * (compared with `wanted`) and, from the state seen before acting, the command that undoes
 * the step if a later one fails.
 */
interface StepKind<S> {
  read(result: ExecResult, step: PlanStep): { value: string; state: S };
  undo(before: S, step: PlanStep): StepAction | null;
}

function ok(result: ExecResult): string {
  if (result.exitCode !== 0)
    throw new TrunklineError(ErrorCode.COMMAND_FAILED, `probe exited ${result.exitCode}: ${result.stderr.trim().slice(0, 500) || '(no stderr)'}`);
  return result.stdout;
}

const bridge: StepKind<BridgeState> = {
  read: (r) => {
    const state = bridgeStateFromProbe(ok(r));
    return { value: bridgeValue(state), state };
  },
  undo: undoBridge,
};

const port: StepKind<PortState> = {
  read: (r, step) => {
    const state = portStateFromProbe(ok(r), step.subject);
    return { value: portValue(state), state };
  },
  undo: undoPort,
};

const portVlans: StepKind<PortState> = {
  read: (r, step) => {
    const state = portStateFromProbe(ok(r), step.subject);
    return { value: portVlansValue(state), state };
  },
  undo: undoPortVlans,
};

const KINDS: Record<Exclude<ProbeKind, 'host-state'>, StepKind<never>> = {
  'ovs-bridge': bridge as StepKind<never>,
  'ovs-port': port as StepKind<never>,
  'ovs-port-vlans': portVlans as StepKind<never>,
};

export function stepKind(kind: ProbeKind): StepKind<unknown> {
  if (kind === 'host-state') throw new TrunklineError(ErrorCode.JOB_INVALID, 'host-state steps are run by the refresh job');
  return KINDS[kind] as StepKind<unknown>;
}

import { bridgeDatapathArgv, deleteBridgeArgv, ensureBridgeArgv } from '../../ovs/commands.ts';
import type { OvsSnapshot } from '../../ovs/snapshot.ts';
import { judged, type PlanStep, type StepAction } from '../plan.ts';

export const ABSENT = 'absent';

/** A bridge as far as these steps care: absent (null) or its datapath type. */
export type BridgeState = { datapathType: string } | null;

export function bridgeValue(state: BridgeState): string {
  return state === null ? ABSENT : `datapath_type=${state.datapathType || 'system'}`;
}

/**
 * `ovs-vsctl --if-exists get Bridge B datapath_type` prints nothing for a missing bridge,
 * `""` for the default datapath (system) and the bare word otherwise.
 */
export function bridgeStateFromProbe(stdout: string): BridgeState {
  const text = stdout.trim();
  if (text === '') return null;
  const unquoted = text.startsWith('"') ? (JSON.parse(text) as string) : text;
  return { datapathType: unquoted === '' ? 'system' : unquoted };
}

export function bridgeStateFromSnapshot(ovs: OvsSnapshot | null, bridge: string): BridgeState | undefined {
  if (!ovs) return undefined;
  const b = ovs.bridges.find((x) => x.name === bridge);
  return b ? { datapathType: b.datapathType || 'system' } : null;
}

/** Ensures the bridge exists with this datapath (one transaction). */
export function bridgePresentStep(host: string, bridge: string, datapathType: string, cached: BridgeState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: bridge,
      description: `ensure bridge ${bridge} exists (datapath ${datapathType})`,
      probe: { kind: 'ovs-bridge', argv: bridgeDatapathArgv(bridge) },
      wanted: bridgeValue({ datapathType }),
      apply: { argv: ensureBridgeArgv(bridge, datapathType) },
    },
    cached === undefined ? null : bridgeValue(cached),
  );
}

/** Ensures the bridge is gone, with its ports. */
export function bridgeAbsentStep(host: string, bridge: string, cached: BridgeState | undefined): PlanStep {
  return judged(
    {
      host,
      subject: bridge,
      description: `ensure bridge ${bridge} is deleted (with its ports)`,
      probe: { kind: 'ovs-bridge', argv: bridgeDatapathArgv(bridge) },
      wanted: ABSENT,
      apply: { argv: deleteBridgeArgv(bridge) },
    },
    cached === undefined ? null : bridgeValue(cached),
  );
}

/** What puts the bridge back as it was; deleting a bridge loses its ports, so that has none. */
export function undoBridge(before: BridgeState, step: PlanStep): StepAction | null {
  if (step.wanted === ABSENT) return null;
  if (before === null) return { argv: deleteBridgeArgv(step.subject) };
  return { argv: ensureBridgeArgv(step.subject, before.datapathType) };
}

import { deleteBridgeArgv, ensureBridgeArgv } from '../../ovs/commands.ts';
import { parseOvsSnapshotOnce, snapshotArgv, type OvsSnapshot } from '../../ovs/snapshot.ts';
import { ABSENT, judged, type PlanStep, type StepAction } from '../plan.ts';

/** A bridge as far as these steps care: absent (null) or its datapath type. */
export type BridgeState = { datapathType: string } | null;

export function bridgeValue(state: BridgeState): string {
  return state === null ? ABSENT : `datapath_type=${state.datapathType || 'system'}`;
}

/**
 * OVS steps are observed with the host's OVS snapshot (`snapshotArgv()`): one ovs-vsctl
 * process per round trip answers every OVS step of the host.
 */
export function bridgeStateFromProbe(stdout: string, bridge: string): BridgeState {
  return bridgeStateFromSnapshot(parseOvsSnapshotOnce(stdout), bridge)!;
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
      probe: { kind: 'ovs-bridge', argv: snapshotArgv() },
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
      probe: { kind: 'ovs-bridge', argv: snapshotArgv() },
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

/**
 * A plan is data: ordered steps, each naming its host, how to observe the current value,
 * the wanted value and the argv that makes it so. `dryRun` returns it; a job executes it,
 * observing again right before acting, so a re-run converges and reports no change.
 */
export type ProbeKind = 'ovs-bridge-datapath' | 'host-state';

export interface PlanStep {
  host: string;
  description: string;
  probe: { kind: ProbeKind; argv: string[] };
  wanted: string;
  /** null for read-only steps (e.g. refreshing a host's state). */
  apply: { argv: string[] } | null;
}

export interface Plan {
  kind: string;
  hypervisors: string[];
  steps: PlanStep[];
}

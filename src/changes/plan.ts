import type { JobKind } from '../jobs/job-kinds.ts';

/**
 * A plan is data: ordered steps, each naming its host, how to observe the current value,
 * the wanted value and the command that makes it so. `dryRun` returns it; a job executes it,
 * observing again right before acting, so a re-run converges and reports no change.
 */
export type ProbeKind =
  | 'ovs-bridge'
  | 'ovs-port'
  | 'ovs-port-vlans'
  | 'ovs-uplink-vlan'
  | 'libvirt-network-def'
  | 'libvirt-network-run'
  | 'libvirt-portgroup'
  | 'libvirt-vm-def'
  | 'libvirt-vm-state'
  | 'libvirt-vm-nic'
  | 'libvirt-vm-nic-portgroup'
  | 'host-state'
  | 'verify';

/** A command for a host: argv, and optionally text fed to its stdin (e.g. XML for virsh). */
export interface StepAction {
  argv: string[];
  stdin?: string;
}

export interface PlanStep {
  host: string;
  description: string;
  /** The object the step is about (bridge, port, ...): what undo and messages refer to. */
  subject: string;
  /** `marker` splits the output of probes that batch several virsh commands. */
  probe: { kind: ProbeKind; argv: string[]; marker?: string };
  wanted: string;
  /** null for read-only steps (e.g. refreshing a host's state). */
  apply: StepAction | null;
  /** The value in the cache when the plan was made (null: host never read); the worker re-checks. */
  observed: string | null;
  /** Whether the step would change something, judged from the cache; null when unknown. */
  changes: boolean | null;
  /** The host converges on its own after the command (e.g. a guest shutting down): poll this long. */
  waitMs?: number;
  /** Run when the wait ends without convergence (e.g. power off after a graceful stop). */
  fallback?: StepAction;
  /** Said when the step does not converge: what the caller can do about it. */
  hint?: string;
  /** What to show as the step's command when it is not one `apply` (e.g. verifyVlan's). */
  display?: string;
  /**
   * A port step whose device may not exist yet (addPort `deviceMayBeMissing`): OVS's
   * "No such device" on the interface is then a warning, not a failure.
   */
  deviceMayBeMissing?: boolean;
}

/**
 * Whether a step that reads as wanted also works (e.g. OVS could not open a port's device):
 * `failure` fails the step (it is rolled back), `warning` lets it succeed and says why it may not work.
 */
export type StepHealth = { failure: string; warning?: undefined } | { warning: string; failure?: undefined } | null;

export interface Plan {
  kind: JobKind;
  hypervisors: string[];
  steps: PlanStep[];
}

/**
 * The value of an object that does not exist, observed or wanted (a deleted port's `wanted`),
 * shared by every step kind; `portgroupValue` (src/libvirt/network-build.ts) writes the same word.
 */
export const ABSENT = 'absent';

/** Fills `observed` and `changes` from a cached value. */
export function judged(step: Omit<PlanStep, 'observed' | 'changes'>, observed: string | null): PlanStep {
  return { ...step, observed, changes: observed === null ? null : observed !== step.wanted };
}

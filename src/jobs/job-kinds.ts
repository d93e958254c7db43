/**
 * Every kind of Trunkline job: the mutation that created it, stored in the job record and used
 * as the BullMQ job name. A closed vocabulary: clients filter jobs by it and workers dispatch on it.
 */

/** Kinds the worker plans per host from src/changes/planners.ts (CHANGE_KINDS has exactly these keys). */
export const CHANGE_JOB_KINDS = [
  'createBridge',
  'deleteBridge',
  'addPort',
  'removePort',
  'setPortVlans',
  'defineNetwork',
  'deleteNetwork',
  'addPortgroup',
  'removePortgroup',
  'defineVm',
  'startVm',
  'stopVm',
  'undefineVm',
  'attachVmInterface',
  'detachVmInterface',
  'setVmInterfaceVlan',
  'ensureVlan',
  'removeVlan',
] as const;
export type ChangeJobKind = (typeof CHANGE_JOB_KINDS)[number];

/** Kinds that run as planned at submission: verifyVlan pings across hosts, refreshHypervisor only reads. */
export const OTHER_JOB_KINDS = ['verifyVlan', 'refreshHypervisor'] as const;

export const JOB_KINDS = [...CHANGE_JOB_KINDS, ...OTHER_JOB_KINDS] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const CHANGE_SET: ReadonlySet<string> = new Set(CHANGE_JOB_KINDS);
const ALL_SET: ReadonlySet<string> = new Set(JOB_KINDS);

export function isJobKind(name: string): name is JobKind {
  return ALL_SET.has(name);
}

export function isChangeJobKind(name: string): name is ChangeJobKind {
  return CHANGE_SET.has(name);
}

/*
 * The shapes of the GraphQL answers the UI asks for (queries.ts), as graphql/schema.graphql
 * defines them: only the fields the queries select. Enums are string unions of the schema's values.
 */

export type HypervisorStatus = 'REACHABLE' | 'UNREACHABLE' | 'UNKNOWN';
export type UplinkCarriage = 'TRUNKED' | 'TRUNKS_ALL' | 'ACCESS' | 'MISSING' | 'NO_UPLINK' | 'UNKNOWN';
export type VlanDriftKind =
  | 'UPLINK_MISSING'
  | 'PORTGROUP_MISSING'
  | 'PORTGROUP_DIFFERS'
  | 'TRUNK_PORTGROUP_MISSING'
  | 'VM_PORT_TAG_DIFFERS';
export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type JobHostState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type JobStepState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
export type JobEventType =
  | 'QUEUED'
  | 'WAITING'
  | 'STARTED'
  | 'HOST_PLANNED'
  | 'HOST_STARTED'
  | 'HOST_FINISHED'
  | 'HOST_INTERRUPTED'
  | 'STEP_STARTED'
  | 'STEP_FINISHED'
  | 'STEP_ROLLED_BACK'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLED';

export const JOB_STATES: readonly JobState[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const JOB_KINDS = [
  'addPort',
  'addPortgroup',
  'attachVmInterface',
  'createBridge',
  'defineNetwork',
  'defineVm',
  'deleteBridge',
  'deleteNetwork',
  'detachVmInterface',
  'ensureVlan',
  'refreshHypervisor',
  'removePort',
  'removePortgroup',
  'removeVlan',
  'setPortVlans',
  'setVmInterfaceVlan',
  'startVm',
  'stopVm',
  'undefineVm',
  'verifyVlan',
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface Caller {
  name: string;
  role: 'ADMIN' | 'OPERATOR' | 'VIEWER';
  tokenId: string | null;
  hostGroups: string[] | null;
}

export interface Port {
  name: string;
  tag: number | null;
  trunks: number[];
  vlanMode: string | null;
  interfaces: Array<{ type: string; error: string | null }>;
  vmInterface: { vmName: string; mac: string | null } | null;
}

export interface Bridge {
  name: string;
  datapathType: string;
  ports: Port[];
}

export interface Portgroup {
  name: string;
  isDefault: boolean;
  trunk: boolean;
  vlanTags: number[];
}

export interface Network {
  name: string;
  bridge: string | null;
  active: boolean;
  portgroups: Portgroup[];
}

export interface VmInterface {
  mac: string | null;
  network: string | null;
  portgroup: string | null;
  bridge: string | null;
  target: string | null;
  /** In effect on the OVS port; null while the VM does not run. */
  vlanTags: number[] | null;
  configuredVlanTags: number[];
  configuredTrunk: boolean;
  trunksAllVlans: boolean;
}

export interface Vm {
  name: string;
  state: string;
  interfaces: VmInterface[];
}

export interface Hypervisor {
  name: string;
  address: string;
  status: HypervisorStatus;
  stale: boolean;
  ageSeconds: number | null;
  observedAt: string | null;
  lastError: { code: string; message: string } | null;
  defaults: { bridge: string; uplink: string | null; network: string | null };
  versions: { ovs: string | null; libvirt: string | null };
  uplink: { name: string; tag: number | null; trunks: number[]; vlanMode: string | null } | null;
  bridges: Bridge[];
  networks: Network[];
  vms: { totalCount: number | null; nodes: Vm[] };
}

export interface VlanUplink {
  hypervisorName: string;
  bridge: string;
  uplink: string | null;
  carriage: UplinkCarriage;
  carried: boolean;
}

export interface VlanDrift {
  hypervisorName: string;
  kind: VlanDriftKind;
  subject: string;
  message: string;
}

export interface VlanPortgroup {
  hypervisorName: string;
  network: string;
  name: string;
  trunk: boolean;
  isDefault: boolean;
}

export interface VlanInterface {
  hypervisor: string;
  vmName: string;
  mac: string | null;
  portgroup: string | null;
  target: string | null;
  vlanTags: number[] | null;
  configuredVlanTags: number[];
  vm: { state: string } | null;
}

/** A VLAN as the fleet query asks for it. */
export interface VlanSummary {
  tag: number;
  name: string | null;
  uplinks: VlanUplink[];
  drift: VlanDrift[];
}

export interface FleetData {
  hypervisors: Hypervisor[];
  vlans: VlanSummary[];
}

export interface VlanDetail extends VlanSummary {
  missingOn: Array<{ name: string }>;
  portgroups: VlanPortgroup[];
  interfaces: VlanInterface[];
  /** The verifyVlan job that ended last with a verification of this VLAN (null: none kept, or not visible). */
  lastVerification: VerifyJob | null;
}

export interface PingOutcome {
  fromHost: string;
  fromVlan: number;
  fromAddress: string;
  toHost: string;
  toAddress: string;
  /** REACH or ISOLATED. */
  expect: string;
  ok: boolean;
  sent: number;
  received: number;
  lossPercent: number;
  rttAvgMs: number | null;
}

export interface VlanVerification {
  tag: number;
  ok: boolean;
  isolationFrom: number[];
  results: PingOutcome[];
}

export interface VerifyJob {
  id: string;
  state: JobState;
  createdAt: string;
  finishedAt: string | null;
  hypervisors: string[];
  ticketRef: string | null;
  error: JobError | null;
  verification: VlanVerification | null;
}

export interface VlanPageData {
  vlan: VlanDetail;
  /** Every VLAN's tag: colours are assigned over all of them (colors.ts). */
  allVlans: Array<{ tag: number }>;
}

export interface JobError {
  code: string;
  message: string;
  step?: number | null;
}

export interface JobProgress {
  percent: number;
  done: number;
  total: number;
  message: string;
}

/** A row of the jobs list. */
export interface JobRow {
  id: string;
  kind: JobKind;
  state: JobState;
  hypervisors: string[];
  ticketRef: string | null;
  requestedBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress;
  error: JobError | null;
  hosts: Array<{ hypervisor: string; state: JobHostState }>;
}

export interface JobsPage {
  jobs: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: JobRow[] };
}

export interface JobStep {
  index: number;
  host: string;
  description: string;
  command: string | null;
  probeCommand: string;
  observed: string | null;
  wanted: string;
  state: JobStepState;
  changed: boolean | null;
  exitCode: number | null;
  durationMs: number | null;
  stdout: string | null;
  stderr: string | null;
  warning: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobHostAttempt {
  number: number;
  worker: string;
  outcome: string;
  reason: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface JobHost {
  hypervisor: string;
  state: JobHostState;
  message: string;
  startedAt: string | null;
  finishedAt: string | null;
  changedSteps: number;
  planNote: string | null;
  waitingFor: string | null;
  error: JobError | null;
  attempts: JobHostAttempt[];
}

export interface JobRollback {
  step: number;
  host: string;
  description: string;
  command: string | null;
  state: string;
  message: string;
}

/** The job as a live event brings it (queries.ts JOB_PROGRESS). */
export interface JobLive extends JobRow {
  cancelRequested: boolean;
  changedSteps: number;
  attempts: number;
  hosts: JobHost[];
}

export interface JobDetail extends JobLive {
  steps: JobStep[];
  rollback: JobRollback[];
  verification: VlanVerification | null;
}

/** A job event as the subscriptions ask for it. */
export interface JobEventData<J> {
  id: string;
  sequence: string | null;
  type: JobEventType;
  at: string;
  jobId: string;
  hypervisor: string | null;
  message: string;
  state: JobState;
  /** jobProgress's events: the step this event is about. */
  step?: JobStep | null;
  job: J | null;
}

import type { z } from 'zod';
import type { Config } from '../config/config.ts';
import { ErrorCode } from '../errors/codes.ts';
import { isChangeJobKind, type ChangeJobKind, type JobKind } from '../jobs/job-kinds.ts';
import type { HostState } from '../hosts/host-state.ts';
import type { Host } from '../inventory/host-registry.ts';
import {
  AddPortgroupInput,
  AddPortInput,
  AttachVmInterfaceInput,
  CreateBridgeInput,
  DefineNetworkInput,
  DefineVmInput,
  DeleteBridgeInput,
  DeleteNetworkInput,
  DetachVmInterfaceInput,
  EnsureVlanInput,
  RemovePortgroupInput,
  RemovePortInput,
  RemoveVlanInput,
  SetPortVlansInput,
  SetVmInterfaceVlanInput,
  StopVmInput,
  VmRef,
} from './inputs.ts';
import type { Plan } from './plan.ts';
import { planAddPortgroup, planDefineNetwork, planDeleteNetwork, planRemovePortgroup } from './plans/libvirt.ts';
import { planAddPort, planCreateBridge, planDeleteBridge, planRemovePort, planSetPortVlans, type Planned } from './plans/ovs.ts';
import { planEnsureVlan, planRemoveVlan, type Member } from './plans/vlan.ts';
import {
  planAttachVmInterface,
  planDefineVm,
  planDetachVmInterface,
  planSetVmInterfaceVlan,
  planStartVm,
  planStopVm,
  planUndefineVm,
} from './plans/vm.ts';
import type { UserError } from './user-errors.ts';

/**
 * Every change job kind with its input schema and its planner. The gateway plans from the cache
 * (for dryRun, userErrors and what it expects); the worker plans each host's part again from the
 * live host, under the host lock, when the part's turn comes. Both call the same function.
 */
export interface ChangeKind<I = unknown> {
  /** Validates the input (the request's, and again the stored one); its output is what the planners take. */
  schema: z.ZodType;
  /** Whether the input names one `hypervisor` or a list of `hypervisors`. */
  targets: 'host' | 'fleet';
  /** What of the host the planner reads: only the OVS tables, or everything (libvirt too). */
  reads: PlanningScope;
  /** One host's part; `member.state` null means never read. */
  planHost(member: Member, input: I, config: Config): Planned;
  /** The whole request (every member), as the gateway plans it from the cache. */
  planAll(members: Member[], input: I, config: Config): { plan?: Plan; errors?: UserError[] };
}

type HostPlanner<I> = (host: Host, state: HostState | null, input: I, config: Config) => Planned;

export type PlanningScope = 'ovs' | 'host';

/** A single-host kind: the planner takes the member's host and state. */
function single<S extends z.ZodType>(schema: S, plan: HostPlanner<z.infer<S>>, reads: PlanningScope = 'host'): ChangeKind<z.infer<S>> {
  const planHost = (m: Member, input: z.infer<S>, config: Config) => plan(m.host, m.state, input, config);
  return { schema, targets: 'host', reads, planHost, planAll: ([m], input, config) => planHost(m!, input, config) };
}

/** A fleet kind: one host's part is the fleet plan for a fleet of one. */
function fleet<S extends z.ZodType>(
  schema: S,
  plan: (members: Member[], input: z.infer<S>, config: Config) => { plan?: Plan; errors?: UserError[] },
): ChangeKind<z.infer<S>> {
  return {
    schema,
    targets: 'fleet',
    reads: 'host',
    planAll: plan,
    planHost: (m, input, config) => {
      const planned = plan([m], input, config);
      return planned.errors?.length || !planned.plan ? { errors: planned.errors ?? [] } : { plan: planned.plan };
    },
  };
}

/** Keyed by exactly the change job kinds (src/jobs/job-kinds.ts): a kind missing here, or one not there, does not compile. */
export const CHANGE_KINDS: Readonly<Record<ChangeJobKind, ChangeKind<never>>> = {
  // The OVS planners read nothing but the OVS tables: their parts plan from one snapshot, which
  // then also serves as every step's first probe.
  createBridge: single(
    CreateBridgeInput,
    (host, state, input, config) =>
      planCreateBridge(host, state, {
        name: input.name,
        datapathType: input.datapathType ?? host.defaults.datapathType ?? config.defaults.datapathType,
      }),
    'ovs',
  ),
  deleteBridge: single(DeleteBridgeInput, planDeleteBridge, 'ovs'),
  addPort: single(AddPortInput, planAddPort, 'ovs'),
  removePort: single(RemovePortInput, planRemovePort, 'ovs'),
  setPortVlans: single(SetPortVlansInput, planSetPortVlans, 'ovs'),
  defineNetwork: single(DefineNetworkInput, planDefineNetwork),
  deleteNetwork: single(DeleteNetworkInput, planDeleteNetwork),
  addPortgroup: single(AddPortgroupInput, planAddPortgroup),
  removePortgroup: single(RemovePortgroupInput, planRemovePortgroup),
  defineVm: single(DefineVmInput, planDefineVm),
  startVm: single(VmRef, planStartVm),
  stopVm: single(StopVmInput, planStopVm),
  undefineVm: single(VmRef, planUndefineVm),
  attachVmInterface: single(AttachVmInterfaceInput, planAttachVmInterface),
  detachVmInterface: single(DetachVmInterfaceInput, planDetachVmInterface),
  setVmInterfaceVlan: single(SetVmInterfaceVlanInput, planSetVmInterfaceVlan),
  ensureVlan: fleet(EnsureVlanInput, planEnsureVlan),
  removeVlan: fleet(RemoveVlanInput, (members, input) => planRemoveVlan(members, input)),
};

/**
 * Plans one host's part of a job from its stored input, as the worker does at execution. The
 * input is validated again (a record written by an older gateway, or tampered with, never
 * reaches a host unchecked). Returns the host's steps, or why the plan refuses now.
 */
export function planHostPart(kind: JobKind, input: unknown, member: Member, config: Config): Planned {
  const k = isChangeJobKind(kind) ? (CHANGE_KINDS[kind] as ChangeKind<unknown>) : undefined;
  if (!k)
    return {
      errors: [{ field: ['kind'], code: ErrorCode.JOB_INVALID, message: `kind: ${kind} is not a change Trunkline plans per host` }],
    };
  const parsed = k.schema.safeParse(input);
  if (!parsed.success)
    return {
      errors: [
        {
          field: ['input'],
          code: ErrorCode.JOB_INVALID,
          message: `input: the stored input no longer validates: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        },
      ],
    };
  const planned = k.planHost(member, parsed.data, config);
  if (planned.errors) return planned;
  // A fleet planner plans every member it is given; keep only this host's steps.
  return {
    plan: { ...planned.plan, hypervisors: [member.host.name], steps: planned.plan.steps.filter((s) => s.host === member.host.name) },
  };
}

/** What of a host the worker reads to plan a part of this kind. */
export function planningScope(kind: JobKind): PlanningScope {
  return isChangeJobKind(kind) ? CHANGE_KINDS[kind].reads : 'host';
}

/** Whether the worker plans this kind per host at execution (everything but verify and refresh). */
export function isPlannedPerHost(kind: JobKind): kind is ChangeJobKind {
  return isChangeJobKind(kind);
}

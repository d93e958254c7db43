import { CHANGE_KINDS, type ChangeKind } from '../changes/planners.ts';
import type { Plan } from '../changes/plan.ts';
import { planVerifyVlan } from '../changes/plans/verify.ts';
import type { Member } from '../changes/plans/vlan.ts';
import { VerifyVlanInput } from '../changes/inputs.ts';
import { inputError, userErrorsFromZod, type UserError } from '../changes/user-errors.ts';
import type { Config } from '../config/config.ts';
import { ErrorCode } from '../errors/codes.ts';
import { memberOf, type HostView } from '../hosts/host-view.ts';
import type { VlanNames } from '../inventory/vlan-names.ts';
import type { ChangeQueue } from '../jobs/change-queue.ts';
import type { HostOrder } from '../jobs/host-order.ts';
import type { ChangeJobKind } from '../jobs/job-kinds.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import { submitChange } from '../jobs/submit-change.ts';
import { allowed, namedHosts, type Requester, submittedBy } from './requester.ts';

/*
 * A change request as every API takes it (GraphQL and REST): the caller's role must allow changes
 * → validate the input with the kind's zod schema → every host it names must be in the caller's
 * scope (FORBIDDEN, whether it exists or not) → and registered → plan from the cached state
 * with the planner the worker runs again at execution → a dryRun answers the plan; otherwise
 * one queued job. Every refusal is a userError naming the field (paths rooted at `input`), and
 * nothing reaches the queue or a host.
 */

export interface ChangeRequestDeps {
  config: Config;
  store: JobStore;
  queue: ChangeQueue;
  order: HostOrder;
  vlanNames: VlanNames;
  /** Every registered host with its cached state. */
  fleet(): Promise<HostView[]>;
}

/** Who asks (the request context is one): its caller names the job's requestedBy. */
export type RequestMeta = Requester;

/** What a change request comes to: the plan and its job, or why it was refused. */
export interface ChangeOutcome {
  plan: Plan | null;
  job: JobRecord | null;
  userErrors: UserError[];
}

const refused = (userErrors: UserError[]): ChangeOutcome => ({ plan: null, job: null, userErrors });

interface RequestOptions {
  dryRun?: boolean;
  ticketRef?: string | null;
  hypervisor?: string;
  hypervisors?: string[];
}

/** The registered hosts a request names, or a userError for each name that is not one. */
async function membersOf(deps: ChangeRequestDeps, targets: ChangeKind['targets'], data: RequestOptions) {
  const fleet = await deps.fleet();
  const byName = new Map(fleet.map((v) => [v.host.name, v]));
  const errors: UserError[] = [];
  const members: Member[] = [];
  if (targets === 'host') {
    const view = byName.get(data.hypervisor!);
    if (view) members.push(memberOf(view));
    else {
      const known = fleet.map((v) => v.host.name).join(', ') || 'none';
      errors.push(inputError('hypervisor', ErrorCode.UNKNOWN_HYPERVISOR, `no hypervisor named "${data.hypervisor}" (known: ${known})`));
    }
  } else {
    [...new Set(data.hypervisors!)].forEach((name, i) => {
      const view = byName.get(name);
      if (view) members.push(memberOf(view));
      else errors.push(inputError(['hypervisors', String(i)], ErrorCode.UNKNOWN_HYPERVISOR, `no hypervisor named "${name}"`));
    });
  }
  return { members, errors };
}

/** A change of any change job kind (one host or a fleet). */
export async function requestChange(
  deps: ChangeRequestDeps,
  kind: ChangeJobKind,
  input: unknown,
  meta: RequestMeta,
): Promise<ChangeOutcome> {
  const spec = CHANGE_KINDS[kind] as ChangeKind<RequestOptions>;
  const role = await allowed(meta, 'operator', kind, []);
  if (role.length) return refused(role);
  const parsed = spec.schema.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const data = parsed.data as RequestOptions & Record<string, unknown>;
  const scope = await allowed(meta, 'operator', kind, namedHosts(data));
  if (scope.length) return refused(scope);
  const found = await membersOf(deps, spec.targets, data);
  if (found.errors.length) return refused(found.errors);
  const planned = spec.planAll(found.members, data, deps.config);
  if (planned.errors?.length || !planned.plan) return refused(planned.errors ?? []);
  if (data.dryRun) return { plan: planned.plan, job: null, userErrors: [] };
  const { dryRun: _d, ticketRef, ...stored } = data;
  const job = await submitChange(deps, kind, stored, planned.plan, submittedBy(meta, ticketRef));
  // The VLAN's human name is fleet metadata, kept by the gateway (no host holds it).
  if (kind === 'ensureVlan' && typeof data.name === 'string' && typeof data.tag === 'number') await deps.vlanNames.set(data.tag, data.name);
  return { plan: planned.plan, job, userErrors: [] };
}

/** verifyVlan: probes planned for the named hosts, one job (it changes nothing it leaves behind). */
export async function requestVerify(deps: ChangeRequestDeps, input: unknown, meta: RequestMeta): Promise<ChangeOutcome> {
  const role = await allowed(meta, 'operator', 'verifyVlan', []);
  if (role.length) return refused(role);
  const parsed = VerifyVlanInput.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const scope = await allowed(meta, 'operator', 'verifyVlan', namedHosts(parsed.data));
  if (scope.length) return refused(scope);
  const found = await membersOf(deps, 'fleet', parsed.data);
  if (found.errors.length) return refused(found.errors);
  const planned = planVerifyVlan(
    found.members.map((m) => m.host),
    parsed.data,
  );
  if (planned.errors?.length || !planned.plan) return refused(planned.errors ?? []);
  const { ticketRef, ...rest } = parsed.data;
  const job = await submitChange(deps, 'verifyVlan', { ...rest, spec: planned.spec }, planned.plan, submittedBy(meta, ticketRef));
  return { plan: planned.plan, job, userErrors: [] };
}

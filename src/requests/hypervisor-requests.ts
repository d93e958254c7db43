import { HostKeyRotationInput, RefreshHypervisorInput, RegisterHypervisorInput } from '../changes/inputs.ts';
import type { Plan } from '../changes/plan.ts';
import { planRefresh } from '../changes/refresh-hypervisor.ts';
import { inputError, userErrorsFromZod, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { HostStateCache } from '../hosts/host-state-cache.ts';
import type { HostView } from '../hosts/host-view.ts';
import type { Host, WritableHostRegistry } from '../inventory/host-registry.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import { submitChange } from '../jobs/submit-change.ts';
import { inScope } from '../auth/scope.ts';
import type { ChangeRequestDeps, RequestMeta } from './change-request.ts';
import { allowed, submittedBy } from './requester.ts';

/*
 * The host registry's requests as every API takes them: register (or replace) a hypervisor and
 * queue its first read, forget one, queue reads. Field paths are rooted at `input`.
 */

export interface HypervisorRequestDeps extends ChangeRequestDeps {
  registry: WritableHostRegistry;
  cache: HostStateCache;
  /** The host as the APIs show it, after a change to the registry. */
  hostView(name: string): Promise<HostView | undefined>;
}

export interface RegisterOutcome {
  hypervisor: HostView | null;
  created: boolean;
  job: JobRecord | null;
  userErrors: UserError[];
}

export async function registerHypervisor(deps: HypervisorRequestDeps, input: unknown, meta: RequestMeta): Promise<RegisterOutcome> {
  const refused = (userErrors: UserError[]): RegisterOutcome => ({ hypervisor: null, created: false, job: null, userErrors });
  const role = await allowed(meta, 'admin', 'registerHypervisor', []);
  if (role.length) return refused(role);
  const parsed = RegisterHypervisorInput.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  // An admin limited to host groups registers only names of its groups.
  const scope = await allowed(meta, 'admin', 'registerHypervisor', [{ field: 'name', host: parsed.data.name }]);
  if (scope.length) return refused(scope);
  const { ticketRef, defaults, trustOnFirstUse: _tofu, hostKeyFingerprint, ...rest } = parsed.data;
  const host: Host = {
    ...rest,
    hostKeyFingerprint: hostKeyFingerprint ?? null,
    defaults: {
      bridge: defaults?.bridge ?? 'ovsbr0',
      ...(defaults?.uplink ? { uplink: defaults.uplink } : {}),
      ...(defaults?.network ? { network: defaults.network } : {}),
      ...(defaults?.datapathType ? { datapathType: defaults.datapathType } : {}),
    },
  };
  const created = await deps.registry.put(host);
  // A replaced registration may point at another machine: its old state is not this host's.
  await deps.cache.delete(host.name);
  const job = await submitChange(
    deps,
    'refreshHypervisor',
    { hypervisors: [host.name] },
    planRefresh([host.name]),
    submittedBy(meta, ticketRef),
  );
  return { hypervisor: (await deps.hostView(host.name)) ?? null, created, job, userErrors: [] };
}

async function unknownHosts(deps: HypervisorRequestDeps, names: readonly string[], field: string[]): Promise<UserError[]> {
  const known = new Set((await deps.registry.list()).map((h) => h.name));
  return names
    .filter((n) => !known.has(n))
    .map((n) => inputError(field, ErrorCode.UNKNOWN_HYPERVISOR, `no hypervisor named "${n}" (known: ${[...known].join(', ') || 'none'})`));
}

/** Forgets a hypervisor (registry and cached state); nothing on the host changes. */
export async function removeHypervisor(
  deps: HypervisorRequestDeps,
  name: string,
  meta: RequestMeta,
): Promise<{ removedName: string | null; userErrors: UserError[] }> {
  const denied = await allowed(meta, 'admin', 'removeHypervisor', [{ field: 'name', host: name }]);
  if (denied.length) return { removedName: null, userErrors: denied };
  const errors = await unknownHosts(deps, [name], ['name']);
  if (errors.length) return { removedName: null, userErrors: errors };
  await deps.registry.remove(name);
  await deps.cache.delete(name);
  return { removedName: name, userErrors: [] };
}

/** Queues a read of the named hosts (every registered host in the caller's scope when none are named). */
export async function refreshHypervisors(
  deps: HypervisorRequestDeps,
  hypervisors: readonly string[] | null | undefined,
  meta: RequestMeta & { ticketRef?: string | null },
): Promise<{ plan: Plan | null; job: JobRecord | null; userErrors: UserError[] }> {
  const refused = (userErrors: UserError[]) => ({ plan: null, job: null, userErrors });
  const role = await allowed(meta, 'operator', 'refreshHypervisor', []);
  if (role.length) return refused(role);
  const scope = await meta.scope();
  const names = hypervisors ?? (await deps.registry.list()).map((h) => h.name).filter((h) => inScope(scope, h));
  const parsed = RefreshHypervisorInput.safeParse({ hypervisors: names });
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const denied = await allowed(
    meta,
    'operator',
    'refreshHypervisor',
    names.map((host, i) => ({ field: ['hypervisors', String(i)], host })),
  );
  if (denied.length) return refused(denied);
  const unknown = await unknownHosts(deps, names, ['hypervisors']);
  if (unknown.length) return { plan: null, job: null, userErrors: unknown };
  const plan = planRefresh(parsed.data.hypervisors);
  const job = await submitChange(
    deps,
    'refreshHypervisor',
    { hypervisors: parsed.data.hypervisors },
    plan,
    submittedBy(meta, meta.ticketRef),
  );
  return { plan, job, userErrors: [] };
}

/**
 * Re-pins a host's SSH key (a rotation on the host): only when the key pinned now is the one the
 * request names as expected, so two admins (or an attacker with a stale view) cannot swap keys
 * unnoticed. A null new key pins the one the host presents at the next connection.
 */
export async function rotateHostKey(
  deps: HypervisorRequestDeps & { registry: WritableHostRegistry & { rotateHostKey: RotateHostKey } },
  name: string,
  input: unknown,
  meta: RequestMeta,
): Promise<{ hypervisor: HostView | null; userErrors: UserError[] }> {
  const denied = await allowed(meta, 'admin', 'rotateHostKey', [{ field: 'name', host: name }]);
  if (denied.length) return { hypervisor: null, userErrors: denied };
  const parsed = HostKeyRotationInput.safeParse(input);
  if (!parsed.success) return { hypervisor: null, userErrors: userErrorsFromZod(parsed.error) };
  const r = await deps.registry.rotateHostKey(name, parsed.data.expectedFingerprint, parsed.data.hostKeyFingerprint);
  if (r.result === 'unknown') return { hypervisor: null, userErrors: await unknownHosts(deps, [name], ['name']) };
  if (r.result === 'conflict')
    return {
      hypervisor: null,
      userErrors: [
        inputError(
          'expectedFingerprint',
          ErrorCode.HOST_KEY_CONFLICT,
          `the key pinned for ${name} is ${r.current ?? 'none (pinned at first use)'}, not the one given`,
        ),
      ],
    };
  return { hypervisor: (await deps.hostView(name)) ?? null, userErrors: [] };
}

type RotateHostKey = (
  name: string,
  expected: string,
  next: string | null,
) => Promise<{ result: 'changed' | 'conflict' | 'unknown'; current: string | null }>;

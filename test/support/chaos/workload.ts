/**
 * A seeded generator of change jobs and the client-side record of what was submitted: every
 * request carries an Idempotency-Key (REST) / idempotencyKey (GraphQL), so a request whose
 * answer was lost (gateway killed, Redis down) is retried with the same key, on the other
 * gateway, and the runner learns the job it made, if any. Some requests are sent twice on
 * purpose (the same key, concurrently) and some jobs are cancelled.
 */
import { type Api, canonicalJobId } from './api.ts';

export { canonicalJobId };
import type { Rng } from './prng.ts';

export const BRIDGE = 'ovsbr0';
export const NETWORK = 'ovs-network';
export const PORTS = ['cp0', 'cp1', 'cp2', 'cp3', 'cp4'];
export const PORTGROUPS = ['pg-a0', 'pg-a1', 'pg-a2'];
export const VLANS = [1101, 1102, 1103, 1104];
export const VLAN_CHOICES = [11, 12, 13, 14, 15, 16, 17, 18];

export type Kind = 'addPort' | 'setPortVlans' | 'removePort' | 'addPortgroup' | 'removePortgroup' | 'ensureVlan' | 'removeVlan';

export interface JobSpec {
  seq: number;
  kind: Kind;
  api: 'graphql' | 'rest';
  /** Index of the gateway the first request goes to. */
  gateway: number;
  /** The GraphQL input (the REST request is made from it). */
  input: Record<string, any>;
  key: string;
  /** Sent twice at once with the same key: both answers must name one job. */
  duplicate: boolean;
  /** Cancelled this many ms after it was accepted. */
  cancelAfterMs: number | null;
}

export interface Answer {
  gateway: number;
  at: number;
  status: number | null;
  jobId?: string;
  error?: string;
  userErrors?: string;
}

export interface Submission {
  spec: JobSpec;
  answers: Answer[];
  /** The job the key made (null: none yet known). */
  jobId: string | null;
  /** Refused with userErrors / 4xx (no job, by design). */
  refused: string | null;
  /** Different job ids answered for one key (a finding). */
  conflictingIds: string[];
  acceptedAt: number | null;
  cancel: { at: number; status: number | null; error?: string } | null;
}

/**
 * `count` seeded change requests. The generator keeps the state its requests ask for per host
 * (which test ports exist), so that it sends requests the gateway accepts: setPortVlans only on
 * a port an earlier request (a few requests back, so it has most likely run and is in the cache)
 * added and none removed since; otherwise an addPort. (Jobs that fail or are cancelled still
 * make the odd request refused, NOT_FOUND: counted as refused, by design.)
 */
export function generateJobs(rng: Rng, count: number, hosts: string[], runId: string): JobSpec[] {
  const specs: JobSpec[] = [];
  // host -> port -> seq of the request that added it (absent: removed or never added)
  const added = new Map<string, Map<string, number>>(hosts.map((h) => [h, new Map()]));
  const SETTLED = 4;
  for (let seq = 0; seq < count; seq++) {
    const r = rng.next();
    const host = rng.pick(hosts);
    let kind: Kind;
    let input: Record<string, any>;
    const tags = () => {
      if (rng.chance(0.5)) return { tag: rng.pick(VLAN_CHOICES) };
      const a = rng.pick(VLAN_CHOICES);
      const b = rng.pick(VLAN_CHOICES.filter((v) => v !== a));
      return { trunks: [a, b].sort((x, y) => x - y) };
    };
    const ports = added.get(host)!;
    const settled = [...ports].filter(([, at]) => seq - at >= SETTLED).map(([p]) => p);
    if (r < 0.22 || (r >= 0.22 && r < 0.47 && settled.length === 0)) {
      kind = 'addPort';
      const name = rng.pick(PORTS);
      input = { hypervisor: host, bridge: BRIDGE, name, type: 'INTERNAL', ...tags() };
      if (!ports.has(name)) ports.set(name, seq);
    } else if (r < 0.47) {
      kind = 'setPortVlans';
      input = { hypervisor: host, name: rng.pick(settled), ...tags() };
    } else if (r < 0.57) {
      kind = 'removePort';
      const name = rng.pick(PORTS);
      input = { hypervisor: host, name };
      ports.delete(name);
    } else if (r < 0.7) {
      kind = 'addPortgroup';
      input = { hypervisor: host, network: NETWORK, portgroup: { name: rng.pick(PORTGROUPS), vlanTags: [rng.pick(VLAN_CHOICES)] } };
    } else if (r < 0.77) {
      kind = 'removePortgroup';
      input = { hypervisor: host, network: NETWORK, name: rng.pick(PORTGROUPS) };
    } else {
      const subset = hosts.filter(() => rng.chance(0.6));
      if (subset.length === 0) subset.push(host);
      kind = r < 0.9 ? 'ensureVlan' : 'removeVlan';
      input = { tag: rng.pick(VLANS), hypervisors: subset };
    }
    specs.push({
      seq,
      kind,
      api: rng.chance(0.5) ? 'graphql' : 'rest',
      gateway: rng.int(0, 1),
      input,
      key: `${runId}-${seq}`,
      duplicate: rng.chance(0.08),
      cancelAfterMs: rng.chance(0.08) ? rng.int(0, 400) : null,
    });
  }
  return specs;
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The REST request for a spec (openapi.yaml). */
export function restRequest(spec: JobSpec): { method: string; path: string; body?: unknown } {
  const i = spec.input;
  switch (spec.kind) {
    case 'addPort': {
      // REST spells the port type in lower case (GraphQL's enum: INTERNAL).
      const { hypervisor, bridge, type, ...body } = i;
      return {
        method: 'POST',
        path: `/hypervisors/${hypervisor}/bridges/${bridge}/ports`,
        body: { ...body, type: String(type).toLowerCase() },
      };
    }
    case 'setPortVlans': {
      const { hypervisor, name, ...body } = i;
      return { method: 'PUT', path: `/hypervisors/${hypervisor}/ports/${name}/vlans`, body };
    }
    case 'removePort':
      return { method: 'DELETE', path: `/hypervisors/${i.hypervisor}/ports/${i.name}` };
    case 'addPortgroup': {
      const { hypervisor, network, ...body } = i;
      return { method: 'POST', path: `/hypervisors/${hypervisor}/networks/${network}/portgroups`, body };
    }
    case 'removePortgroup':
      return { method: 'DELETE', path: `/hypervisors/${i.hypervisor}/networks/${i.network}/portgroups/${i.name}` };
    case 'ensureVlan':
      return { method: 'PUT', path: `/vlans/${i.tag}`, body: { hypervisors: i.hypervisors } };
    case 'removeVlan':
      return { method: 'DELETE', path: `/vlans/${i.tag}?hypervisors=${(i.hypervisors as string[]).join(',')}` };
  }
}

/** One request for a spec to one gateway; never throws. */
export async function sendOnce(api: Api, gateway: number, spec: JobSpec): Promise<Answer> {
  const at = Date.now();
  try {
    if (spec.api === 'graphql') {
      const d = await api.gql<any>(
        `mutation($input: ${cap(spec.kind)}Input!) { ${spec.kind}(input: $input) { job { id } userErrors { field code message } } }`,
        { input: { ...spec.input, idempotencyKey: spec.key } },
      );
      const p = d[spec.kind];
      if (p.userErrors.length) return { gateway, at, status: 200, userErrors: JSON.stringify(p.userErrors) };
      return { gateway, at, status: 200, jobId: canonicalJobId(p.job.id) };
    }
    const req = restRequest(spec);
    const r = await api.rest(req.method, req.path, { body: req.body, headers: { 'idempotency-key': spec.key } });
    if (r.status === 202) return { gateway, at, status: 202, jobId: canonicalJobId(r.body.id) };
    if (r.status >= 400 && r.status < 500 && r.status !== 409 && r.status !== 429)
      return { gateway, at, status: r.status, userErrors: JSON.stringify(r.body).slice(0, 400) };
    return { gateway, at, status: r.status, error: JSON.stringify(r.body).slice(0, 400) };
  } catch (err) {
    const e = err as Error & { status?: number };
    return { gateway, at, status: e.status ?? null, error: e.message.slice(0, 400) };
  }
}

/** Refusal codes that say "not now" (the same key is being answered elsewhere): asked again. */
const RETRY_CODES = /"code":"(IDEMPOTENCY_KEY_IN_PROGRESS|SERVICE_UNAVAILABLE|RATE_LIMITED)"/;

/** A refusal that says the request itself is wrong (not an outage): no job, by design. */
function isRefusal(a: Answer): boolean {
  return a.userErrors !== undefined && !RETRY_CODES.test(a.userErrors);
}

/**
 * Sends a spec until its key is answered with a job or a refusal, alternating gateways, for at
 * most `deadline`; an outage answer (5xx, timeout, connection refused, 409 in progress) is retried.
 */
export async function submit(apis: Api[], spec: JobSpec, sub: Submission, deadline: number): Promise<void> {
  let g = spec.gateway;
  for (let attempt = 0; ; attempt++) {
    const a = await sendOnce(apis[g]!, g, spec);
    sub.answers.push(a);
    if (a.jobId) {
      if (sub.jobId && sub.jobId !== a.jobId && !sub.conflictingIds.includes(a.jobId)) sub.conflictingIds.push(a.jobId);
      sub.jobId ??= a.jobId;
      sub.acceptedAt ??= Date.now();
      return;
    }
    if (isRefusal(a)) {
      sub.refused ??= a.userErrors!;
      return;
    }
    if (Date.now() > deadline) return;
    g = (g + 1) % apis.length;
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 4))));
  }
}

export function newSubmission(spec: JobSpec): Submission {
  return { spec, answers: [], jobId: null, refused: null, conflictingIds: [], acceptedAt: null, cancel: null };
}

export async function cancel(api: Api, gateway: number, sub: Submission, useRest: boolean): Promise<void> {
  const at = Date.now();
  try {
    if (useRest) {
      const r = await api.rest('POST', `/jobs/${sub.jobId}/cancel`);
      sub.cancel = { at, status: r.status };
    } else {
      await api.gql(`mutation($id: ID!) { cancelJob(input: { id: $id }) { job { id state } } }`, { id: sub.jobId });
      sub.cancel = { at, status: 200 };
    }
  } catch (err) {
    sub.cancel = { at, status: null, error: (err as Error).message.slice(0, 300) };
  }
  void gateway;
}

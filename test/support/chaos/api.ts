/**
 * The runner's client of Trunkline's public APIs, as any script would use them: GraphQL over
 * HTTP and REST under /api/v1, with an API token, a bounded time per request (a gateway that
 * hangs during a Redis outage must not hang the runner), no retries of its own.
 */
/** job.hosts[].attempts: a list of attempts (the product's per-attempt history) or, before it, a count. */
const ATTEMPTS_LIST = 'attempts { number worker outcome reason startedAt endedAt }';
const jobFields = (attempts: string) =>
  'id kind state attempts changedSteps hypervisors createdAt finishedAt error { code message step } ' +
  `hosts { hypervisor state ${attempts} message error { code message } } ` +
  'rollback { host step state command message } ' +
  'steps { index host description command state changed observed wanted exitCode stderr startedAt finishedAt }';
let attemptsAsList = true;

export interface JobRecord {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  changedSteps: number;
  hypervisors: string[];
  createdAt: string;
  finishedAt: string | null;
  error: { code: string; message: string; step: number | null } | null;
  hosts: Array<{
    hypervisor: string;
    state: string;
    attempts: number;
    attemptList: HostAttempt[];
    message: string;
    error: { code: string; message: string } | null;
  }>;
  rollback: Array<{ host: string; step: number; state: string; command: string | null; message: string }>;
  steps: Array<{
    index: number;
    host: string;
    description: string;
    command: string | null;
    state: string;
    changed: boolean | null;
    observed: string | null;
    wanted: string;
    exitCode: number | null;
    stderr: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  }>;
}

/** One worker's attempt at a host part (`job.hosts[].attempts`). */
export interface HostAttempt {
  number: number;
  /** The worker process, `host:pid`. */
  worker?: string;
  outcome: string;
  reason: string | null;
  startedAt?: string | null;
  endedAt: string | null;
}

/** A host part that runs now, and the worker process running it (its open attempt). */
export interface RunningPart {
  jobId: string;
  host: string;
  worker: string;
  pid: number;
  attempt: number;
}

export interface EventRecord {
  id: string;
  type: string;
  state: string;
  hypervisor: string | null;
  at: string;
  sequence?: string | null;
}

export class ApiError extends Error {
  status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface Api {
  base: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  rest(
    method: string,
    path: string,
    opts?: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<{ status: number; headers: Headers; body: any }>;
  job(id: string): Promise<JobRecord | null>;
  jobEvents(id: string): Promise<EventRecord[]>;
  /** The host parts that run now (their last attempt is RUNNING), with the worker pid of each. */
  runningParts(timeoutMs?: number): Promise<RunningPart[]>;
}

/** The pid of a worker named `host:pid`. */
export function workerPid(worker: string | undefined): number | null {
  const m = /:(\d+)$/.exec(worker ?? '');
  return m ? Number(m[1]) : null;
}

/** `graphqlUrl`: http://127.0.0.1:PORT/graphql */
export function apiClient(graphqlUrl: string, token: string): Api {
  const base = new URL(graphqlUrl).origin;
  const auth = { authorization: `Bearer ${token}` };
  async function gql<T>(query: string, variables: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const res = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...auth },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(`GraphQL HTTP ${res.status}: ${text.slice(0, 300)}`, res.status);
    }
    if (body.errors?.length)
      throw new ApiError(
        `GraphQL HTTP ${res.status}: ${body.errors.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ')}`,
        res.status,
      );
    return body.data as T;
  }
  async function rest(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}) {
    const headers: Record<string, string> = { ...auth, accept: 'application/json', ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(`/api/v1${path}`, base), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, headers: res.headers, body };
  }
  return {
    base,
    gql,
    rest,
    async job(id) {
      let d: { job: any };
      try {
        d = await gql<{ job: any }>(`query($id: ID!) { job(id: $id) { ${jobFields(attemptsAsList ? ATTEMPTS_LIST : 'attempts')} } }`, {
          id,
        });
      } catch (err) {
        if (!(err instanceof ApiError) || !/attempts/.test(err.message)) throw err;
        attemptsAsList = !attemptsAsList;
        d = await gql<{ job: any }>(`query($id: ID!) { job(id: $id) { ${jobFields(attemptsAsList ? ATTEMPTS_LIST : 'attempts')} } }`, {
          id,
        });
      }
      const j = d.job;
      if (!j) return null;
      j.id = canonicalJobId(j.id);
      for (const h of j.hosts) {
        if (Array.isArray(h.attempts)) {
          h.attemptList = h.attempts;
          h.attempts = h.attempts.length;
        } else h.attemptList = [];
      }
      return j as JobRecord;
    },
    async runningParts(timeoutMs = 1500) {
      const d = await gql<any>(
        '{ jobs(filter: { state: RUNNING }, first: 50) { nodes { id hosts { hypervisor state attempts { number worker outcome } } } } }',
        {},
        timeoutMs,
      );
      const out: RunningPart[] = [];
      for (const j of d.jobs.nodes as any[])
        for (const h of j.hosts as any[]) {
          const last = (h.attempts as any[]).at(-1);
          const pid = workerPid(last?.worker);
          if (h.state === 'RUNNING' && last?.outcome === 'RUNNING' && pid)
            out.push({ jobId: canonicalJobId(j.id), host: h.hypervisor, worker: last.worker, pid, attempt: last.number });
        }
      return out;
    },
    async jobEvents(id) {
      const r = await rest('GET', `/jobs/${id}/events`);
      if (r.status !== 200) throw new ApiError(`GET /jobs/${id}/events: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`, r.status);
      return (r.body as EventRecord[]).map((e) => ({ id: e.id, type: e.type, state: e.state, hypervisor: e.hypervisor ?? null, at: e.at }));
    },
  };
}

/** A job id as REST spells it (GraphQL answers a global id: base64 of "Job:<uuid>"). */
export function canonicalJobId(id: string): string {
  if (/^[0-9a-f-]{36}$/i.test(id)) return id.toLowerCase();
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const m = /^Job:([0-9a-f-]{36})$/i.exec(decoded);
  return m ? m[1]!.toLowerCase() : id;
}

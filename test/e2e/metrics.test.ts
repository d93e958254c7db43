import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';

/**
 * Prometheus metrics and job log context (docs/metrics.md), against the lab: a real gateway and
 * worker. Both endpoints are scraped before and after a change job on hv1 (a bridge made, then
 * removed); the expositions parse (promtool when Debian's prometheus package is installed, our
 * own reading of the format always), the counters moved, no label value is a job id or a
 * client-chosen name; /metrics refuses without a token. The processes' output (pino JSON lines)
 * shows every line that mentions the job carrying jobId and ticketRef, and host where it is about one.
 */
const labEnv = inject('labEnv');
const sfx = randomBytes(3).toString('hex');
const BR = `tm${sfx}`;
const TICKET = `CHG-M${sfx}`;
const IDEM = `metrics-test-${sfx}`;
// A client's own name for its operation: unbounded, so it must not become a label value.
const CLIENT_OPERATION_NAME = `ClientChosen${sfx}`;
const GROUP = `metrics-${sfx}`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

let tl: Trunkline;
let base: string;
let workerUrl: string;

/** One sample of an exposition. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;

/** Reads the text format (0.0.4) line by line; a line that is neither a comment nor a sample fails the test. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    const body = m![2] ?? '';
    let consumed = 0;
    for (const l of body.matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      consumed += l[0].length;
    }
    expect(consumed, `labels of ${line}`).toBe(body.length);
    const value = Number(m![3] === '+Inf' ? Infinity : m![3] === '-Inf' ? -Infinity : m![3]);
    expect(Number.isNaN(value) && m![3] !== 'NaN', `value of ${line}`).toBe(false);
    samples.push({ name: m![1]!, labels, value });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** Metric families named by HELP lines. */
const families = (text: string) => new Set([...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]!));

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// prom-client's own process metrics: gauges whose names end in _total (a known lint of promtool).
const PROM_CLIENT_LINTS = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** promtool check metrics: the exposition parses (exit 1 would say it does not); lint findings only the known ones. */
function promtoolCheck(text: string): void {
  if (!hasPromtool) return;
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const findings = `${r.stdout}${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  expect([0, 3], `promtool check metrics: ${findings.join('; ')}`).toContain(r.status);
  expect(findings.filter((f) => !PROM_CLIENT_LINTS.test(f))).toEqual([]);
}

async function scrape(url: string, token: string | null = tl.adminToken): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  promtoolCheck(text);
  return { text, samples: parseExposition(text) };
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${tl.adminToken}`, 'content-type': 'application/json', ...init.headers },
  });

/** Sends a change that must be accepted (202) and polls the job until it ends. */
async function runJob(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await api(path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
  const accepted = (await res.json()) as any;
  expect(res.status, JSON.stringify(accepted)).toBe(202);
  for (let i = 0; i < 600; i++) {
    const job = (await (await api(`/api/v1/jobs/${accepted.id}`)).json()) as any;
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${accepted.id} did not end`);
}

/** The process's pino lines (JSON objects). */
const jsonLines = (output: string): Record<string, any>[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });

beforeAll(async () => {
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}/metrics`;
  tl = await startTrunkline({
    redisUrl: inject('redisUrl'),
    inventoryPath: inject('inventoryPath'),
    env: { TRUNKLINE_WORKER_METRICS_PORT: String(port) },
    worker: false,
  });
  // The worker at debug level: its SSH round trips and steps log a line each (the gateway stays at info).
  tl.env.TRUNKLINE_LOG_LEVEL = 'debug';
  await tl.startWorker();
  base = tl.url.replace(/\/graphql$/, '');
  // Both hosts read, so the host gauges have something to say.
  const read = await gql(tl.url, '{ hypervisors(refresh: true) { name status } }');
  expect(read.data?.hypervisors?.map((h: any) => h.status)).toEqual(['REACHABLE', 'REACHABLE']);
});

afterAll(async () => {
  await labExec(labEnv, 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', BR]).catch(() => {});
  await tl?.stop();
});

describe('the endpoints', () => {
  it('the gateway’s /metrics needs a token, of every host; the worker serves its own on its port', async () => {
    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await anonymous.text()).not.toMatch(/trunkline_/);
    const bad = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tl_nope_nope' } });
    expect(bad.status).toBe(401);
    // A token limited to host groups would learn of hosts outside them: refused.
    const group = await api(`/api/v1/host-groups/${GROUP}`, { method: 'PUT', body: JSON.stringify({ hypervisors: ['hv1'] }) });
    expect(group.status, await group.text()).toBe(201);
    const scoped = await tl.issueToken({ name: `metrics-scoped-${sfx}`, role: 'viewer', hostGroups: [GROUP] });
    const refused = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${scoped}` } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    // A viewer of every host may read them.
    const viewer = await tl.issueToken({ name: `metrics-viewer-${sfx}`, role: 'viewer' });
    const gw = await scrape(`${base}/metrics`, viewer);
    expect(families(gw.text)).toContain('trunkline_http_requests_total');
    expect(families(gw.text)).toContain('process_cpu_user_seconds_total');
    const wk = await scrape(workerUrl, null);
    expect(families(wk.text)).toContain('trunkline_ssh_round_trips_total');
    // The worker's webhook process answers through the worker's port.
    expect(total(wk.samples, 'trunkline_webhook_process_up')).toBe(1);
    expect(families(wk.text)).toContain('trunkline_webhook_attempts_total');
    expect((await fetch(workerUrl.replace(/\/metrics$/, '/other'))).status).toBe(404);
  });
});

describe('a job moves the counters and its log lines carry its context', () => {
  const jobs: any[] = [];
  let gwBefore: Sample[];
  let wkBefore: Sample[];
  let gwAfter: { text: string; samples: Sample[] };
  let wkAfter: { text: string; samples: Sample[] };

  beforeAll(async () => {
    gwBefore = (await scrape(`${base}/metrics`)).samples;
    wkBefore = (await scrape(workerUrl, null)).samples;
    jobs.push(await runJob('POST', '/api/v1/hypervisors/hv1/bridges', { name: BR, ticketRef: TICKET }, { 'idempotency-key': IDEM }));
    // A GraphQL query under a name of the client's own.
    const res = await fetch(tl.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${tl.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `query ${CLIENT_OPERATION_NAME} { hypervisors { name } }`, operationName: CLIENT_OPERATION_NAME }),
    });
    expect(res.status).toBe(200);
    // The cleanup is a job too.
    jobs.push(await runJob('DELETE', `/api/v1/hypervisors/hv1/bridges/${BR}?ticketRef=${TICKET}`));
    gwAfter = await scrape(`${base}/metrics`);
    wkAfter = await scrape(workerUrl, null);
  });

  it('both jobs succeeded on hv1, and the bridge is gone again', async () => {
    expect(jobs.map((j) => [j.kind, j.state, j.ticketRef])).toEqual([
      ['createBridge', 'SUCCEEDED', TICKET],
      ['deleteBridge', 'SUCCEEDED', TICKET],
    ]);
    expect((await labExec(labEnv, 'hv1', ['ovs-vsctl', 'br-exists', BR])).code).toBe(2);
  });

  it('the gateway counted the REST and GraphQL requests and the jobs it accepted; its gauges read the queues and hosts', () => {
    const moved = (name: string, labels: Record<string, string>) => total(gwAfter.samples, name, labels) - total(gwBefore, name, labels);
    expect(moved('trunkline_jobs_accepted_total', { kind: 'createBridge' })).toBe(1);
    expect(moved('trunkline_jobs_accepted_total', { kind: 'deleteBridge' })).toBe(1);
    expect(moved('trunkline_rest_requests_total', { operation: 'createBridge', status: '202' })).toBe(1);
    expect(moved('trunkline_rest_requests_total', { operation: 'deleteBridge', status: '202' })).toBe(1);
    expect(moved('trunkline_rest_requests_total', { operation: 'getJob', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(moved('trunkline_rest_request_duration_seconds_count', { operation: 'createBridge' })).toBe(1);
    expect(moved('trunkline_http_requests_total', { route: 'rest', method: 'POST', status: '202' })).toBe(1);
    // Scrapes count as requests too.
    expect(moved('trunkline_http_requests_total', { route: 'metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    // The GraphQL query by its root field, whatever the client called it.
    const query = { operation_type: 'query', operation: 'hypervisors' };
    expect(moved('trunkline_graphql_operations_total', { ...query, outcome: 'ok' })).toBe(1);
    expect(moved('graphql_envelop_request_total', query)).toBe(1);
    expect(moved('graphql_envelop_request_duration_seconds_count', query)).toBe(1);
    expect(moved('graphql_envelop_phase_duration_seconds_count', { phase: 'execute', operation_type: 'query' })).toBe(1);
    expect(moved('graphql_yoga_http_duration_seconds_count', { ...query, method: 'POST', status_code: '200' })).toBe(1);
    // Read when scraped: BullMQ's counts, the host state cache.
    expect(
      gwAfter.samples.some((s) => s.name === 'trunkline_queue_jobs' && s.labels.queue === 'changes' && s.labels.state === 'completed'),
    ).toBe(true);
    expect(gwAfter.samples.some((s) => s.name === 'trunkline_queue_jobs' && s.labels.queue === 'webhooks')).toBe(true);
    expect(total(gwAfter.samples, 'trunkline_hosts_registered')).toBe(2);
    expect(total(gwAfter.samples, 'trunkline_host_reachable', { host: 'hv1' })).toBe(1);
    expect(total(gwAfter.samples, 'trunkline_host_state_stale', { host: 'hv1' })).toBe(0);
    expect(gwAfter.samples.filter((s) => s.name === 'trunkline_host_state_age_seconds').map((s) => s.labels.host)).toEqual(['hv1', 'hv2']);
  });

  it('the worker counted the jobs, their host parts and steps, the SSH round trips to hv1, the queue waits and the lock', () => {
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(wkAfter.samples, name, labels) - total(wkBefore, name, labels);
    for (const kind of ['createBridge', 'deleteBridge']) {
      expect(moved('trunkline_jobs_finished_total', { kind, state: 'SUCCEEDED' }), kind).toBe(1);
      expect(moved('trunkline_job_duration_seconds_count', { kind, state: 'SUCCEEDED' }), kind).toBe(1);
      expect(moved('trunkline_host_parts_total', { kind, state: 'SUCCEEDED' }), kind).toBe(1);
    }
    expect(moved('trunkline_steps_total', { step_kind: 'ovs-bridge', outcome: 'changed' })).toBe(2);
    expect(moved('trunkline_step_duration_seconds_count', { step_kind: 'ovs-bridge' })).toBe(2);
    expect(moved('trunkline_step_failures_total')).toBe(0);
    // A read to plan from, the change, the verification with the re-read: a few round trips per job.
    expect(moved('trunkline_ssh_round_trips_total', { host: 'hv1', outcome: 'ok' })).toBeGreaterThanOrEqual(4);
    expect(moved('trunkline_ssh_round_trip_seconds_count', { host: 'hv1' })).toBeGreaterThanOrEqual(4);
    expect(moved('trunkline_ssh_commands_total', { host: 'hv1' })).toBeGreaterThanOrEqual(
      moved('trunkline_ssh_round_trips_total', { host: 'hv1' }),
    );
    expect(moved('trunkline_ssh_round_trips_total', { host: 'hv2' })).toBe(0);
    expect(moved('trunkline_queue_wait_seconds_count', { name: 'hostSteps' })).toBe(2);
    expect(moved('trunkline_host_lock_wait_seconds_count')).toBe(2);
    expect(total(wkAfter.samples, 'trunkline_worker_concurrency')).toBeGreaterThan(0);
  });

  it('no label value is a job id, a ticket, an idempotency key or the client’s operation name', () => {
    for (const { text, samples } of [gwAfter, wkAfter]) {
      for (const s of samples)
        for (const [k, v] of Object.entries(s.labels)) {
          expect(UUID.test(v), `${s.name} ${k}="${v}"`).toBe(false);
          expect(
            [TICKET, IDEM, CLIENT_OPERATION_NAME, BR].some((x) => v.includes(x)),
            `${s.name} ${k}="${v}"`,
          ).toBe(false);
        }
      for (const j of jobs) expect(text).not.toContain(j.id);
    }
  });

  it('the gateway logged each acceptance with the job’s id, kind, hosts, ticketRef and idempotency key', () => {
    const lines = jsonLines(tl.gateway.output());
    const accepted = lines.filter((l) => l.msg === 'job accepted' && jobs.some((j) => j.id === l.jobId));
    expect(accepted.map((l) => [l.jobId, l.kind, l.hosts, l.ticketRef, l.idempotencyKey])).toEqual([
      [jobs[0].id, 'createBridge', ['hv1'], TICKET, IDEM],
      [jobs[1].id, 'deleteBridge', ['hv1'], TICKET, null],
    ]);
  });

  it('every line that mentions a job carries its jobId and ticketRef (and host where about one); SSH and step lines too', () => {
    const worker = jsonLines(tl.worker!.output());
    const gateway = jsonLines(tl.gateway.output());
    for (const job of jobs) {
      const mention = (l: Record<string, any>) => JSON.stringify(l).includes(job.id);
      const all = [...gateway, ...worker].filter(mention);
      expect(all.length).toBeGreaterThan(3);
      for (const l of all) {
        expect(l.jobId, JSON.stringify(l)).toBe(job.id);
        expect(l.ticketRef, JSON.stringify(l)).toBe(TICKET);
        expect(l.kind, JSON.stringify(l)).toBe(job.kind);
        // The old field name is gone.
        expect(l.job, JSON.stringify(l)).toBeUndefined();
        if (l.msg !== 'job accepted' && l.msg !== 'job ended') expect(l.host, JSON.stringify(l)).toBe('hv1');
      }
      const ofJob = worker.filter((l) => l.jobId === job.id);
      const said = new Set(ofJob.map((l) => l.msg));
      for (const msg of ['host part started', 'ssh round trip', 'step finished', 'host part finished', 'job ended'])
        expect(said.has(msg), `${job.kind}: "${msg}" among ${[...said].join(', ')}`).toBe(true);
      // Every SSH round trip of the job's part is the part's.
      expect(ofJob.filter((l) => l.msg === 'ssh round trip').every((l) => l.host === 'hv1' && l.commands >= 1)).toBe(true);
      expect(ofJob.find((l) => l.msg === 'step finished')).toMatchObject({ host: 'hv1', stepKind: 'ovs-bridge', outcome: 'changed' });
    }
    // The refresh before the tests is a job of its own (no ticket): its reads' lines say so.
    const reads = worker.filter((l) => l.msg === 'ssh round trip' && l.kind === 'refreshHypervisor');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((l) => UUID.test(l.jobId) && l.ticketRef === null && ['hv1', 'hv2'].includes(l.host))).toBe(true);
  });
});

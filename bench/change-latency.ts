/**
 * Benchmark: how long a one-step change takes end to end through Trunkline, compared with what
 * an operator's script does (a fresh `ssh HOST sudo ovs-vsctl ...` per change), and how many
 * small changes per second two workers get through.
 *
 *   node bench/change-latency.ts        (npm run bench:changes; root, like the lab)
 *
 * Brings up its own lab (LAB_NAME=tlk, LAB_NET=8 = 198.18.8.0/24, two hosts) and a private
 * redis-server on loopback, then the REAL gateway and TWO REAL worker processes
 * (`node gateway/main.ts` / `workers/main.ts`, NODE_ENV=production, log level
 * warn, no scheduled refresh) on a private key prefix. Through the public GraphQL API only:
 *   setup       createBridge ovsbr0 on hv1 and hv2, `hypervisors(refresh: true)`, addPort lat0..lat2
 *   latency     setPortVlans on hv1's lat0 with the tag alternating 101/102 (every run changes the
 *               host: checked with the STEP_FINISHED event's step.changed and the job's
 *               changedSteps), from sending the mutation to receiving the SUCCEEDED event of the
 *               job's jobProgress subscription (SSE). Interleaved run by run with the same change
 *               as a fresh `ssh -i KEY ... trunkline@HOST sudo -n -- ovs-vsctl ...` process (port
 *               lat1) and over an already-open pooled connection (SshPool.exec, port lat2).
 *   breakdown   where the Trunkline time goes, from the events' `at` timestamps, plus the probe,
 *               change and host read measured on their own over the pooled connection.
 *   throughput  BENCH_CHANGES addPort jobs (internal ports tp001.., alternating hv1/hv2) submitted
 *               as fast as the gateway takes them; time until every job SUCCEEDED (job records'
 *               finishedAt; followed with the jobEvents subscription), failures.
 *   teardown    deleteBridge ovsbr0 on both hosts (removes every port), then everything it
 *               started: processes, Redis keys, redis-server, lab, also after a failure or Ctrl-C.
 * All traffic goes to 127.0.0.1 and the lab's namespaces. Prints tables and writes JSON to
 * .trunkline/bench/change-latency.json. Figures only: nothing here fails on timing.
 *
 * Env: BENCH_RUNS (30) timed runs per method after BENCH_WARMUPS (5);
 *      BENCH_CHANGES (200) jobs in the throughput run, BENCH_SUBMIT_CONCURRENCY (32) mutations
 *      in flight while submitting them; TRUNKLINE_SSH_* / TRUNKLINE_WORKER_CONCURRENCY reach the
 *      workers (and the benchmark's own pool) unchanged.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { readHostState } from '../src/hosts/read-host-state.ts';
import type { Host } from '../src/inventory/host-registry.ts';
import { InventoryFileSource } from '../src/inventory/inventory-file.ts';
import { createLogger } from '../src/log/logger.ts';
import { setPortVlansArgv } from '../src/ovs/commands.ts';
import { snapshotArgv } from '../src/ovs/snapshot.ts';
import { toShellCommand } from '../src/ssh/quote.ts';
import { SshPool } from '../src/ssh/ssh-pool.ts';
import { gql, subscribeSse } from '../test/support/graphql-client.ts';
import { mutate } from './support/mutate.ts';
import { labSshArgs } from '../test/support/ssh-args.ts';
import type { LabEnv } from '../test/support/lab.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { freshLab } from './support/fresh-lab.ts';
import { startRedisServer } from './support/redis-server.ts';
import { describeGit, machine, writeResults } from './support/results.ts';
import { fmt, percentile, round, summarize, table, type Summary } from './support/stats.ts';
import { startBenchDeployment } from './support/trunkline-process.ts';
import { envInt } from './support/env.ts';

const RUNS = envInt('BENCH_RUNS', 30);
const WARMUPS = envInt('BENCH_WARMUPS', 5, 0);
const CHANGES = envInt('BENCH_CHANGES', 200, 2);
const SUBMIT_CONCURRENCY = envInt('BENCH_SUBMIT_CONCURRENCY', 32);
const TARGET_RATIO = 1.5;
const JOB_DEADLINE_MS = 60_000;
const THROUGHPUT_DEADLINE_MS = 15 * 60_000;

const LAB: LabEnv = { LAB_NAME: 'tlk', LAB_NET: '8', LAB_HOSTS: '2' };
const LAB_DIR = `/run/trunkline/lab-${LAB.LAB_NAME}`;
const INVENTORY_PATH = `${LAB_DIR}/inventory.json`;
const KNOWN_HOSTS = `${LAB_DIR}/known_hosts`;
const LATENCY_HOST = 'hv1';
/** Trunkline, bare ssh and the pooled connection each change their own port (all on hv1). */
const PORT = { trunkline: 'lat0', ssh: 'lat1', pool: 'lat2' } as const;
const TAGS = [101, 102] as const;

const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[change-latency] ${s}`);
const execFileP = promisify(execFile);
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

interface ProgressEvent {
  type: string;
  at: string;
  state: string;
  step: { changed: boolean | null; durationMs: number | null } | null;
  error: { code: string; message: string } | null;
}

const PROGRESS_SUBSCRIPTION =
  'subscription($id: ID!) { jobProgress(id: $id) { type at state step { changed durationMs } error { code message } } }';

// ---- GraphQL helpers (the public API, as a script would use it) -------------------------------

/** Follows a job with jobProgress until it ends; returns every event with the wall time it arrived. */
async function follow(url: string, jobId: string, onTerminal?: () => void): Promise<Array<ProgressEvent & { receivedAt: number }>> {
  const events: Array<ProgressEvent & { receivedAt: number }> = [];
  for await (const msg of subscribeSse<{ jobProgress: ProgressEvent }>(
    url,
    PROGRESS_SUBSCRIPTION,
    { id: jobId },
    AbortSignal.timeout(JOB_DEADLINE_MS),
  )) {
    if (msg.errors || !msg.data) throw new Error(`jobProgress ${jobId}: ${JSON.stringify(msg.errors)}`);
    const e = msg.data.jobProgress;
    events.push({ ...e, receivedAt: Date.now() });
    // Timed here; the loop goes on to the server's `complete` so the connection can be reused.
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.type)) onTerminal?.();
  }
  return events;
}

/** Runs a change to its end (used for setup and teardown, not timed). */
async function apply(url: string, name: string, input: Record<string, unknown>): Promise<void> {
  const id = await mutate(url, name, input);
  const events = await follow(url, id);
  const last = events.at(-1);
  if (last?.type !== 'SUCCEEDED')
    throw new Error(`${name} ${JSON.stringify(input)}: job ended ${last?.type}: ${JSON.stringify(last?.error)}`);
}

// ---- one timed change per method -----------------------------------------------------------------
interface TrunklineRun {
  totalMs: number;
  changed: boolean;
  sentAt: number;
  respondedAt: number;
  firstEventAt: number;
  receivedAt: number;
  at: Record<string, number>;
  stepDurationMs: number | null;
}

async function trunklineChange(url: string, tag: number): Promise<TrunklineRun> {
  const sentAt = Date.now();
  const t0 = performance.now();
  let t1 = NaN;
  const id = await mutate(url, 'setPortVlans', { hypervisor: LATENCY_HOST, name: PORT.trunkline, tag });
  const respondedAt = Date.now();
  const events = await follow(url, id, () => (t1 = performance.now()));
  const terminal = events.at(-1)!;
  if (terminal.type !== 'SUCCEEDED') throw new Error(`setPortVlans job ${id} ended ${terminal.type}: ${JSON.stringify(terminal.error)}`);
  const at: Record<string, number> = {};
  for (const e of events) at[e.type] ??= ms(e.at);
  const finished = events.find((e) => e.type === 'STEP_FINISHED');
  // changedSteps from the job record too: both must say the host was changed.
  const job = (await gql(url, 'query($id: ID!) { job(id: $id) { changedSteps } }', { id })).data?.job;
  return {
    totalMs: t1 - t0,
    changed: finished?.step?.changed === true && job?.changedSteps === 1,
    sentAt,
    respondedAt,
    firstEventAt: events[0]!.receivedAt,
    receivedAt: terminal.receivedAt,
    at,
    stepDurationMs: finished?.step?.durationMs ?? null,
  };
}

function sshArgs(host: Host): string[] {
  return labSshArgs({ identity: host.privateKeyPath, knownHosts: KNOWN_HOSTS, user: host.user, address: host.address, port: host.port });
}

/** The same ovs-vsctl command the worker runs for setPortVlans (tag, trunks and vlan_mode set). */
const changeArgv = (port: string, tag: number) => setPortVlansArgv(port, { tag, trunks: [], vlanMode: null });

async function bareSshChange(host: Host, tag: number): Promise<number> {
  const remote = toShellCommand(['sudo', '-n', '--', ...changeArgv(PORT.ssh, tag)]);
  const t0 = performance.now();
  await execFileP('ssh', [...sshArgs(host), remote], { timeout: 30_000 });
  return performance.now() - t0;
}

async function pooledChange(pool: SshPool, host: Host, tag: number): Promise<number> {
  const t0 = performance.now();
  const r = await pool.exec(host, changeArgv(PORT.pool, tag));
  const t = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`pooled change exited ${r.exitCode}: ${r.stderr}`);
  return t;
}

async function tagOf(pool: SshPool, host: Host, port: string): Promise<string> {
  const r = await pool.exec(host, ['ovs-vsctl', '--timeout=10', 'get', 'Port', port, 'tag']);
  return r.stdout.trim();
}

// ---- throughput: following every job's end over one jobEvents subscription ----------------------
interface EndEvent {
  type: string;
  at: string;
  receivedAt: number;
}

function followAllJobs(url: string, signal: AbortSignal) {
  const ended = new Map<string, EndEvent>();
  const waits = new Map<string, number>();
  let waiter: (() => void) | undefined;
  let failure: unknown;
  const done = (async () => {
    const query = 'subscription { jobEvents(filter: { types: [SUCCEEDED, FAILED, CANCELLED, WAITING] }) { type at job { id } } }';
    for await (const msg of subscribeSse<{ jobEvents: { type: string; at: string; job: { id: string } | null } }>(url, query, {}, signal)) {
      const e = msg.data?.jobEvents;
      if (!e?.job) continue;
      if (e.type === 'WAITING') waits.set(e.job.id, (waits.get(e.job.id) ?? 0) + 1);
      else ended.set(e.job.id, { type: e.type, at: e.at, receivedAt: Date.now() });
      waiter?.();
    }
  })().catch((err) => {
    if (!signal.aborted) failure = err;
    waiter?.();
  });
  return {
    ended,
    waits,
    done,
    /** Resolves when every id has ended (or rejects at the deadline / on a stream failure). */
    async waitFor(ids: readonly string[], deadlineMs: number): Promise<void> {
      const until = Date.now() + deadlineMs;
      while (!ids.every((id) => ended.has(id))) {
        if (failure) throw failure;
        const left = until - Date.now();
        if (left <= 0)
          throw new Error(`${ids.filter((id) => !ended.has(id)).length} of ${ids.length} jobs not ended after ${deadlineMs} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 1000));
          waiter = () => {
            clearTimeout(t);
            r();
          };
        });
        waiter = undefined;
      }
    },
  };
}

interface JobRow {
  id: string;
  state: string;
  hypervisors: string[];
  changedSteps: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  steps: Array<{ startedAt: string | null; finishedAt: string | null; durationMs: number | null }>;
}

/** Every job of a kind, through jobs(filter:) pages of 100. */
async function listJobs(url: string, kind: string): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  let after: string | null = null;
  for (;;) {
    const res: { data?: any; errors?: unknown[] } = await gql(
      url,
      'query($after: String, $kind: JobKind) { jobs(first: 100, after: $after, filter: { kind: $kind }) { nodes { id state hypervisors changedSteps createdAt startedAt finishedAt error { code message } steps { startedAt finishedAt durationMs } } pageInfo { hasNextPage endCursor } } }',
      { after, kind },
    );
    if (res.errors) throw new Error(`jobs: ${JSON.stringify(res.errors)}`);
    rows.push(...res.data.jobs.nodes);
    if (!res.data.jobs.pageInfo.hasNextPage) return rows;
    after = res.data.jobs.pageInfo.endCursor;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const p = (xs: number[], q: number) => percentile(xs.filter(Number.isFinite), q);

// ---- main --------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const config = loadConfig();
  log(`# change-latency: one-step changes through Trunkline vs ssh + ovs-vsctl, and throughput (${new Date().toISOString()})`);
  log(
    `lab ${LAB.LAB_NAME} (198.18.${LAB.LAB_NET}.0/24, ${LAB.LAB_HOSTS} hosts); real gateway + 2 real workers (concurrency ${config.worker.concurrency} each), NODE_ENV=production, log level warn`,
  );
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs; other work on the machine shows up in the figures)`,
  );
  log(describeGit());
  log(
    `latency: ${RUNS} timed runs per method after ${WARMUPS} warm-ups, interleaved run by run; throughput: ${CHANGES} addPort jobs, ${SUBMIT_CONCURRENCY} mutations in flight`,
  );
  log();

  // ---- lab, Redis, processes ---------------------------------------------------------------------
  step('lab down (leftovers), lab up');
  await freshLab(LAB, step);
  const hosts = new Map((await new InventoryFileSource(INVENTORY_PATH).load()).hypervisors.map((h) => [h.name, h as Host]));
  const hv1 = hosts.get(LATENCY_HOST);
  if (!hv1 || !hosts.has('hv2')) throw new Error(`${INVENTORY_PATH}: expected hv1 and hv2`);

  step('private redis-server');
  const redisServer = await startRedisServer();
  step('gateway and two workers');
  const { url } = await startBenchDeployment({
    redisUrl: redisServer.url,
    inventoryPath: INVENTORY_PATH,
    report: (deleted, left, prefix) => step(`redis keys: deleted ${deleted} keys of ${prefix}; ${left} left`),
  });

  const pool = new SshPool({ ...config.ssh, logger: createLogger('trunkline-bench', 'silent') });
  onCleanup('ssh pool', () => pool.close());

  // ---- setup through the API -----------------------------------------------------------------------
  step('createBridge ovsbr0 on hv1 and hv2, hypervisors(refresh: true), addPort lat0..lat2');
  await Promise.all(['hv1', 'hv2'].map((h) => apply(url, 'createBridge', { hypervisor: h, name: 'ovsbr0' })));
  const refreshed = await gql(url, '{ hypervisors(refresh: true) { name status } }');
  if (refreshed.errors) throw new Error(`hypervisors(refresh: true): ${JSON.stringify(refreshed.errors)}`);
  log(
    `hypervisors(refresh: true): ${refreshed.data.hypervisors.map((h: { name: string; status: string }) => `${h.name} ${h.status}`).join(', ')}`,
  );
  for (const name of Object.values(PORT)) await apply(url, 'addPort', { hypervisor: LATENCY_HOST, name, type: 'INTERNAL', tag: 100 });

  // ---- latency, interleaved ----------------------------------------------------------------------
  await pool.exec(hv1, ['true'], { sudo: false }); // the pooled connection is open before timing
  const tl: TrunklineRun[] = [];
  const ssh: number[] = [];
  const floor: number[] = [];
  const total = WARMUPS + RUNS;
  let notChanged = 0;
  for (let i = 0; i < total; i++) {
    if (i === WARMUPS) step(`latency: ${RUNS} timed runs of each method`);
    else if (i === 0) step(`latency: ${WARMUPS} warm-up runs`);
    const tag = TAGS[i % 2]!;
    const run = await trunklineChange(url, tag);
    const bare = await bareSshChange(hv1, tag);
    const pooledMs = await pooledChange(pool, hv1, tag);
    if (!run.changed) notChanged++;
    if (i < WARMUPS) continue;
    tl.push(run);
    ssh.push(bare);
    floor.push(pooledMs);
  }
  const lastTag = String(TAGS[(total - 1) % 2]);
  const finalTags = await Promise.all(Object.values(PORT).map((pt) => tagOf(pool, hv1, pt)));
  const hostsAsWanted = finalTags.every((t) => t === lastTag);

  // Parts of a job's work measured alone on the pooled connection, to split the worker's time.
  step('probe, change and host read alone over the pooled connection');
  const alone: Record<string, number[]> = { probe: [], change: [], readHostState: [] };
  for (let i = 0; i < 22; i++) {
    let t = performance.now();
    await pool.exec(hv1, snapshotArgv());
    if (i >= 2) alone.probe!.push(performance.now() - t);
    t = performance.now();
    await pool.exec(hv1, changeArgv(PORT.pool, TAGS[i % 2]!));
    if (i >= 2) alone.change!.push(performance.now() - t);
  }
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    const s = await readHostState(pool, hv1, null, config.ssh.commandTimeoutMs);
    if (s.error) throw new Error(`readHostState: ${s.error.message}`);
    if (i >= 2) alone.readHostState!.push(performance.now() - t);
  }

  // ---- throughput --------------------------------------------------------------------------------
  step(`throughput: ${CHANGES} addPort jobs over hv1 and hv2`);
  const stream = new AbortController();
  onCleanup('jobEvents stream', () => stream.abort());
  const all = followAllJobs(url, stream.signal);
  // A job whose end the stream reports proves the subscription is live before the timed part.
  const probeId = await mutate(url, 'addPort', { hypervisor: 'hv1', name: 'tpw', type: 'INTERNAL', tag: 1001 });
  await all.waitFor([probeId], JOB_DEADLINE_MS);
  const inputs = Array.from({ length: CHANGES }, (_, i) => ({
    hypervisor: i % 2 === 0 ? 'hv1' : 'hv2',
    name: `tp${String(i + 1).padStart(3, '0')}`,
    type: 'INTERNAL',
    tag: 1001 + (Math.floor(i / 2) % 2),
  }));
  const submitStart = Date.now();
  const t0 = performance.now();
  const submitted = await pooled(inputs, SUBMIT_CONCURRENCY, async (input) => {
    const s = performance.now();
    const id = await mutate(url, 'addPort', input);
    return { id, ms: performance.now() - s };
  });
  const submitMs = performance.now() - t0;
  const ids = submitted.map((s) => s.id);
  await all.waitFor(ids, THROUGHPUT_DEADLINE_MS);
  const observedMs = performance.now() - t0;
  stream.abort();
  const rows = new Map((await listJobs(url, 'addPort')).map((r) => [r.id, r]));
  const jobs = ids.map((id) => rows.get(id)).filter((r): r is JobRow => r !== undefined);
  const succeeded = jobs.filter((j) => j.state === 'SUCCEEDED');
  const failed = jobs.filter((j) => j.state !== 'SUCCEEDED');
  const unchanged = succeeded.filter((j) => j.changedSteps !== 1).length;
  const lastFinished = Math.max(...jobs.map((j) => ms(j.finishedAt)));
  const throughputWallMs = lastFinished - submitStart;
  const portsOnHosts = await Promise.all(
    ['hv1', 'hv2'].map(
      async (h) =>
        (await pool.exec(hosts.get(h)!, ['ovs-vsctl', '--timeout=10', 'list-ports', 'ovsbr0'])).stdout
          .split('\n')
          .filter((l) => /^tp\d{3}$/.test(l)).length,
    ),
  );

  // Per host: time the host lock was held by a step, the gaps between steps, the refresh after.
  const perHost = ['hv1', 'hv2'].map((h) => {
    const mine = succeeded.filter((j) => j.hypervisors.includes(h)).sort((a, b) => ms(a.steps[0]?.startedAt) - ms(b.steps[0]?.startedAt));
    const stepMs = mine.map((j) => ms(j.steps[0]?.finishedAt) - ms(j.steps[0]?.startedAt));
    const gaps = mine.slice(1).map((j, k) => ms(j.steps[0]?.startedAt) - ms(mine[k]!.steps[0]?.finishedAt));
    const first = ms(mine[0]?.steps[0]?.startedAt);
    const last = ms(mine.at(-1)?.steps[0]?.finishedAt);
    return { host: h, jobs: mine.length, spanMs: last - first, stepBusyMs: sumOf(stepMs), stepMs, gaps };
  });
  const queueWait = succeeded.map((j) => ms(j.startedAt) - ms(j.createdAt));
  const startToStep = succeeded.map((j) => ms(j.steps[0]?.startedAt) - ms(j.startedAt));
  const refreshTail = succeeded.map((j) => ms(j.finishedAt) - ms(j.steps[0]?.finishedAt));
  const endToEnd = succeeded.map((j) => ms(j.finishedAt) - ms(j.createdAt));
  const waitingJobs = ids.filter((id) => (all.waits.get(id) ?? 0) > 0).length;

  // ---- teardown through the API ----------------------------------------------------------------------
  step('deleteBridge ovsbr0 on hv1 and hv2');
  await Promise.all(['hv1', 'hv2'].map((h) => apply(url, 'deleteBridge', { hypervisor: h, name: 'ovsbr0' })));
  const bridgesLeft = await Promise.all(
    ['hv1', 'hv2'].map(async (h) => (await pool.exec(hosts.get(h)!, ['ovs-vsctl', '--timeout=10', 'list-br'])).stdout.trim()),
  );

  // ---- output --------------------------------------------------------------------------------------
  const tlS = summarize(tl.map((r) => r.totalMs));
  const sshS = summarize(ssh);
  const floorS = summarize(floor);
  const ratio = tlS.p50 / sshS.p50;
  const met = ratio <= TARGET_RATIO;
  const row = (label: string, s: Summary) => [
    label,
    s.n,
    fmt(s.min),
    fmt(s.p50),
    fmt(s.p90),
    fmt(s.max),
    `${(s.p50 / sshS.p50).toFixed(2)}x`,
  ];
  log(`## Latency of one change on ${LATENCY_HOST} (set Port tag 101 <-> 102), ${RUNS} runs each, interleaved`);
  log(
    table(
      ['method', 'runs', 'min ms', 'p50 ms', 'p90 ms', 'max ms', 'p50 vs bare ssh'],
      [
        row('Trunkline: setPortVlans mutation -> SUCCEEDED on jobProgress (SSE)', tlS),
        row('bare: fresh `ssh ... sudo -n -- ovs-vsctl set Port ...` process', sshS),
        row('floor: the same command over an open connection (SshPool.exec)', floorS),
      ],
    ),
  );
  log(
    `every Trunkline run changed the host (step.changed and changedSteps = 1): ${notChanged === 0 ? 'yes' : `NO, ${notChanged} of ${total} runs did not`}; final tags on lat0/lat1/lat2 = ${finalTags.join('/')} (wanted ${lastTag}): ${hostsAsWanted ? 'ok' : 'WRONG'}`,
  );
  log();
  log(
    `Trunkline p50 / bare-ssh p50 = ${fmt(tlS.p50)} / ${fmt(sshS.p50)} ms = ${ratio.toFixed(2)}x. Target (issue): <= ${TARGET_RATIO}x -> ${met ? 'MET' : 'NOT MET'}.`,
  );
  log();

  const phases: Array<[string, (r: TrunklineRun) => number]> = [
    ['gateway: request sent -> job recorded (validate, plan from cache, QUEUED)', (r) => r.at.QUEUED! - r.sentAt],
    ['queue: recorded -> its host part STARTED (flow add, BullMQ pickup, load record)', (r) => r.at.STARTED! - r.at.QUEUED!],
    ['host part: STARTED -> STEP_STARTED (registry, host lock, probe round)', (r) => r.at.STEP_STARTED! - r.at.STARTED!],
    ['step: change round + verify round (STEP_STARTED -> STEP_FINISHED)', (r) => r.at.STEP_FINISHED! - r.at.STEP_STARTED!],
    [
      'host part end: store the re-read (done in the verify batch), release the lock (STEP_FINISHED -> HOST_FINISHED)',
      (r) => r.at.HOST_FINISHED! - r.at.STEP_FINISHED!,
    ],
    [
      'flow parent: last host part done -> SUCCEEDED (BullMQ moves the parent, a worker settles it)',
      (r) => r.at.SUCCEEDED! - r.at.HOST_FINISHED!,
    ],
    ['delivery: SUCCEEDED recorded -> client has the SSE event', (r) => r.receivedAt - r.at.SUCCEEDED!],
  ];
  const phaseP50 = phases.map(([label, f]) => ({ label, values: tl.map(f) }));
  const sumP50 = sumOf(phaseP50.map((x) => p(x.values, 50)));
  log(`## Where the Trunkline time goes (event \`at\` timestamps, ms resolution; ${RUNS} runs)`);
  log(
    table(
      ['phase', 'p50 ms', 'p90 ms', 'share of p50 sum'],
      [
        ...phaseP50.map((x) => [x.label, fmt(p(x.values, 50)), fmt(p(x.values, 90)), `${Math.round((100 * p(x.values, 50)) / sumP50)}%`]),
        ['sum of the p50s', fmt(sumP50), '', ''],
        ['end to end (measured)', fmt(tlS.p50), fmt(tlS.p90), ''],
      ],
    ),
  );
  log(
    table(
      ['side measurements', 'p50 ms', 'p90 ms'],
      [
        [
          'mutation response at the client (after QUEUED + BullMQ add)',
          fmt(
            p(
              tl.map((r) => r.respondedAt - r.sentAt),
              50,
            ),
          ),
          fmt(
            p(
              tl.map((r) => r.respondedAt - r.sentAt),
              90,
            ),
          ),
        ],
        [
          'mutation response -> first jobProgress event (subscription set-up, replay)',
          fmt(
            p(
              tl.map((r) => r.firstEventAt - r.respondedAt),
              50,
            ),
          ),
          fmt(
            p(
              tl.map((r) => r.firstEventAt - r.respondedAt),
              90,
            ),
          ),
        ],
        [
          'step durationMs in the job record',
          fmt(
            p(
              tl.map((r) => r.stepDurationMs ?? NaN),
              50,
            ),
          ),
          fmt(
            p(
              tl.map((r) => r.stepDurationMs ?? NaN),
              90,
            ),
          ),
        ],
        [
          'alone, pooled: the probe (the OVS snapshot: ovs-vsctl list Bridge/Port/Interface, JSON)',
          fmt(p(alone.probe!, 50)),
          fmt(p(alone.probe!, 90)),
        ],
        ['alone, pooled: the change (ovs-vsctl set Port)', fmt(p(alone.change!, 50)), fmt(p(alone.change!, 90))],
        ['alone, pooled: readHostState(hv1) (the refresh read)', fmt(p(alone.readHostState!, 50)), fmt(p(alone.readHostState!, 90))],
      ],
    ),
  );
  const stepEst = 2 * p(alone.probe!, 50) + p(alone.change!, 50);
  log(
    `The host part runs 3 round trips in sequence (probe, change, probe again): ~${fmt(stepEst)} ms by the figures above; the last one also re-reads the host (the OVS snapshot it shares with the verification, plus the known objects' XML).`,
  );
  log(
    `Trunkline does more than the bare command: it checks before and after (2 extra execs) and re-reads the whole host before it reports SUCCEEDED.`,
  );
  log();

  const c = summarize(submitted.map((s) => s.ms));
  log(
    `## Throughput: ${CHANGES} addPort jobs (internal ports, ${CHANGES / 2} per host), 2 workers, submitted ${SUBMIT_CONCURRENCY} at a time`,
  );
  log(
    table(
      ['figure', 'value'],
      [
        [
          'submitting all mutations',
          `${fmt(submitMs)} ms (${(CHANGES / (submitMs / 1000)).toFixed(1)} mutations/s; per mutation p50 ${fmt(c.p50)} ms, p90 ${fmt(c.p90)} ms)`,
        ],
        ['first mutation sent -> last job finished (records)', `${fmt(throughputWallMs)} ms`],
        ['changes per second', `${(CHANGES / (throughputWallMs / 1000)).toFixed(2)}`],
        ['first mutation sent -> last SUCCEEDED seen on jobEvents', `${fmt(observedMs)} ms`],
        ['succeeded / failed / missing', `${succeeded.length} / ${failed.length} / ${CHANGES - jobs.length}`],
        ['succeeded without changing the host', `${unchanged}`],
        ['tp ports on hv1 / hv2 afterwards', portsOnHosts.join(' / ')],
        ['jobs that had to wait for a host lock (WAITING events)', `${waitingJobs}`],
      ],
    ),
  );
  for (const f of failed.slice(0, 5)) log(`  failed: ${f.id} ${f.state} ${f.error?.code}: ${f.error?.message}`);
  log(
    table(
      ['per job (records)', 'p50 ms', 'p90 ms', 'max ms'],
      [
        ['created -> STARTED by a worker (queue wait)', fmt(p(queueWait, 50)), fmt(p(queueWait, 90)), fmt(Math.max(...queueWait))],
        ['STARTED -> step started (host lock wait)', fmt(p(startToStep, 50)), fmt(p(startToStep, 90)), fmt(Math.max(...startToStep))],
        [
          'step (probe + apply + verify, lock held)',
          fmt(
            p(
              perHost.flatMap((h) => h.stepMs),
              50,
            ),
          ),
          fmt(
            p(
              perHost.flatMap((h) => h.stepMs),
              90,
            ),
          ),
          fmt(Math.max(...perHost.flatMap((h) => h.stepMs))),
        ],
        [
          'step finished -> SUCCEEDED (refresh, lock released)',
          fmt(p(refreshTail, 50)),
          fmt(p(refreshTail, 90)),
          fmt(Math.max(...refreshTail)),
        ],
        ['created -> SUCCEEDED', fmt(p(endToEnd, 50)), fmt(p(endToEnd, 90)), fmt(Math.max(...endToEnd))],
      ],
    ),
  );
  log(
    table(
      ['host', 'jobs', 'first step -> last step ms', 'lock held by steps', 'gap between steps p50 / p90 ms', 'jobs/s on this host'],
      perHost.map((h) => [
        h.host,
        h.jobs,
        fmt(h.spanMs),
        `${Math.round((100 * h.stepBusyMs) / h.spanMs)}%`,
        `${fmt(p(h.gaps, 50))} / ${fmt(p(h.gaps, 90))}`,
        (h.jobs / (h.spanMs / 1000)).toFixed(2),
      ]),
    ),
  );
  log('Jobs on one host run one at a time (Redis host lock); a waiting job polls for the lock with back-off (25 ms doubling to 250 ms).');
  log(`teardown: deleteBridge ovsbr0 on hv1 and hv2; bridges left: ${bridgesLeft.map((b, i) => `hv${i + 1}: ${b || 'none'}`).join(', ')}`);

  const sum = (s: Summary) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
  const path = writeResults('change-latency.json', {
    benchmark: 'change-latency',
    machine: await machine(),
    settings: {
      runs: RUNS,
      warmups: WARMUPS,
      changes: CHANGES,
      submitConcurrency: SUBMIT_CONCURRENCY,
      lab: LAB,
      workers: 2,
      workerConcurrency: config.worker.concurrency,
      maxChannels: config.ssh.maxChannels,
    },
    latencyMs: { trunkline: sum(tlS), bareSsh: sum(sshS), pooledExec: sum(floorS) },
    ratio: { trunklineP50OverBareSshP50: round(ratio), target: TARGET_RATIO, met },
    everyRunChanged: notChanged === 0,
    breakdownMs: Object.fromEntries(phaseP50.map((x) => [x.label, { p50: round(p(x.values, 50)), p90: round(p(x.values, 90)) }])),
    aloneMs: Object.fromEntries(Object.entries(alone).map(([k, v]) => [k, { p50: round(p(v, 50)), p90: round(p(v, 90)) }])),
    throughput: {
      changes: CHANGES,
      submitMs: round(submitMs),
      wallMs: round(throughputWallMs),
      observedMs: round(observedMs),
      changesPerSecond: round(CHANGES / (throughputWallMs / 1000)),
      succeeded: succeeded.length,
      failed: failed.length,
      missing: CHANGES - jobs.length,
      unchanged,
      waitingJobs,
      perJobMs: {
        queueWait: { p50: round(p(queueWait, 50)), p90: round(p(queueWait, 90)) },
        lockWait: { p50: round(p(startToStep, 50)), p90: round(p(startToStep, 90)) },
        refreshTail: { p50: round(p(refreshTail, 50)), p90: round(p(refreshTail, 90)) },
        endToEnd: { p50: round(p(endToEnd, 50)), p90: round(p(endToEnd, 90)) },
      },
      perHost: perHost.map((h) => ({
        host: h.host,
        jobs: h.jobs,
        spanMs: h.spanMs,
        stepBusyMs: h.stepBusyMs,
        stepP50: round(p(h.stepMs, 50)),
        gapP50: round(p(h.gaps, 50)),
        gapP90: round(p(h.gaps, 90)),
      })),
    },
    rawMs: { trunkline: tl.map((r) => round(r.totalMs)), bareSsh: ssh.map((x) => round(x)), pooledExec: floor.map((x) => round(x)) },
  });
  log();
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`JSON: ${path}`);
}

runBenchmark('change-latency', main);

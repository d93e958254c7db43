/**
 * Benchmark: webhook fan-out. About 1,000 job events to 10 endpoints, 2 of which answer 500 to
 * everything: how long after an event each good endpoint has it (p50/p99), what the failing ones
 * see, and whether the jobs' own latency changes with the endpoints there or not.
 *
 *   node bench/webhook-fanout.ts        (npm run bench:webhooks; root, like the lab)
 *
 * Brings up its own lab (LAB_NAME=tlv, LAB_NET=41 = 198.18.41.0/24, two hosts), a private
 * redis-server on loopback, then the REAL gateway and TWO REAL worker processes (NODE_ENV=
 * production, log level warn; webhooks: retries every TRUNKLINE_WEBHOOK_BACKOFF_MS=1000 doubling,
 * 6 attempts, so the failing endpoints are retried all through the run). Ten receivers (node:http
 * on 127.0.0.1, in a process of their own at the lowest CPU priority: they stand for machines
 * elsewhere; bench/support/receiver-farm.ts) are registered through REST with an empty filter (every event).
 *   setup     createBridge ovsbr0 and addPort bw0 (internal) on hv1 and hv2
 *   rounds    BENCH_ROUNDS rounds; each runs BENCH_JOBS setPortVlans jobs per host (the tag
 *             alternating 101/102, hosts in parallel, one job at a time per host, each followed
 *             over jobProgress to its end) twice: once with the 10 endpoints disabled (PATCH
 *             enabled=false: nothing is dispatched to them) and once enabled, the order
 *             alternating by round. Job latency: the records' createdAt -> finishedAt.
 *   fan-out   every event of the jobs run with the endpoints enabled must reach each good
 *             receiver: delivery latency = arrival at the receiver - the event's `at`.
 *   teardown  deleteBridge ovsbr0 on both hosts; processes, Redis keys, redis-server, the
 *             receivers and the lab, also after a failure or Ctrl-C.
 * All traffic goes to 127.0.0.1 and the lab's namespaces. Prints tables and writes JSON to
 * .trunkline/bench/webhook-fanout.json. Figures only: nothing here fails on timing.
 *
 * Env: BENCH_PACE_MS (0: back to back) pause after each job on a host;
 *      BENCH_ROUNDS (8), BENCH_JOBS (8) jobs per host per block: 8 x 8 x 2 hosts = 128 jobs of
 *      8 events with the endpoints (1,024 events), as many without.
 */
import { cpus, loadavg, setPriority } from 'node:os';
import { Redis } from 'ioredis';
import { authorization } from '../test/support/credentials.ts';
import { gql, subscribeSse } from '../test/support/graphql-client.ts';
import { mutate } from './support/mutate.ts';
import type { LabEnv } from '../test/support/lab.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { type FarmReceiver, startReceiverFarm } from './support/receiver-farm.ts';
import { freshLab } from './support/fresh-lab.ts';
import { startRedisServer } from './support/redis-server.ts';
import { childPids, processesCpuMs } from './support/cpu.ts';
import { describeGit, machine, writeResults } from './support/results.ts';
import { fmt, percentile, round, type Summary, summarize, table } from './support/stats.ts';
import { startBenchDeployment } from './support/trunkline-process.ts';
import { envInt } from './support/env.ts';

const ROUNDS = envInt('BENCH_ROUNDS', 8);
const JOBS = envInt('BENCH_JOBS', 8);
// Pause after each job on a host: 0 = back to back (the machine saturated); a pace leaves the
// headroom a fleet between tickets has, and shows what webhooks cost when the CPU is not the limit.
const PACE_MS = envInt('BENCH_PACE_MS', 0, 0);
const ENDPOINTS = 10;
const FAILING = 2;
const HOSTS = ['hv1', 'hv2'] as const;
const PORT = 'bw0';
const JOB_DEADLINE_MS = 60_000;
const FANOUT_DEADLINE_MS = 180_000;
const WEBHOOK_ENV = { TRUNKLINE_WEBHOOK_BACKOFF_MS: '1000', TRUNKLINE_WEBHOOK_MAX_ATTEMPTS: '6', TRUNKLINE_WEBHOOK_TIMEOUT_MS: '5000' };

const LAB: LabEnv = { LAB_NAME: 'tlv', LAB_NET: '41', LAB_HOSTS: '2' };
const INVENTORY_PATH = `/run/trunkline/lab-${LAB.LAB_NAME}/inventory.json`;

const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[webhook-fanout] ${s}`);
const p = (xs: number[], q: number) => percentile(xs, q);

/** Runs a change to its end over jobProgress; returns the job's uuid, its record times and its event count. */
async function run(url: string, name: string, input: Record<string, unknown>): Promise<{ uuid: string; latencyMs: number }> {
  const id = await mutate(url, name, input);
  let last = '';
  for await (const msg of subscribeSse(
    url,
    'subscription($id: ID!) { jobProgress(id: $id) { type } }',
    { id },
    AbortSignal.timeout(JOB_DEADLINE_MS),
  ))
    last = msg.data?.jobProgress?.type ?? last;
  if (last !== 'SUCCEEDED') throw new Error(`${name} ${JSON.stringify(input)}: ended ${last}`);
  const job = (await gql(url, 'query($id: ID!) { job(id: $id) { createdAt finishedAt } }', { id })).data.job;
  return {
    uuid: Buffer.from(id, 'base64url').toString('utf8').slice('Job:'.length),
    latencyMs: Date.parse(job.finishedAt) - Date.parse(job.createdAt),
  };
}

async function rest(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...authorization(base), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const arrivalWallMs = (at: number) => performance.timeOrigin + at;

async function main(): Promise<void> {
  log(`# webhook-fanout: job events to ${ENDPOINTS} webhook endpoints (${FAILING} answering 500) (${new Date().toISOString()})`);
  log(`lab ${LAB.LAB_NAME} (198.18.${LAB.LAB_NET}.0/24, 2 hosts); real gateway + 2 real workers, NODE_ENV=production, log level warn`);
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs; the receivers run in a process of their own, nice 19)`,
  );
  log(describeGit());
  log(
    `${ROUNDS} rounds x ${JOBS} setPortVlans jobs per host, with and without the endpoints, interleaved; ${PACE_MS ? `${PACE_MS} ms pause after each job on a host` : 'jobs back to back'}; webhooks: ${JSON.stringify(WEBHOOK_ENV)}`,
  );
  log();

  step('lab down (leftovers), lab up');
  await freshLab(LAB, step);
  step('private redis-server');
  const redisServer = await startRedisServer();
  // The processes inherit the environment: the webhook settings reach both workers.
  Object.assign(process.env, WEBHOOK_ENV);
  step('gateway and two workers');
  const { url, prefix, gateway, workers } = await startBenchDeployment({
    redisUrl: redisServer.url,
    inventoryPath: INVENTORY_PATH,
    report: (deleted, left, prefix) => step(`redis keys: deleted ${deleted} keys of ${prefix}; ${left} left`),
  });
  const base = url.replace(/\/graphql$/, '/api/v1');
  // This process stands for the clients, elsewhere: it yields the CPU to Trunkline's. Lowered only
  // now, so what it started keeps priority 0.
  setPriority(0, 10);
  const redis = new Redis(redisServer.url);
  onCleanup('redis connection', () => redis.quit());
  /**
   * Waits until the dispatchers have read and acknowledged every event so far: an endpoint is
   * matched when its event is dispatched, so toggling `enabled` before that would move the
   * block's last events to the other side.
   */
  const dispatched = async () => {
    for (;;) {
      const [group] = (await redis.call('xinfo', 'groups', `${prefix}:events`)) as unknown[][];
      const info = Object.fromEntries(Array.from({ length: (group?.length ?? 0) / 2 }, (_, i) => [group![2 * i], group![2 * i + 1]]));
      if (info.lag === 0 && info.pending === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  step('receivers');
  const farm = await startReceiverFarm(Array.from({ length: ENDPOINTS }, (_, i) => (i < FAILING ? 500 : 204)));
  onCleanup('receivers', () => farm.close());
  const { receivers } = farm;

  step('createBridge ovsbr0, addPort bw0 on hv1 and hv2');
  await Promise.all(HOSTS.map((h) => run(url, 'createBridge', { hypervisor: h, name: 'ovsbr0' })));
  await Promise.all(HOSTS.map((h) => run(url, 'addPort', { hypervisor: h, name: PORT, type: 'INTERNAL', tag: 100 })));
  onCleanup('deleteBridge ovsbr0', () => Promise.allSettled(HOSTS.map((h) => run(url, 'deleteBridge', { hypervisor: h, name: 'ovsbr0' }))));

  step('register the endpoints (REST), disabled for now');
  const endpoints: { id: string; receiver: FarmReceiver; failing: boolean }[] = [];
  for (const [i, r] of receivers.entries()) {
    const created = await rest(base, 'POST', '/webhooks', { url: r.url, description: `bench ${i}`, enabled: false });
    endpoints.push({ id: created.endpoint.id, receiver: r, failing: i < FAILING });
  }
  const setEnabled = (enabled: boolean) => Promise.all(endpoints.map((e) => rest(base, 'PATCH', `/webhooks/${e.id}`, { enabled })));

  let tag = 0;
  const block = async () => {
    const out: { uuid: string; latencyMs: number }[] = [];
    await Promise.all(
      HOSTS.map(async (h) => {
        for (let j = 0; j < JOBS; j++) {
          out.push(await run(url, 'setPortVlans', { hypervisor: h, name: PORT, tag: 101 + (tag++ % 2) }));
          if (PACE_MS) await new Promise((r) => setTimeout(r, PACE_MS));
        }
      }),
    );
    return out;
  };
  step('warm-up block');
  await block();

  const without: number[] = [];
  const withEndpoints: number[] = [];
  const withJobs: string[] = [];
  const events = new Map<string, string>(); // event key (job id + event id) -> its `at`
  const keyOf = (json: any) => `${json?.data?.jobId} ${json?.data?.id}`;
  const good = endpoints.filter((e) => !e.failing);
  /**
   * Waits until every good receiver has every event of the jobs run with the endpoints so far:
   * a delivery still queued when its endpoint is disabled is dropped (FAILED, endpoint disabled),
   * so a block without the endpoints starts only once the block with them was delivered.
   */
  const delivered = async () => {
    for (const e of good)
      await e.receiver.waitFor(
        (rs) => rs.filter((x) => events.has(keyOf(x.json))).length >= events.size,
        `${events.size} events`,
        FANOUT_DEADLINE_MS,
      );
  };
  // Where a job's time goes, from its events' `at`: waiting for a worker, the host part, settling.
  const phasesWithout = { queue: [] as number[], steps: [] as number[], settle: [] as number[] };
  const phasesWith = { queue: [] as number[], steps: [] as number[], settle: [] as number[] };
  // Where the CPU goes in each block, by process group (the webhook processes are the workers' children).
  const groups = {
    'gateway + workers': () => [gateway, ...workers].map((x) => x.child.pid!),
    'webhook processes': () => workers.flatMap((w) => childPids(w.child.pid!)),
    'redis-server': () => [redisServer.proc.pid!],
    receivers: () => [farm.pid],
  };
  type Group = keyof typeof groups;
  const cpuNow = () => Object.fromEntries(Object.entries(groups).map(([g, pids]) => [g, processesCpuMs(pids())])) as Record<Group, number>;
  const cpuWith = Object.fromEntries(Object.keys(groups).map((g) => [g, 0])) as Record<Group, number>;
  const cpuWithout = { ...cpuWith };
  const started = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    step(`round ${r + 1}/${ROUNDS}`);
    for (const enabled of r % 2 === 0 ? [false, true] : [true, false]) {
      // An endpoint is matched when its event is dispatched: every event of the last block is, first.
      await dispatched();
      await delivered();
      await setEnabled(enabled);
      const cpuBefore = cpuNow();
      const jobs = await block();
      // Deliveries still being sent after the block are counted with the next block's: the blocks alternate, so both sides get some.
      const cpuAfter = cpuNow();
      for (const g of Object.keys(groups) as Group[]) (enabled ? cpuWith : cpuWithout)[g] += cpuAfter[g] - cpuBefore[g];
      (enabled ? withEndpoints : without).push(...jobs.map((j) => j.latencyMs));
      for (const j of jobs) {
        const es: { id: string; type: string; at: string }[] = await rest(base, 'GET', `/jobs/${j.uuid}/events`);
        const at = (type: string) => Date.parse(es.find((x) => x.type === type)?.at ?? '');
        const phases = enabled ? phasesWith : phasesWithout;
        phases.queue.push(at('HOST_STARTED') - at('QUEUED'));
        phases.steps.push(at('HOST_FINISHED') - at('HOST_STARTED'));
        phases.settle.push(at('SUCCEEDED') - at('HOST_FINISHED'));
        if (enabled) for (const e of es) events.set(`${j.uuid} ${e.id}`, e.at);
      }
      if (enabled) withJobs.push(...jobs.map((j) => j.uuid));
    }
  }
  await dispatched();
  await delivered();
  const roundsMs = performance.now() - started;

  const goodLatency: number[] = [];
  const perEndpoint: { id: string; summary: Summary; received: number; duplicates: number }[] = [];
  for (const e of good) {
    const mine = e.receiver.received.filter((x) => events.has(keyOf(x.json)));
    const lat = mine.map((x) => arrivalWallMs(x.at) - Date.parse(events.get(keyOf(x.json))!));
    goodLatency.push(...lat);
    const ids = new Set(mine.map((x) => x.headers['webhook-id']));
    perEndpoint.push({ id: e.id, summary: summarize(lat), received: mine.length, duplicates: mine.length - ids.size });
  }
  const failingFirst: number[] = [];
  const failingAttempts: number[] = [];
  for (const e of endpoints.filter((x) => x.failing)) {
    const mine = e.receiver.received.filter((x) => events.has(keyOf(x.json)));
    const byId = new Map<string, number[]>();
    for (const x of mine) byId.set(String(x.headers['webhook-id']), [...(byId.get(String(x.headers['webhook-id'])) ?? []), x.at]);
    for (const [, ats] of byId) {
      failingAttempts.push(ats.length);
      failingFirst.push(
        arrivalWallMs(Math.min(...ats)) - Date.parse(events.get(keyOf(mine.find((x) => x.at === Math.min(...ats))!.json))!),
      );
    }
  }
  const history = await rest(base, 'GET', `/webhooks/${endpoints[0]!.id}/deliveries?limit=100`);
  const statuses: Record<string, number> = {};
  for (const d of history.items) statuses[d.status] = (statuses[d.status] ?? 0) + 1;

  const g = summarize(goodLatency);
  const w = summarize(without);
  const e = summarize(withEndpoints);
  log(
    `## Fan-out: ${events.size} job events x ${good.length} good endpoints = ${goodLatency.length} deliveries (${withJobs.length} jobs with the endpoints; rounds took ${fmt(roundsMs)} ms)`,
  );
  log(
    table(
      ['delivery latency (receiver arrival - event at)', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      [
        ['good endpoints, all deliveries', fmt(g.p50), fmt(g.p90), fmt(g.p99), fmt(g.max)],
        ...perEndpoint.map((x) => [
          `  ${x.id} (${x.received}, duplicates ${x.duplicates})`,
          fmt(x.summary.p50),
          fmt(x.summary.p90),
          fmt(x.summary.p99),
          fmt(x.summary.max),
        ]),
        [
          `failing endpoints, first attempt (${failingFirst.length} messages)`,
          fmt(p(failingFirst, 50)),
          fmt(p(failingFirst, 90)),
          fmt(p(failingFirst, 99)),
          fmt(Math.max(...failingFirst)),
        ],
      ],
    ),
  );
  log(
    `failing endpoints: attempts per message so far p50 ${p(failingAttempts, 50)}, max ${Math.max(...failingAttempts)} (of 6; retries 1, 2, 4, 8, 16 s apart); history of one (newest 100): ${JSON.stringify(statuses)}`,
  );
  log();
  log(`## Job latency (records: createdAt -> finishedAt), setPortVlans, ${w.n} jobs each way`);
  log(
    table(
      ['', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms'],
      [
        ['without endpoints (disabled)', fmt(w.p50), fmt(w.p90), fmt(w.p99), fmt(w.mean)],
        ['with 10 endpoints (2 failing)', fmt(e.p50), fmt(e.p90), fmt(e.p99), fmt(e.mean)],
        ['with / without (p50)', `${(e.p50 / w.p50).toFixed(2)}x`, '', '', `${(e.mean / w.mean).toFixed(2)}x`],
      ],
    ),
  );
  const phaseRow = (label: string, key: 'queue' | 'steps' | 'settle') => [
    label,
    `${fmt(p(phasesWithout[key], 50))} / ${fmt(p(phasesWith[key], 50))}`,
    `${fmt(p(phasesWithout[key], 90))} / ${fmt(p(phasesWith[key], 90))}`,
  ];
  log(
    table(
      ['phase (events at), without / with', 'p50 ms', 'p90 ms'],
      [
        phaseRow('QUEUED -> HOST_STARTED (worker pick-up, turn)', 'queue'),
        phaseRow('HOST_STARTED -> HOST_FINISHED (plan, step, verify)', 'steps'),
        phaseRow('HOST_FINISHED -> SUCCEEDED (flow parent)', 'settle'),
      ],
    ),
  );

  const deliveriesMade = events.size * ENDPOINTS;
  log(
    table(
      [
        `CPU by process, ms per job (${deliveriesMade / withEndpoints.length} deliveries per job with)`,
        'without',
        'with',
        'with - without',
      ],
      (Object.keys(groups) as Group[]).map((g) => [
        g,
        (cpuWithout[g] / without.length).toFixed(2),
        (cpuWith[g] / withEndpoints.length).toFixed(2),
        (cpuWith[g] / withEndpoints.length - cpuWithout[g] / without.length).toFixed(2),
      ]),
    ),
  );
  // The webhook processes do nothing but deliveries (retries included) and reading the log: all their CPU is the fan-out's.
  const webhookCpu = cpuWith['webhook processes'] + cpuWithout['webhook processes'];
  log(
    `webhook processes: ${(webhookCpu / deliveriesMade).toFixed(3)} ms CPU per delivery (all of theirs in the rounds, retries included); redis-server: ${((cpuWith['redis-server'] - cpuWithout['redis-server']) / deliveriesMade).toFixed(3)} ms more per delivery`,
  );
  log();

  const sum = (s: Summary) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]));
  const path = writeResults('webhook-fanout.json', {
    benchmark: 'webhook-fanout',
    machine: await machine(),
    settings: {
      rounds: ROUNDS,
      jobsPerHostPerBlock: JOBS,
      paceMs: PACE_MS,
      endpoints: ENDPOINTS,
      failing: FAILING,
      lab: LAB,
      webhooks: WEBHOOK_ENV,
    },
    events: events.size,
    cpuMs: { without: cpuWithout, with: cpuWith, deliveries: deliveriesMade },
    deliveryLatencyMs: { good: sum(g), failingFirstAttempt: sum(summarize(failingFirst)) },
    perEndpoint: perEndpoint.map((x) => ({ id: x.id, received: x.received, duplicates: x.duplicates, latencyMs: sum(x.summary) })),
    jobLatencyMs: { without: sum(w), with: sum(e) },
    jobPhasesP50Ms: Object.fromEntries(
      (['queue', 'steps', 'settle'] as const).map((k) => [
        k,
        { without: round(p(phasesWithout[k], 50)), with: round(p(phasesWith[k], 50)) },
      ]),
    ),
  });
  log(`results: ${path}`);
}

runBenchmark('webhook-fanout', main);

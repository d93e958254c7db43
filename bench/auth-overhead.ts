/**
 * Benchmark: what authentication and authorization cost (issue 12: at most 0.5 ms p50 on the
 * cached fleet query, at most 5 % on a one-step change), on and off in the same run.
 *
 *   node bench/auth-overhead.ts        (npm run bench:auth; root, like the lab)
 *
 * query   Three gateways built as gateway/main.ts builds them (createGateway() on node:http, in
 *         this process) over one private redis-server and one cache, seeded with 10 hosts x 50
 *         VMs from captured host output (hosts in 198.18.250.0/24, never contacted):
 *           off     TRUNKLINE_AUTH_MODE=off, no rate limits;
 *           admin   API tokens, an admin token of every host (the token's record cached a
 *                   second, the rate limit counted in Redis, high enough never to refuse);
 *           team    the same gateway, a viewer token limited to a host group of all 10 hosts
 *                   (its scope read from Redis on every request, every list filtered).
 *         The fleet query (every host with bridges, ports, VMs and NICs), round-robin over the
 *         three, BENCH_REQUESTS each after BENCH_WARMUP, one keep-alive connection per gateway.
 * change  Its own lab (LAB_NAME=tla, LAB_NET=42, two hosts), the real gateway and two real
 *         workers with tokens on, and a second real gateway on the same prefix with
 *         TRUNKLINE_AUTH_MODE=off; setPortVlans on hv1's port au0, the tag alternating, from the
 *         mutation to the SUCCEEDED event (jobProgress over SSE), alternating gateways run by
 *         run, BENCH_CHANGES each. The workers are the same for both: the difference is the
 *         gateway's (authentication, scope, rate limit, audit record).
 * Prints tables and writes .trunkline/bench/auth-overhead.json. Figures only: nothing fails on timing.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createGateway } from '../gateway/create-gateway.ts';
import { connectGatewayServices } from '../gateway/services.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log/logger.ts';
import { subscribeSse } from '../test/support/graphql-client.ts';
import type { LabEnv } from '../test/support/lab.ts';
import { QUERIES } from './support/fleet-queries.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { fakeHost, loadCaptured, replicateHost } from './support/fleet-fixture.ts';
import { freshLab } from './support/fresh-lab.ts';
import { mutate } from './support/mutate.ts';
import { onPrefixCleanup, startRedisServer } from './support/redis-server.ts';
import { describeGit, machine, writeResults } from './support/results.ts';
import { fmt, summarize, type Summary, table } from './support/stats.ts';
import { spawnTrunkline, startBenchDeployment, waitUntilReady } from './support/trunkline-process.ts';
import { envInt } from './support/env.ts';
import { benchGatewayConfig } from './support/in-process-gateway.ts';

const REQUESTS = envInt('BENCH_REQUESTS', 500);
const WARMUP = envInt('BENCH_WARMUP', 50);
const CHANGES = envInt('BENCH_CHANGES', 20);
const HOSTS = 10;
const VMS_PER_HOST = 50;
const LAB: LabEnv = { LAB_NAME: 'tla', LAB_NET: '42', LAB_HOSTS: '2' };
const PORT = 'au0';

const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[auth-overhead] ${s}`);

/** One POST of the fleet query; its time in ms. */
function post(agent: Agent, port: number, payload: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200 || text.includes('"errors"')) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(performance.now() - t);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function serve(gateway: ReturnType<typeof createGateway>): Promise<number> {
  const server = createServer(gateway);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup('http server', () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

async function queryPart(): Promise<Record<string, Summary>> {
  const redisServer = await startRedisServer();
  const { config: on, prefix, issuer } = benchGatewayConfig(redisServer.url);
  // The same, with authentication and the rate limits off.
  const off = loadConfig({
    ...process.env,
    TRUNKLINE_REDIS_URL: redisServer.url,
    TRUNKLINE_PREFIX: prefix,
    TRUNKLINE_LOG_LEVEL: 'silent',
    TRUNKLINE_AUTH_MODE: 'off',
    TRUNKLINE_RATE_READS_PER_MINUTE: '0',
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '0',
  });
  const servicesOn = connectGatewayServices(on, createLogger('bench-on', 'silent'), 'bench-auth-on');
  const servicesOff = connectGatewayServices(off, createLogger('bench-off', 'silent'), 'bench-auth-off');
  onCleanup('redis connections', () => Promise.allSettled([servicesOn.close(), servicesOff.close()]));
  onPrefixCleanup(servicesOn.redis, servicesOn.queue.queue, prefix);

  step(`seeding ${HOSTS} hosts x ${VMS_PER_HOST} VMs`);
  const captured = loadCaptured();
  const names: string[] = [];
  for (let h = 1; h <= HOSTS; h++) {
    const name = `bhv${String(h).padStart(2, '0')}`;
    names.push(name);
    await servicesOn.registry.put(fakeHost(name, h));
    await servicesOn.cache.put(replicateHost(captured, name, h, VMS_PER_HOST, new Date().toISOString()));
  }
  await servicesOn.auth.hostGroups.put({ name: 'bench-team', description: null, hypervisors: names, createdAt: '', updatedAt: '' });
  const issue = issuer(servicesOn.redis);
  const admin = await issue({ name: 'bench-admin', role: 'admin' });
  const team = await issue({ name: 'bench-team', role: 'viewer', hostGroups: ['bench-team'] });
  await Promise.all([servicesOn.hub.start(), servicesOff.hub.start()]);
  const portOn = await serve(createGateway(servicesOn));
  const portOff = await serve(createGateway(servicesOff));

  const variants = {
    off: { port: portOff, headers: {} as Record<string, string> },
    admin: { port: portOn, headers: { authorization: `Bearer ${admin}` } },
    team: { port: portOn, headers: { authorization: `Bearer ${team}` } },
  };
  const agents = Object.fromEntries(Object.keys(variants).map((k) => [k, new Agent({ keepAlive: true, maxSockets: 1 })]));
  onCleanup('http agents', () => {
    for (const a of Object.values(agents)) a.destroy();
  });
  const payload = JSON.stringify({ query: QUERIES.fleet });
  const samples: Record<string, number[]> = { off: [], admin: [], team: [] };
  step(`fleet query: ${WARMUP} warm-ups, then ${REQUESTS} requests per variant, round-robin`);
  for (let i = 0; i < WARMUP + REQUESTS; i++)
    for (const [name, v] of Object.entries(variants)) {
      const ms = await post(agents[name]!, v.port, payload, v.headers);
      if (i >= WARMUP) samples[name]!.push(ms);
    }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, summarize(s)]));
}

async function changePart(): Promise<Record<string, Summary>> {
  step('lab down (leftovers), lab up');
  await freshLab(LAB, step);
  const redisServer = await startRedisServer();
  const deployment = await startBenchDeployment({
    redisUrl: redisServer.url,
    inventoryPath: `/run/trunkline/lab-${LAB.LAB_NAME}/inventory.json`,
  });
  const { url } = deployment;
  const offPort = 20000 + Math.floor(Math.random() * 20000);
  const offUrl = `http://127.0.0.1:${offPort}/graphql`;
  const offGateway = spawnTrunkline('gateway-auth-off', 'gateway/main.ts', {
    ...deployment.env,
    TRUNKLINE_AUTH_MODE: 'off',
    TRUNKLINE_LISTEN_PORT: String(offPort),
    TRUNKLINE_SEED_INVENTORY: 'false',
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '0',
    TRUNKLINE_RATE_READS_PER_MINUTE: '0',
  });
  await waitUntilReady(
    offGateway,
    async () =>
      (await fetch(offUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).ok,
  );

  const followToEnd = async (u: string, id: string) => {
    let last = '';
    for await (const msg of subscribeSse(
      u,
      'subscription($id: ID!) { jobProgress(id: $id) { type } }',
      { id },
      AbortSignal.timeout(60_000),
    ))
      last = msg.data?.jobProgress?.type ?? last;
    if (last !== 'SUCCEEDED') throw new Error(`job ${id} ended ${last}`);
  };
  const run = async (u: string, name: string, input: Record<string, unknown>) => followToEnd(u, await mutate(u, name, input));
  step('createBridge ovsbr0, addPort au0 on hv1');
  await run(url, 'createBridge', { hypervisor: 'hv1', name: 'ovsbr0' });
  onCleanup('deleteBridge ovsbr0', () => run(url, 'deleteBridge', { hypervisor: 'hv1', name: 'ovsbr0' }).catch(() => {}));
  await run(url, 'addPort', { hypervisor: 'hv1', name: PORT, type: 'INTERNAL', tag: 100 });

  const samples: Record<string, number[]> = { off: [], on: [] };
  let tag = 0;
  step(`setPortVlans: 3 warm-ups, then ${CHANGES} per gateway, alternating`);
  for (let i = 0; i < 3 + CHANGES; i++)
    for (const [name, u] of [
      ['on', url],
      ['off', offUrl],
    ] as const) {
      const t = performance.now();
      await run(u, 'setPortVlans', { hypervisor: 'hv1', name: PORT, tag: 101 + (tag++ % 2) });
      if (i >= 3) samples[name]!.push(performance.now() - t);
    }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, summarize(s)]));
}

async function main(): Promise<void> {
  log(`# auth-overhead: authentication and authorization on vs off, same run (${new Date().toISOString()})`);
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs)`,
  );
  log(describeGit());
  log();
  const query = await queryPart();
  log(`## Cached fleet query (${HOSTS} hosts x ${VMS_PER_HOST} VMs), ms through HTTP, ${REQUESTS} each, round-robin`);
  log(
    table(
      ['variant', 'p50', 'p90', 'p99', 'mean', 'p50 - off'],
      Object.entries(query).map(([k, s]) => [
        k,
        fmt(s.p50),
        fmt(s.p90),
        fmt(s.p99),
        fmt(s.mean),
        k === 'off' ? '' : fmt(s.p50 - query.off!.p50),
      ]),
    ),
  );
  log(
    `TARGET (issue): overhead <= 0.5 ms p50 -> admin ${fmt(query.admin!.p50 - query.off!.p50)} ms, team ${fmt(query.team!.p50 - query.off!.p50)} ms`,
  );
  log();
  const change = await changePart();
  log(`## One-step change (setPortVlans), mutation -> SUCCEEDED over SSE, ms, ${CHANGES} each, alternating`);
  log(
    table(
      ['gateway', 'p50', 'p90', 'p99', 'mean'],
      Object.entries(change).map(([k, s]) => [k, fmt(s.p50), fmt(s.p90), fmt(s.p99), fmt(s.mean)]),
    ),
  );
  const ratio = change.on!.p50 / change.off!.p50;
  log(
    `TARGET (issue): overhead <= 5 % -> on/off p50 ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %), mean ${(change.on!.mean / change.off!.mean).toFixed(3)}`,
  );
  const path = writeResults('auth-overhead.json', {
    benchmark: 'auth-overhead',
    machine: await machine(),
    settings: { requests: REQUESTS, warmup: WARMUP, changes: CHANGES, hosts: HOSTS, vmsPerHost: VMS_PER_HOST, lab: LAB },
    query,
    change,
  });
  log(`results: ${path}`);
}

runBenchmark('auth-overhead', main);

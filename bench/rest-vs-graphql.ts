/**
 * Benchmark: the same read and the same change through REST and through GraphQL, in one run.
 *
 *   node bench/rest-vs-graphql.ts        (npm run bench:rest)
 *
 * A private redis-server on a free loopback port; the host-state cache seeded with 10 hosts x
 * 50 VMs from REAL captured virsh/ovs-vsctl output (bench/support/fleet-fixture.ts, as the
 * fleet-query benchmark does; the hosts' addresses are never contacted: the gateway never
 * SSHes); the real gateway (createGateway(), served by node:http on 127.0.0.1, in process);
 * a keep-alive client. Pairs, each REST and GraphQL asking for the same data:
 *   - read one hypervisor       GET /api/v1/hypervisors/bhv01      hypervisor(name:) { ...same fields }
 *   - read one VLAN             GET /api/v1/vlans/1001             vlan(tag: 1001) { ...same fields }
 *   - plan a change (dryRun)    PUT /api/v1/vlans/1001?dryRun=true ensureVlan(input: {dryRun: true})
 *   - accept a change           PUT /api/v1/vlans/{t} -> 202        ensureVlan(input: {...}) -> job
 * The accepted jobs are never run (no worker): what a worker does with a job is the same
 * whichever API queued it, so only the gateway's part can differ. Requests alternate REST and
 * GraphQL so that drift in the machine's load hits both alike. Prints p50/p99 per pair and the
 * ratio REST/GraphQL (the issue's target: REST within 1.2x); JSON to .trunkline/bench/.
 *
 * Env: BENCH_REQUESTS (400) timed requests per API and pair after BENCH_WARMUP_REQUESTS (50).
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { createGateway } from '../gateway/create-gateway.ts';
import { connectGatewayServices } from '../gateway/services.ts';
import { benchGatewayConfig } from './support/in-process-gateway.ts';
import { createLogger } from '../src/log/logger.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { fakeHost, loadCaptured, replicateHost } from './support/fleet-fixture.ts';
import { onPrefixCleanup, startRedisServer } from './support/redis-server.ts';
import { describeGit, machine, writeResults } from './support/results.ts';
import { fmt, summarize, table, type Summary } from './support/stats.ts';

const HOSTS = 10;
const VMS_PER_HOST = 50;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const WARMUP = Number(process.env.BENCH_WARMUP_REQUESTS ?? 50);
const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[rest-vs-graphql] ${s}`);

interface Call {
  method: string;
  path: string;
  body?: string;
  expect: number;
}

/** The Authorization header every request sends (set once the admin token exists). */
const auth: Record<string, string> = {};

function send(agent: Agent, port: number, call: Call): Promise<{ status: number; ms: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const headers: Record<string, string | number> = { accept: 'application/json, application/graphql-response+json', ...auth };
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(call.body);
    }
    const req = request({ agent, host: '127.0.0.1', port, method: call.method, path: call.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t, bytes: body.length, text: body.toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(call.body);
  });
}

const gql = (query: string, variables: Record<string, unknown> = {}): Call => ({
  method: 'POST',
  path: '/graphql',
  body: JSON.stringify({ query, variables }),
  expect: 200,
});

const HYPERVISOR_FIELDS =
  'name address port user hostKeyFingerprint defaults { bridge uplink network datapathType } status lastError { code message } observedAt checkedAt stale versions { ovs libvirt qemu }';
const IFACE =
  'hypervisor vmName mac type model network portgroup bridge target virtualportType configuredVlanTags configuredTrunk vlanTags trunksAllVlans';
const VLAN_FIELDS = `tag name uplinks { hypervisorName bridge uplink carriage carried } portgroups { hypervisorName network name isDefault trunk } interfaces { ${IFACE} } drift { hypervisorName kind subject message } hypervisors { name } missingOn { name }`;
const JOB_FIELDS =
  'id kind state hypervisors ticketRef requestedBy createdAt progress { done total percent message } steps { index host description command probeCommand wanted state }';
const PLAN_FIELDS = 'kind hypervisors steps { host description subject observed wouldChange command probeCommand wanted }';
const ENSURE = `mutation($input: EnsureVlanInput!) { ensureVlan(input: $input) { job { ${JOB_FIELDS} } plan { ${PLAN_FIELDS} } userErrors { field code message } } }`;

runBenchmark('rest-vs-graphql', async () => {
  step('starting a private redis-server');
  const redisServer = await startRedisServer();
  const { config, prefix, issuer } = benchGatewayConfig(redisServer.url);
  const services = connectGatewayServices(config, createLogger('trunkline-gateway', config.logLevel), 'trunkline-bench-gateway');
  onCleanup('redis connections', () => services.close());
  onPrefixCleanup(services.redis, services.queue.queue, prefix);
  // Authentication on, as in production: both APIs pay for it alike.
  auth.authorization = `Bearer ${await issuer(services.redis)({ name: 'bench-admin', role: 'admin' })}`;

  step('seeding the cache from captured host output');
  const captured = loadCaptured();
  const names: string[] = [];
  for (let h = 1; h <= HOSTS; h++) {
    const name = `bhv${String(h).padStart(2, '0')}`;
    names.push(name);
    await services.registry.put(fakeHost(name, h));
    await services.cache.put(replicateHost(captured, name, h, VMS_PER_HOST, new Date().toISOString()));
  }

  await services.hub.start();
  const server = createServer(createGateway(services));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup('gateway server', () => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  onCleanup('http agent', () => agent.destroy());

  log('# REST vs GraphQL: the same read and the same change');
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(describeGit());
  log(
    `node ${process.version}; ${HOSTS} hosts x ${VMS_PER_HOST} VMs cached; ${REQUESTS} requests per API and pair after ${WARMUP} warm-ups, sequential, keep-alive`,
  );

  let tag = 2000;
  const hosts = names.slice(0, 2);
  const pairs: Array<{ name: string; rest: () => Call; graphql: () => Call }> = [
    {
      name: 'read one hypervisor',
      rest: () => ({ method: 'GET', path: '/api/v1/hypervisors/bhv01', expect: 200 }),
      graphql: () => gql(`{ hypervisor(name: "bhv01") { ${HYPERVISOR_FIELDS} } }`),
    },
    {
      name: 'read one VLAN (NICs, drift)',
      rest: () => ({ method: 'GET', path: '/api/v1/vlans/1001', expect: 200 }),
      graphql: () => gql(`{ vlan(tag: 1001) { ${VLAN_FIELDS} } }`),
    },
    {
      name: 'plan ensureVlan (dryRun)',
      rest: () => ({ method: 'PUT', path: '/api/v1/vlans/1001?dryRun=true', body: JSON.stringify({ hypervisors: hosts }), expect: 200 }),
      graphql: () => gql(ENSURE, { input: { tag: 1001, hypervisors: hosts, dryRun: true } }),
    },
    {
      name: 'accept ensureVlan (a job)',
      rest: () => ({ method: 'PUT', path: `/api/v1/vlans/${tag++}`, body: JSON.stringify({ hypervisors: hosts }), expect: 202 }),
      graphql: () => gql(ENSURE, { input: { tag: tag++, hypervisors: hosts } }),
    },
  ];

  const rows: Array<Array<string | number>> = [];
  const results: Record<
    string,
    { rest: Summary; graphql: Summary; ratioP50: number; ratioP99: number; restBytes: number; graphqlBytes: number }
  > = {};
  for (const pair of pairs) {
    step(pair.name);
    const samples = { rest: [] as number[], graphql: [] as number[] };
    const bytes = { rest: 0, graphql: 0 };
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      for (const api of ['rest', 'graphql'] as const) {
        const call = pair[api]();
        const r = await send(agent, port, call);
        if (r.status !== call.expect || (api === 'graphql' && r.text.includes('"errors"')))
          throw new Error(`${pair.name} ${api}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
        if (i >= WARMUP) {
          samples[api].push(r.ms);
          bytes[api] = r.bytes;
        }
      }
    }
    const rest = summarize(samples.rest);
    const graphql = summarize(samples.graphql);
    results[pair.name] = {
      rest,
      graphql,
      ratioP50: rest.p50 / graphql.p50,
      ratioP99: rest.p99 / graphql.p99,
      restBytes: bytes.rest,
      graphqlBytes: bytes.graphql,
    };
    rows.push([
      pair.name,
      fmt(rest.p50),
      fmt(rest.p99),
      fmt(graphql.p50),
      fmt(graphql.p99),
      `${(rest.p50 / graphql.p50).toFixed(2)}x`,
      `${(rest.p99 / graphql.p99).toFixed(2)}x`,
      `${(bytes.rest / 1024).toFixed(1)} / ${(bytes.graphql / 1024).toFixed(1)}`,
    ]);
  }
  log();
  log('## Latency as the client sees it (ms)');
  log(table(['pair', 'REST p50', 'REST p99', 'GraphQL p50', 'GraphQL p99', 'REST/GQL p50', 'REST/GQL p99', 'KiB REST / GQL'], rows));
  const worst = Math.max(...Object.values(results).map((r) => r.ratioP50));
  log();
  log(`TARGET (issue 11): REST within 1.2x of GraphQL -> ${worst <= 1.2 ? 'MET' : 'NOT MET'}: worst p50 ratio ${worst.toFixed(2)}x`);
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const path = writeResults('rest-vs-graphql.json', { machine: await machine(), git: describeGit(), requests: REQUESTS, results });
  log(`JSON: ${path}`);
});

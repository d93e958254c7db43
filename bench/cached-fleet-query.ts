/**
 * Benchmark: latency of cached fleet queries through the real gateway over HTTP.
 *
 *   node bench/cached-fleet-query.ts        (npm run bench:fleet-query)
 *
 * Starts a private redis-server on a free loopback port, seeds the host-state cache with 10
 * hosts x 50 VMs built from REAL captured virsh/ovs-vsctl output (test/fixtures, parsed with the
 * project's parsers, see bench/support/fleet-fixture.ts) and registers the 10 hosts (addresses in
 * 198.18.250.0/24 that nothing connects to: the gateway never SSHes). Runs createGateway() with
 * the services gateway/main.ts builds, served by node:http on 127.0.0.1, and measures
 * queries with a keep-alive client. Then splits the fleet query's time into its parts (manual
 * timers and a CPU profile). Everything it started is stopped at the end, also on Ctrl-C.
 * Prints tables; writes JSON to .trunkline/bench/cached-fleet-query.json and the CPU profile to
 * .trunkline/bench/cached-fleet-query.cpuprofile (open it in Chrome DevTools). Figures only.
 *
 * Env: BENCH_REQUESTS (500) timed requests per query after BENCH_WARMUP_REQUESTS (50);
 *      BENCH_CONCURRENCY (8) for the concurrent fleet run.
 */
import { Agent, createServer, request } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { execute, parse, validate } from 'graphql';
import { createContext, type HostView } from '../graphql/context.ts';
import { connectGatewayServices } from '../gateway/services.ts';
import { resolveDomain, resolveInterfaces } from '../src/fleet/vm-interfaces.ts';
import { schema } from '../graphql/schema.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import type { HostState } from '../src/hosts/host-state.ts';
import { createLogger } from '../src/log/logger.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { aliasFlood, deepQuery, INTROSPECTION_QUERY } from './support/abusive-queries.ts';
import { QUERIES } from './support/fleet-queries.ts';
import { ANONYMOUS } from '../src/auth/caller.ts';
import { fakeHost, loadCaptured, replicateHost } from './support/fleet-fixture.ts';
import { onPrefixCleanup, startRedisServer } from './support/redis-server.ts';
import { describeGit, machine, ROOT, writeResultFile, writeResults } from './support/results.ts';
import { fmt, round, summarize, table, type Summary } from './support/stats.ts';
import { envInt } from './support/env.ts';
import { benchGatewayConfig } from './support/in-process-gateway.ts';

const REQUESTS = envInt('BENCH_REQUESTS', 500);
const WARMUP = envInt('BENCH_WARMUP_REQUESTS', 50);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 8);
const HOSTS = 10;
const VMS_PER_HOST = 50;
const TARGET_P50_MS = 10;

type QueryName = keyof typeof QUERIES;

const log = (s = '') => console.log(s);
/** The Authorization header every request sends (set once the admin token exists). */
const auth: Record<string, string> = {};
const step = (s: string) => console.error(`[fleet-query] ${s}`);

// ---- HTTP client ----------------------------------------------------------------------------------
interface Reply {
  status: number;
  body: Buffer;
  ms: number;
}

/** One POST over the keep-alive agent; the body is read but not parsed (the client shares the CPU). */
function post(agent: Agent, port: number, payload: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/graphql',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'content-length': Buffer.byteLength(payload),
          ...auth,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - t }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface RunResult {
  latency: Summary;
  server?: Summary;
  requestsPerSecond: number;
  responseBytes: number;
}

async function runRequests(
  agent: Agent,
  port: number,
  query: string,
  warmup: number,
  count: number,
  concurrency: number,
  afterWarmup?: () => void,
): Promise<RunResult> {
  const payload = JSON.stringify({ query });
  const check = (r: Reply) => {
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.toString().slice(0, 300)}`);
  };
  for (let i = 0; i < warmup; i++) check(await post(agent, port, payload));
  afterWarmup?.();
  const samples: number[] = [];
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const r = await post(agent, port, payload);
        check(r);
        samples.push(r.ms);
        bytes = r.body.length;
      }
    }),
  );
  const wall = performance.now() - started;
  return { latency: summarize(samples), requestsPerSecond: (count / wall) * 1000, responseBytes: bytes };
}

// ---- where the time goes --------------------------------------------------------------------------
function timeSync(n: number, fn: () => unknown): number[] {
  for (let i = 0; i < 20; i++) fn();
  return Array.from({ length: n }, () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  });
}
/** Like timeSync, with an untimed setup before every run whose result the timed part gets. */
function timeWithSetup<T>(n: number, setup: () => T, fn: (input: T) => unknown): number[] {
  for (let i = 0; i < 20; i++) fn(setup());
  return Array.from({ length: n }, () => {
    const input = setup();
    const t = performance.now();
    fn(input);
    return performance.now() - t;
  });
}
async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Groups CPU-profile self time (idle excluded) by package or project file. Builtins without a
 * script (JSON.parse, JSON.stringify, RegExp, ...) are charged to their nearest JS caller, so
 * JSON.parse called by the cache counts for src/hosts/host-state-cache.ts.
 */
function summarizeProfile(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }): {
  groups: Array<[string, number]>;
  functions: Array<[string, number]>;
  totalMs: number;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time elapsed before sample i; charge it to that sample's node.
  (profile.samples ?? []).forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const rootUrl = `file://${ROOT}`;
  const where = (url: string): string => {
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (nm) return nm[1]!;
    if (url.startsWith(rootUrl)) return `trunkline ${url.slice(rootUrl.length)}`;
    if (url.startsWith('node:')) return 'node core (http, streams, ...)';
    return url;
  };
  const short = (url: string) => (url.startsWith(rootUrl) ? url.slice(rootUrl.length) : url.replace(/^.*node_modules\//, ''));
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    let group: string;
    let key: string;
    if (url) {
      group = where(url);
      // Node strips the project's types in place, so line numbers are the source's.
      key = `${functionName || '(anonymous)'} ${short(url)}:${lineNumber + 1}`;
    } else if (functionName.startsWith('(')) {
      group = functionName; // (garbage collector), (program): native time outside JS
      key = functionName;
    } else {
      let p = parent.get(id);
      while (p !== undefined && !byId.get(p)?.callFrame.url) p = parent.get(p);
      const caller = p === undefined ? undefined : byId.get(p)!.callFrame;
      group = caller ? where(caller.url) : 'V8 builtins';
      key = `builtin ${functionName} <- ${caller ? `${caller.functionName || '(anonymous)'} ${short(caller.url)}:${caller.lineNumber + 1}` : '?'}`;
    }
    groups.set(group, (groups.get(group) ?? 0) + us);
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000] as [string, number]);
  return { groups: sorted(groups), functions: sorted(fns).slice(0, 15), totalMs: total / 1000 };
}

async function main(): Promise<void> {
  log(`# cached-fleet-query: GraphQL over HTTP against the real gateway, cache in Redis (${new Date().toISOString()})`);
  step('starting a private redis-server');
  const redisServer = await startRedisServer();
  const { config, prefix, issuer } = benchGatewayConfig(redisServer.url);
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs; other work on the machine shows up in the figures)`,
  );
  log(describeGit());
  log(
    `node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? '(unset)'} (graphql-js runs its slower development-mode checks unless it is "production")`,
  );
  log(
    `redis ${redisServer.url} (private, no persistence), prefix ${prefix}; ${HOSTS} hosts x ${VMS_PER_HOST} VMs; ${REQUESTS} requests after ${WARMUP} warm-ups`,
  );

  // The services gateway/main.ts builds, in this process.
  const logger = createLogger('trunkline-gateway', config.logLevel);
  const services = connectGatewayServices(config, logger, 'trunkline-bench-gateway');
  const { redis, hub, queue, registry, cache } = services;
  onCleanup('redis connections', () => services.close());
  onPrefixCleanup(redis, queue.queue, prefix);
  // Authentication on, as in production: every request carries an admin token.
  auth.authorization = `Bearer ${await issuer(redis)({ name: 'bench-admin', role: 'admin' })}`;

  // ---- seed ---------------------------------------------------------------------------------------
  step('seeding the cache from captured host output');
  const captured = loadCaptured();
  const observedAt = new Date().toISOString();
  const states: HostState[] = [];
  for (let h = 1; h <= HOSTS; h++) {
    const name = `bhv${String(h).padStart(2, '0')}`;
    const state = replicateHost(captured, name, h, VMS_PER_HOST, observedAt);
    await registry.put(fakeHost(name, h));
    await cache.put(state);
    states.push(state);
  }
  const stateBytes = states.map((s) => Buffer.byteLength(JSON.stringify(s)));
  const ports = states[0]!.ovs!.bridges[0]!.ports.length;
  const nics = states[0]!.libvirt!.domains.reduce((n, d) => n + d.interfaces.length, 0);
  const running = states[0]!.libvirt!.domains.filter((d) => d.state === 'running').length;
  log(
    `per host: ${VMS_PER_HOST} VMs (${running} running, ${nics} NICs), ${ports} OVS ports, ${captured.networks.length} networks; cached state JSON ${Math.round(stateBytes[0]! / 1024)} KiB/host, ${Math.round(stateBytes.reduce((a, b) => a + b, 0) / 1024)} KiB in all`,
  );

  // ---- gateway ------------------------------------------------------------------------------------
  await hub.start();
  const gateway = createGateway(services);
  const server = createServer(gateway);
  let connections = 0;
  server.on('connection', () => connections++);
  // Server-side time of each request (request event to response finish): excludes the client.
  let serverSide: number[] = [];
  server.prependListener('request', (_req, res) => {
    const t = performance.now();
    res.once('finish', () => serverSide.push(performance.now() - t));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  onCleanup('http server', () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  onCleanup('http agent', () => agent.destroy());
  log(`gateway: createGateway() on http://127.0.0.1:${port}/graphql (node:http, in process), client: node:http keep-alive agent`);
  log();

  // ---- sanity: the answers are what was seeded ---------------------------------------------------------
  const answers: Record<string, unknown> = {};
  for (const [name, query] of Object.entries(QUERIES)) {
    const r = await post(agent, port, JSON.stringify({ query }));
    const json = JSON.parse(r.body.toString()) as { data?: any; errors?: unknown[] };
    if (r.status !== 200 || json.errors) throw new Error(`${name}: HTTP ${r.status} ${r.body.toString().slice(0, 500)}`);
    answers[name] = json.data;
  }
  const fleetData = answers.fleet as {
    hypervisors: Array<{ vms: { nodes: Array<{ interfaces: unknown[] }> }; bridges: Array<{ ports: unknown[] }> }>;
  };
  const fleetVms = fleetData.hypervisors.reduce((n, h) => n + h.vms.nodes.length, 0);
  const fleetPorts = fleetData.hypervisors.reduce((n, h) => n + h.bridges.reduce((m, b) => m + b.ports.length, 0), 0);
  const vlanIfaces = (answers.vlan as { vlan: { interfaces: unknown[] } }).vlan.interfaces.length;
  if (fleetData.hypervisors.length !== HOSTS || fleetVms !== HOSTS * VMS_PER_HOST)
    throw new Error(`fleet query answered ${fleetData.hypervisors.length} hosts, ${fleetVms} VMs`);
  log(
    `answers: fleet query returns ${fleetData.hypervisors.length} hypervisors, ${fleetVms} VMs, ${fleetPorts} ports; vlan(1001) returns ${vlanIfaces} interfaces`,
  );
  log();

  // ---- latency --------------------------------------------------------------------------------------
  const results: Record<string, RunResult & { concurrency: number; connections: number }> = {};
  for (const name of Object.keys(QUERIES) as QueryName[]) {
    step(`${name}: ${REQUESTS} sequential requests`);
    const before = connections;
    const r = await runRequests(agent, port, QUERIES[name], WARMUP, REQUESTS, 1, () => (serverSide = []));
    results[name] = { ...r, server: summarize(serverSide), concurrency: 1, connections: connections - before };
  }
  step(`fleet: ${REQUESTS} requests, concurrency ${CONCURRENCY}`);
  const before = connections;
  const rc = await runRequests(agent, port, QUERIES.fleet, WARMUP, REQUESTS, CONCURRENCY, () => (serverSide = []));
  results[`fleet x${CONCURRENCY}`] = { ...rc, server: summarize(serverSide), concurrency: CONCURRENCY, connections: connections - before };

  log('## Latency through HTTP (ms, as the client sees it; client and gateway share this process and its cores)');
  log(
    table(
      ['query', 'conc.', 'p50', 'p90', 'p99', 'max', 'req/s', 'response', 'new TCP conns', 'server-side p50'],
      Object.entries(results).map(([name, r]) => [
        name,
        r.concurrency,
        fmt(r.latency.p50),
        fmt(r.latency.p90),
        fmt(r.latency.p99),
        fmt(r.latency.max),
        Math.round(r.requestsPerSecond),
        `${(r.responseBytes / 1024).toFixed(1)} KiB`,
        r.connections,
        fmt(r.server?.p50 ?? NaN),
      ]),
    ),
  );
  log('server-side = from the request event to the last byte handed to the socket (no client work).');
  const fleetP50 = results.fleet!.latency.p50;
  const met = fleetP50 < TARGET_P50_MS;
  log();
  log(
    `TARGET (issue): cached fleet query p50 < ${TARGET_P50_MS} ms -> ${met ? 'MET' : 'NOT MET'}: p50 = ${fmt(fleetP50)} ms (sequential, keep-alive)`,
  );
  log();

  // ---- refused before they run (issue 12's abuse limits) ---------------------------------------------------
  const REFUSED_RUNS = 50;
  const abusive = { '2,000 aliases of the fleet query': aliasFlood(2000), 'depth 15': deepQuery(13), introspection: INTROSPECTION_QUERY };
  const refused: Record<string, { bytes: number; code: string; firstMs: number; latency: Summary; responseBytes: number }> = {};
  for (const [name, query] of Object.entries(abusive)) {
    step(`refused: ${name}, ${REFUSED_RUNS} requests`);
    const payload = JSON.stringify({ query });
    const first = await post(agent, port, payload);
    const json = JSON.parse(first.body.toString()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    const code = json.errors?.[0]?.extensions?.code;
    if (json.data || !code)
      throw new Error(`${name}: not refused with a code: HTTP ${first.status} ${first.body.toString().slice(0, 300)}`);
    const ms: number[] = [];
    for (let i = 0; i < REFUSED_RUNS; i++) ms.push((await post(agent, port, payload)).ms);
    refused[name] = {
      bytes: Buffer.byteLength(payload),
      code,
      firstMs: first.ms,
      latency: summarize(ms),
      responseBytes: first.body.length,
    };
  }
  log(`## Refused before they run (${REFUSED_RUNS} requests each after the first; graphql-armor's limits at their defaults)`);
  log(
    table(
      ['query', 'request', 'answer', 'code', 'first ms', 'p50 ms', 'p99 ms'],
      Object.entries(refused).map(([name, r]) => [
        name,
        `${Math.round(r.bytes / 1024)} KiB`,
        `${r.responseBytes} B`,
        r.code,
        fmt(r.firstMs),
        fmt(r.latency.p50),
        fmt(r.latency.p99),
      ]),
    ),
  );
  log('(issue 12: the 2,000-alias query, 7.5 s and 1.5 MB before the limits, is to be refused in under 50 ms)');
  log();

  // ---- where the fleet query's time goes ----------------------------------------------------------------
  step('splitting the fleet query into its parts');
  const N = 200;
  const keys = states.map((s) => `${prefix}:host-state:${s.host}`);
  let texts: Array<string | null> = [];
  const parts: Record<string, number[]> = {};
  parts['registry.list(): HGETALL + JSON.parse + zod per host'] = await timeAsync(N, () => registry.list());
  parts['MGET of 10 host-state keys (Redis round trip + transfer)'] = await timeAsync(N, async () => (texts = await redis.mget(...keys)));
  parts['JSON.parse of the 10 cached states'] = timeSync(N, () => texts.map((t) => JSON.parse(t!)));
  parts['cache.getMany(), as the gateway calls it'] = await timeAsync(N, () => cache.getMany(states.map((s) => s.host)));
  const document = parse(QUERIES.fleet);
  parts['graphql parse + validate (yoga caches both per query string)'] = timeSync(N, () => validate(schema, parse(QUERIES.fleet)));
  // The in-process parts below run as an admin of every host, as the HTTP requests do.
  const IN_PROCESS = { caller: ANONYMOUS, source: null };
  const views: HostView[] = await createContext(services, IN_PROCESS).fleet();
  let result: unknown;
  parts['graphql-js execute, fleet preloaded (resolvers only, no Redis) [1]'] = await timeAsync(N, async () => {
    const ctx = createContext(services, IN_PROCESS);
    ctx.fleet = async () => views;
    result = await execute({ schema, document, contextValue: ctx });
  });
  parts['JSON.stringify of the result'] = timeSync(N, () => JSON.stringify(result));
  // Vm.interfaces resolves each VM's NICs with resolveDomain(state, domain), once per VM; the
  // join of NICs with OVS ports and portgroups is needed once per host (resolveInterfaces).
  // Each request parses fresh state objects, so every iteration gets fresh copies (untimed).
  const freshStates = () => views.map((v) => structuredClone(v.state));
  parts['Vm.interfaces work: resolveDomain(state, vm) for each of the 500 VMs'] = timeWithSetup(N, freshStates, (fresh) => {
    for (const st of fresh) for (const d of st.libvirt?.domains ?? []) resolveDomain(st, d);
  });
  parts['  the whole join once per host: resolveInterfaces(state) x10'] = timeWithSetup(N, freshStates, (fresh) => {
    for (const st of fresh) resolveInterfaces(st);
  });
  parts['graphql-js execute with the real context (Redis + JSON.parse + resolvers) [1]'] = await timeAsync(N, () =>
    Promise.resolve(execute({ schema, document, contextValue: createContext(services, IN_PROCESS) })),
  );
  const fleetPayload = JSON.stringify({ query: QUERIES.fleet });
  parts['gateway.fetch(): the whole yoga pipeline in process, no socket'] = await timeAsync(N, async () => {
    const res = await gateway.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...auth },
      body: fleetPayload,
    });
    await res.text();
  });
  log(`## Where the fleet query's time goes (p50 ms of ${N} runs each, in process, no HTTP)`);
  log(
    table(
      ['part', 'p50', 'p90'],
      Object.entries(parts).map(([k, v]) => [k, fmt(summarize(v).p50), fmt(summarize(v).p90)]),
    ),
  );
  const p50 = (k: string) => summarize(parts[k]!).p50;
  const inProcess = p50('gateway.fetch(): the whole yoga pipeline in process, no socket');
  log("[1] graphql-js's execute(); yoga runs @graphql-tools/executor, which the gateway.fetch() line includes.");
  log(
    `=> HTTP p50 ${fmt(fleetP50)} ms = gateway.fetch() ${fmt(inProcess)} ms + ${fmt(fleetP50 - inProcess)} ms for node:http, the socket and the client (the floor query shows that part alone is about ${fmt(results.floor!.latency.p50)} ms when little is allocated)`,
  );
  log();

  step('CPU profile of 200 sequential fleet queries');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const profiled = await runRequests(agent, port, QUERIES.fleet, 0, 200, 1);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const profilePath = writeResultFile('cached-fleet-query.cpuprofile', JSON.stringify(profile));
  const prof = summarizeProfile(profile as unknown as Parameters<typeof summarizeProfile>[0]);
  const perReq = (ms: number) => ms / 200;
  log(
    `## CPU profile: 200 fleet queries over HTTP (p50 ${fmt(profiled.latency.p50)} ms while profiling); self time per request, busy time only`,
  );
  log(
    table(
      ['where (package or project file)', 'ms/request', 'share'],
      prof.groups.slice(0, 14).map(([g, ms]) => [g, fmt(perReq(ms)), `${((ms / prof.totalMs) * 100).toFixed(1)}%`]),
    ),
  );
  log(
    table(
      ['hottest functions (self time)', 'ms/request'],
      prof.functions.slice(0, 12).map(([f, ms]) => [f.slice(0, 110), fmt(perReq(ms))]),
    ),
  );
  log(`profile: ${profilePath}`);

  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const path = writeResults('cached-fleet-query.json', {
    refused,
    benchmark: 'cached-fleet-query',
    machine: await machine(),
    settings: {
      nodeEnv: process.env.NODE_ENV ?? null,
      hosts: HOSTS,
      vmsPerHost: VMS_PER_HOST,
      requests: REQUESTS,
      warmup: WARMUP,
      concurrency: CONCURRENCY,
    },
    seeded: {
      portsPerHost: ports,
      nicsPerHost: nics,
      runningVmsPerHost: running,
      stateBytesPerHost: stateBytes[0],
      fleetVms,
      fleetPorts,
      vlan1001Interfaces: vlanIfaces,
    },
    queries: QUERIES,
    latency: Object.fromEntries(
      Object.entries(results).map(([k, r]) => [
        k,
        {
          concurrency: r.concurrency,
          ms: Object.fromEntries(Object.entries(r.latency).map(([a, b]) => [a, round(b)])),
          requestsPerSecond: Math.round(r.requestsPerSecond),
          responseBytes: r.responseBytes,
          serverSideMs: r.server ? Object.fromEntries(Object.entries(r.server).map(([a, b]) => [a, round(b)])) : null,
          newConnections: r.connections,
        },
      ]),
    ),
    target: { fleetP50Ms: TARGET_P50_MS, met, measuredP50Ms: round(fleetP50) },
    partsMs: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, { p50: round(summarize(v).p50), p90: round(summarize(v).p90) }])),
    cpuProfile: {
      file: profilePath,
      perRequestMs: Object.fromEntries(prof.groups.map(([g, ms]) => [g, round(perReq(ms))])),
      hottestFunctionsMs: Object.fromEntries(prof.functions.map(([f, ms]) => [f, round(perReq(ms))])),
    },
  });
  log();
  log(`JSON: ${path}`);
}

runBenchmark('cached-fleet-query', main);

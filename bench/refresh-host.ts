/**
 * Benchmark: reading one hypervisor's whole state (readHostState, the worker's refresh read)
 * over a real, warm SSH connection to a lab host, compared with a naive per-object read.
 *
 *   node bench/refresh-host.ts        (npm run bench:refresh; root, like the lab)
 *
 * Brings up its own lab (LAB_NAME=tlb, LAB_NET=7, one host) and tears it down at the end, also
 * after a failure or Ctrl-C. On hv1 it builds bridge ovsbr0 with 100 internal ports, the
 * reference libvirt network and 50 DEFINED (never started) VMs. Prints tables; writes JSON to
 * .trunkline/bench/refresh-host.json. Figures only: nothing here fails on timing.
 *
 * Env: BENCH_RUNS (20) runs of readHostState per measurement after BENCH_WARMUPS (2);
 *      BENCH_NAIVE_RUNS (5) runs of each naive variant after one warm-up;
 *      TRUNKLINE_SSH_* as for the worker (e.g. TRUNKLINE_SSH_MAX_CHANNELS, default 4).
 */
import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../src/config/config.ts';
import type { HostState } from '../src/hosts/host-state.ts';
import { readHostState } from '../src/hosts/read-host-state.ts';
import { parseRound1, parseRound2 } from '../src/libvirt/virsh-batch.ts';
import { parseOvsSnapshot } from '../src/ovs/snapshot.ts';
import type { Host } from '../src/inventory/host-registry.ts';
import { InventoryFileSource } from '../src/inventory/inventory-file.ts';
import { createLogger } from '../src/log/logger.ts';
import { SshPool } from '../src/ssh/ssh-pool.ts';
import { BENCH_LAB, addPorts, createBridge, INVENTORY_PATH, LibvirtFiles, removePorts } from './support/bench-lab.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { freshLab } from './support/fresh-lab.ts';
import { CountingRunner, roundTrips, type ExecRecord } from './support/counting-runner.ts';
import { naiveReadParallel, naiveReadSequential, type NaiveReadResult } from './support/naive-host-read.ts';
import { describeGit, machine, writeResults } from './support/results.ts';
import { fmt, percentile, round, summarize, table } from './support/stats.ts';
import { envInt } from './support/env.ts';

const RUNS = envInt('BENCH_RUNS', 20);
const WARMUPS = Number(process.env.BENCH_WARMUPS ?? 2);
const NAIVE_RUNS = envInt('BENCH_NAIVE_RUNS', 5);

const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[refresh-host] ${s}`);

interface Counts {
  bridges: number;
  ports: number;
  domains: number;
  domainInterfaces: number;
  networks: number;
}

interface Measurement {
  label: string;
  runs: number;
  wallMs: ReturnType<typeof summarize>;
  /** Per run; identical across runs unless the host changed. */
  execs: number[];
  roundTripsLogical: number[];
  roundTripsAsRun: number[];
  counts: Counts;
  /** Per exec (command → runMs samples), for where the time goes. */
  execRunMs: Record<string, number[]>;
  execStdoutBytes: Record<string, number>;
  phases?: Record<string, number[]>;
  selfReported?: { roundTrips: number[]; commands: number[]; durationMs: number[] };
}

function countsOf(state: HostState): Counts {
  const bridges = state.ovs?.bridges ?? [];
  const domains = state.libvirt?.domains ?? [];
  return {
    bridges: bridges.length,
    ports: bridges.reduce((n, b) => n + b.ports.length, 0),
    domains: domains.length,
    domainInterfaces: domains.reduce((n, d) => n + d.interfaces.length, 0),
    networks: state.libvirt?.networks.length ?? 0,
  };
}

const uniq = (xs: number[]) => [...new Set(xs)].join('/');

async function measure(
  label: string,
  runner: CountingRunner,
  runs: number,
  warmups: number,
  once: () => Promise<{ counts: Counts; state?: HostState; start: number; end: number }>,
): Promise<Measurement> {
  for (let i = 0; i < warmups; i++) await once();
  runner.take();
  const m: Measurement = {
    label,
    runs,
    wallMs: summarize([0]),
    execs: [],
    roundTripsLogical: [],
    roundTripsAsRun: [],
    counts: undefined as never,
    execRunMs: {},
    execStdoutBytes: {},
  };
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { counts, state, start, end } = await once();
    const recs = runner.take();
    wall.push(end - start);
    const rt = roundTrips(recs);
    m.execs.push(recs.length);
    m.roundTripsLogical.push(rt.logical);
    m.roundTripsAsRun.push(rt.asRun);
    m.counts = counts;
    for (const r of recs) {
      (m.execRunMs[r.command] ??= []).push(r.runMs);
      m.execStdoutBytes[r.command] = r.stdoutBytes;
    }
    if (state) {
      const sr = (m.selfReported ??= { roundTrips: [], commands: [], durationMs: [] });
      sr.roundTrips.push(state.read!.roundTrips);
      sr.commands.push(state.read!.commands);
      sr.durationMs.push(state.read!.durationMs);
      addPhases(m, recs, start, end);
    }
  }
  m.wallMs = summarize(wall);
  return m;
}

/** readHostState's wall time split: round 1 (3 execs in parallel), parse, round 2, parse. */
function addPhases(m: Measurement, recs: ExecRecord[], start: number, end: number): void {
  const ph = (m.phases ??= {});
  const push = (k: string, v: number) => (ph[k] ??= []).push(v);
  const sorted = [...recs].sort((a, b) => a.issuedAt - b.issuedAt);
  const r1 = sorted.slice(0, 3);
  const r1End = Math.max(...r1.map((r) => r.endedAt));
  push('round 1: 3 execs in parallel (until the slowest ends)', r1End - start);
  const r2 = sorted[3];
  if (r2) {
    push('parse OVS JSON + virsh lists', r2.issuedAt - r1End);
    push('round 2: one virsh batch exec', r2.endedAt - r2.issuedAt);
    push('parse round 2 (domain + network XML), build state', end - r2.endedAt);
  } else push('parse + build state', end - r1End);
}

/**
 * Re-runs readHostState's parsers on the output its last run received, 20 times each after 3
 * warm-ups, to tell parsing cost from waiting on the host.
 */
function replayParsers(runner: CountingRunner): Record<string, number[]> {
  const out = (pred: (label: string) => boolean) => [...runner.lastOutput].find(([k]) => pred(k))?.[1].stdout ?? '';
  const ovs = out((k) => k.startsWith('ovs-vsctl list Bridge'));
  const r1 = out((k) => k.startsWith('virsh batch [version'));
  const r2 = out((k) => k.includes('dumpxml'));
  const marker = /::tl-[0-9a-f]{12}::/.exec(r1)?.[0] ?? '';
  const lists = parseRound1(r1, marker);
  const timed = (fn: () => unknown) => {
    for (let i = 0; i < 3; i++) fn();
    return Array.from({ length: 20 }, () => {
      const t = performance.now();
      fn();
      return performance.now() - t;
    });
  };
  return {
    [`parseOvsSnapshot (${ovs.length} bytes)`]: timed(() => parseOvsSnapshot(ovs)),
    [`parseRound1 (${r1.length} bytes)`]: timed(() => parseRound1(r1, marker)),
    [`parseRound2 (${r2.length} bytes, ${lists.domainUuids.length} domains, ${lists.networkUuids.length} networks)`]: timed(() =>
      parseRound2(r2, marker, lists.domainUuids, lists.networkUuids),
    ),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  log(`# refresh-host: readHostState over SSH vs a naive per-object read (${new Date().toISOString()})`);
  log(
    `lab ${BENCH_LAB.LAB_NAME} (198.18.${BENCH_LAB.LAB_NET}.0/24, 1 host), SSH pool maxChannels=${config.ssh.maxChannels}, sudo=${config.ssh.sudo}`,
  );
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs; other work on the machine shows up in the figures)`,
  );
  log(describeGit());
  log(`runs: readHostState ${RUNS} after ${WARMUPS} warm-ups; naive ${NAIVE_RUNS} after 1 warm-up`);
  log();

  // A leftover lab of an interrupted run would carry its VMs and ports: start from scratch.
  step('lab down (leftovers), lab up');
  await freshLab(BENCH_LAB, step);
  const files = new LibvirtFiles();
  onCleanup('temp dir', () => files.remove());

  const inventory = await new InventoryFileSource(INVENTORY_PATH).load();
  const host: Host = inventory.hypervisors[0]!;
  const pool = new SshPool({ ...config.ssh, logger: createLogger('trunkline-bench', 'silent') });
  onCleanup('ssh pool', () => pool.close());
  const runner = new CountingRunner(pool);
  const timeoutMs = config.ssh.commandTimeoutMs;

  // ---- per-exec cost on the warm connection ----------------------------------------------------
  step('baseline exec latency');
  await pool.exec(host, ['true'], { sudo: false }); // opens the connection
  const baseline: Record<string, number[]> = {};
  const probes: Array<[string, string[], boolean]> = [
    ['true (no sudo)', ['true'], false],
    ['sudo ovs-vsctl list-br', ['ovs-vsctl', 'list-br'], true],
    ['sudo virsh list --all --name', ['virsh', '-c', 'qemu:///system', 'list', '--all', '--name'], true],
  ];
  for (const [name, argv, sudo] of probes) {
    for (let i = 0; i < 2; i++) await pool.exec(host, argv, { sudo });
    baseline[name] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await pool.exec(host, argv, { sudo });
      baseline[name].push(performance.now() - t);
    }
  }

  const trunkline = async () => {
    const start = performance.now();
    const state = await readHostState(runner, host, null, timeoutMs);
    const end = performance.now();
    if (state.status !== 'REACHABLE' || state.error) throw new Error(`readHostState failed: ${state.error?.code} ${state.error?.message}`);
    return { counts: countsOf(state), state, start, end };
  };
  const naive = (fn: typeof naiveReadSequential) => async () => {
    const start = performance.now();
    const counts: NaiveReadResult = await fn(runner, host, timeoutMs);
    return { counts, start, end: performance.now() };
  };

  const scaling: Array<{ vms: number; extraPorts: number; m: Measurement }> = [];
  step('empty host');
  scaling.push({ vms: 0, extraPorts: -1, m: await measure('empty host (no bridge, no network)', runner, RUNS, WARMUPS, trunkline) });

  step('building ovsbr0 + 100 ports, ovs-network, 50 defined VMs');
  await createBridge();
  await addPorts();
  await files.defineNetwork();
  await files.setVmCount(50);

  // ---- main comparison at 50 VMs / 100 ports -------------------------------------------------
  step(`readHostState x${RUNS}`);
  const tl = await measure('Trunkline readHostState', runner, RUNS, WARMUPS, trunkline);
  const replay = replayParsers(runner);
  step(`naive sequential x${NAIVE_RUNS}`);
  const seq = await measure('naive, sequential', runner, NAIVE_RUNS, 1, naive(naiveReadSequential));
  step(`naive parallel x${NAIVE_RUNS}`);
  const par = await measure(`naive, parallel (<= ${config.ssh.maxChannels} channels)`, runner, NAIVE_RUNS, 1, naive(naiveReadParallel));
  const sameView = JSON.stringify(tl.counts) === JSON.stringify(seq.counts) && JSON.stringify(tl.counts) === JSON.stringify(par.counts);
  scaling.push({ vms: 50, extraPorts: 100, m: tl });

  // ---- round trips vs. size -------------------------------------------------------------------
  let portsPresent = true;
  for (const [vms, ports] of [
    [10, 100],
    [0, 100],
    [0, 0],
    [10, 0],
    [50, 0],
  ] as const) {
    step(`scaling: ${vms} VMs, ${ports} extra ports`);
    if (ports === 0 && portsPresent) {
      await removePorts();
      portsPresent = false;
    }
    await files.setVmCount(vms);
    scaling.push({ vms, extraPorts: ports, m: await measure(`${vms} VMs, ${ports} ports`, runner, RUNS, WARMUPS, trunkline) });
  }

  // ---- output -------------------------------------------------------------------------------------
  log('## Per-exec cost on the warm pooled connection (20 runs each)');
  log(
    table(
      ['command', 'p50 ms', 'p95 ms'],
      Object.entries(baseline).map(([k, v]) => [k, fmt(percentile(v, 50)), fmt(percentile(v, 95))]),
    ),
  );
  log();
  const c = tl.counts;
  log(
    `## Reading hv1: ${c.bridges} bridge, ${c.ports} OVS ports, ${c.domains} defined VMs (${c.domainInterfaces} NICs), ${c.networks} network`,
  );
  log(
    table(
      ['read', 'runs', 'execs', 'round trips (logical)', 'round trips (as run)', 'p50 ms', 'p95 ms', 'vs Trunkline p50'],
      [tl, seq, par].map((m) => [
        m.label,
        m.runs,
        uniq(m.execs),
        uniq(m.roundTripsLogical),
        uniq(m.roundTripsAsRun),
        fmt(m.wallMs.p50),
        fmt(m.wallMs.p95),
        `${(m.wallMs.p50 / tl.wallMs.p50).toFixed(1)}x`,
      ]),
    ),
  );
  log(
    `all three reads saw the same objects: ${sameView ? 'yes' : `NO (trunkline ${JSON.stringify(tl.counts)}, naive ${JSON.stringify(seq.counts)} / ${JSON.stringify(par.counts)})`}`,
  );
  log(
    `readHostState's own read stats: roundTrips=${uniq(tl.selfReported!.roundTrips)} commands=${uniq(tl.selfReported!.commands)} durationMs p50=${fmt(percentile(tl.selfReported!.durationMs, 50))}`,
  );
  log("round trips: logical = dependency depth of the code; as run = also counting waits for one of the pool's channels.");
  log();
  log('## Where readHostState spends its time (p50 / p95 ms over the runs)');
  log(
    table(
      ['phase', 'p50', 'p95'],
      Object.entries(tl.phases ?? {}).map(([k, v]) => [k, fmt(percentile(v, 50)), fmt(percentile(v, 95))]),
    ),
  );
  log(
    table(
      ['exec (time on its channel)', 'stdout bytes', 'p50', 'p95'],
      Object.entries(tl.execRunMs).map(([k, v]) => [k, tl.execStdoutBytes[k] ?? 0, fmt(percentile(v, 50)), fmt(percentile(v, 95))]),
    ),
  );
  log(
    table(
      ['the same parsers replayed on the captured output, in process (no SSH)', 'p50', 'p95'],
      Object.entries(replay).map(([k, v]) => [k, fmt(percentile(v, 50)), fmt(percentile(v, 95))]),
    ),
  );
  log();
  log('## Round trips stay constant as the host grows (readHostState)');
  log(
    table(
      ['VMs', 'OVS ports', 'networks', 'round trips', 'execs', 'p50 ms', 'p95 ms'],
      scaling.map(({ m }) => [
        m.counts.domains,
        m.counts.ports,
        m.counts.networks,
        uniq(m.roundTripsAsRun),
        uniq(m.execs),
        fmt(m.wallMs.p50),
        fmt(m.wallMs.p95),
      ]),
    ),
  );
  log('(first row: fresh host without bridge or network, so round 2 is skipped)');

  const slim = (m: Measurement) => ({
    label: m.label,
    runs: m.runs,
    counts: m.counts,
    execs: [...new Set(m.execs)],
    roundTripsLogical: [...new Set(m.roundTripsLogical)],
    roundTripsAsRun: [...new Set(m.roundTripsAsRun)],
    wallMs: Object.fromEntries(Object.entries(m.wallMs).map(([k, v]) => [k, round(v)])),
    ...(m.selfReported
      ? { selfReported: { roundTrips: [...new Set(m.selfReported.roundTrips)], commands: [...new Set(m.selfReported.commands)] } }
      : {}),
  });
  const p50s = (o: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { p50: round(percentile(v, 50)), p95: round(percentile(v, 95)) }]));
  const path = writeResults('refresh-host.json', {
    benchmark: 'refresh-host',
    machine: await machine(),
    settings: {
      runs: RUNS,
      warmups: WARMUPS,
      naiveRuns: NAIVE_RUNS,
      maxChannels: config.ssh.maxChannels,
      sudo: config.ssh.sudo,
      lab: BENCH_LAB,
    },
    baselineExecMs: p50s(baseline),
    comparison: { trunkline: slim(tl), naiveSequential: slim(seq), naiveParallel: slim(par), sameView },
    readHostStatePhasesMs: p50s(tl.phases ?? {}),
    readHostStateExecRunMs: p50s(tl.execRunMs),
    readHostStateExecStdoutBytes: tl.execStdoutBytes,
    parserReplayMs: p50s(replay),
    scaling: scaling.map(({ m }) => slim(m)),
  });
  log();
  log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`JSON: ${path}`);
}

runBenchmark('refresh-host', main);

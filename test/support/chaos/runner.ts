/**
 * One chaos run: a lab of its own, a private AOF Redis, 2 gateways + 3 workers as processes, a
 * seeded stream of change jobs through both gateways while faults are injected on a seeded
 * schedule, then (faults stopped, everything healthy again) the history check. Used by
 * bench/chaos.ts (default size) and test/e2e/chaos.test.ts (a small profile).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../free-port.ts';
import { tokenIssuer } from '../tokens.ts';
import { apiClient, type Api, type JobRecord } from './api.ts';
import { createDeployment, type Deployment } from './deployment.ts';
import { FAULT_KINDS, faultSchedule, injectFault, type FaultKind, type FaultRecord } from './faults.ts';
import {
  attributeJoblessEvents,
  checkAttempts,
  checkCacheAgrees,
  checkChanges,
  checkConvergence,
  checkJobs,
  checkReceived,
  LIBVIRT_CHANGES,
  portValue,
  type HostLog,
  type HostModel,
  type StreamEvent,
} from './history.ts';
import { createLab, type Lab } from './lab-hosts.ts';
import { API_LOG, API_LOG_FILTERS, API_LOG_OUTPUTS, parseApiLog } from './libvirt-log.ts';
import { parsePortgroups, parsePortsCsv, parseShowLog } from './ovs-log.ts';
import { mulberry32 } from './prng.ts';
import { startAofRedis } from './redis-aof.ts';
import { FleetWsSubscriber, followJobSse, type SseFollow } from './subscribers.ts';
import {
  cancel,
  canonicalJobId,
  generateJobs,
  newSubmission,
  NETWORK,
  PORTGROUPS,
  PORTS,
  submit,
  VLANS,
  type Submission,
} from './workload.ts';

export interface ChaosProfile {
  seed: number;
  /** At least this many accepted change jobs (requests go on until then, and until the faults are done). */
  jobs: number;
  faults: Partial<Record<FaultKind, number>>;
  labName: string;
  labNet: number;
  hosts: number;
  lockMs: number;
  commandTimeoutMs: number;
  /** Pause between faults (ms, drawn in [min, max]). */
  faultGapMs: [number, number];
  /** Bounded wait for every job to end once faults stopped. */
  settleMs: number;
  logDir: string;
  /** Every how many accepted jobs one gets an SSE follower. */
  sseEvery: number;
  /** A worker fault waits this long for a worker that runs a host part (else it takes any). */
  aimMs?: number;
  print: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  figures: Record<string, unknown>;
  violations: string[];
  faults: FaultRecord[];
  finalLine: string;
  crashes: string[];
}

type Cleanup = (name: string, fn: () => unknown) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

async function readHostModel(lab: Lab, host: string, violations: string[]): Promise<HostModel> {
  const m: HostModel = new Map();
  const ports = parsePortsCsv(
    await lab.must(host, [
      'ovs-vsctl',
      '--timeout=10',
      '--format=csv',
      '--data=bare',
      '--no-headings',
      '--columns=name,tag,trunks',
      'list',
      'Port',
    ]),
  );
  for (const p of PORTS) m.set(`port:${p}`, portValue(ports.get(p)));
  const uplink = ports.get('enp5s0f0')?.trunks ?? [];
  for (const v of VLANS) m.set(`uplink:${v}`, uplink.includes(v) ? 'yes' : 'no');
  const live = parsePortgroups(await lab.must(host, ['virsh', '-c', 'qemu:///system', 'net-dumpxml', NETWORK]));
  const config = parsePortgroups(await lab.must(host, ['virsh', '-c', 'qemu:///system', 'net-dumpxml', '--inactive', NETWORK]));
  for (const pg of [...PORTGROUPS, ...VLANS.map((v) => `vlan-${String(v).padStart(4, '0')}`)]) {
    const l = live.get(pg);
    const c = config.get(pg);
    m.set(`pg:${pg}`, l ? `tags=${l.join(',')}` : 'absent');
    if (String(l) !== String(c)) violations.push(`${host} portgroup ${pg}: live ${l ?? 'absent'} but persistent ${c ?? 'absent'}`);
  }
  return m;
}

async function readCacheModels(api: Api, hosts: string[]): Promise<Map<string, HostModel>> {
  const d = await api.gql<any>(
    '{ hypervisors { name bridges { name ports { name tag trunks } } networks { name portgroups { name vlanTags } } } }',
  );
  const out = new Map<string, HostModel>();
  for (const h of d.hypervisors as any[]) {
    if (!hosts.includes(h.name)) continue;
    const m: HostModel = new Map();
    const ports = new Map<string, { tag: number | null; trunks: number[] }>();
    for (const b of h.bridges)
      for (const p of b.ports) ports.set(p.name, { tag: p.tag ?? null, trunks: [...p.trunks].sort((a: number, b: number) => a - b) });
    for (const p of PORTS) m.set(`port:${p}`, portValue(ports.get(p)));
    const uplink = ports.get('enp5s0f0')?.trunks ?? [];
    for (const v of VLANS) m.set(`uplink:${v}`, uplink.includes(v) ? 'yes' : 'no');
    const net = (h.networks as any[]).find((n) => n.name === NETWORK);
    const pgs = new Map<string, number[]>(
      (net?.portgroups ?? []).map((p: any) => [p.name, [...p.vlanTags].sort((a: number, b: number) => a - b)]),
    );
    for (const pg of [...PORTGROUPS, ...VLANS.map((v) => `vlan-${String(v).padStart(4, '0')}`)]) {
      const l = pgs.get(pg);
      m.set(`pg:${pg}`, l ? `tags=${l.join(',')}` : 'absent');
    }
    out.set(h.name, m);
  }
  return out;
}

/**
 * Makes the host's libvirtd log every network and domain API call it serves (libvirt-log.ts), now
 * (virt-admin) and after a restart (its config file: the libvirtd-restart fault).
 */
async function enableApiLog(lab: Lab, host: string): Promise<void> {
  const conf = '/etc/libvirt/libvirtd.conf';
  await lab.must(host, [
    'sh',
    '-c',
    `sed -i '/^log_filters/d; /^log_outputs/d' ${conf} && printf 'log_filters = "%s"\nlog_outputs = "%s"\n' '${API_LOG_FILTERS}' '${API_LOG_OUTPUTS}' >> ${conf}`,
  ]);
  await lab.must(host, ['virt-admin', 'daemon-log-filters', API_LOG_FILTERS]);
  await lab.must(host, ['virt-admin', 'daemon-log-outputs', API_LOG_OUTPUTS]);
}

async function showLog(lab: Lab, host: string) {
  return parseShowLog(await lab.must(host, ['ovsdb-tool', 'show-log', '-m', '/etc/openvswitch/conf.db']));
}

/** Runs a change to its end through one API client (setup and the final refresh). */
async function runToEnd(api: Api, name: string, input: Record<string, unknown>, timeoutMs = 60_000): Promise<JobRecord> {
  const cap = name[0]!.toUpperCase() + name.slice(1);
  const d = await api.gql<any>(`mutation($input: ${cap}Input!) { ${name}(input: $input) { job { id } userErrors { code message } } }`, {
    input,
  });
  if (d[name].userErrors.length) throw new Error(`${name}: ${JSON.stringify(d[name].userErrors)}`);
  const id = canonicalJobId(d[name].job.id);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const j = await api.job(id).catch((err: Error) => {
      last = err.message;
      return null;
    });
    if (j && TERMINAL.has(j.state)) return j;
    if (Date.now() > deadline) throw new Error(`${name} ${id} did not end in ${timeoutMs} ms (${j?.state ?? last})`);
    await sleep(200);
  }
}

async function healAll(lab: Lab, dep: Deployment, print: (l: string) => void): Promise<void> {
  for (const h of lab.hosts) {
    lab.signalHost(h, 'SIGCONT');
    await lab.setLink(h, true).catch(() => {});
    for (const d of ['ovsdb-server', 'ovs-vswitchd', 'virtlogd', 'libvirtd', 'sshd'] as const) {
      if (!lab.daemonPid(h, d)) {
        print(`  heal: ${h} ${d} was not running: starting it`);
        await lab.ensureDaemon(h, d);
      }
    }
  }
  for (const p of dep.all()) {
    p.thaw();
    if (!p.running()) {
      print(`  heal: ${p.name} was not running: starting it`);
      await p.start();
    }
  }
}

/**
 * What became of every worker stall: whether the stalled worker held a part (it was RUNNING on
 * it after the SIGSTOP), whether its log says it was fenced on waking (`host part interrupted:
 * lease or claim lost`, its pid, within 20 s of the SIGCONT), and how the part's attempts ended.
 * A stalled part whose stalled attempt carries an outcome of its own (SUCCEEDED, FAILED,
 * CANCELLED) although a later attempt took it over is a violation (checkAttempts says so too).
 */
export function stallOutcomes(
  faults: FaultRecord[],
  dep: Deployment,
  records: Map<string, JobRecord | null>,
): { fenced: number; lines: string[]; violations: string[] } {
  const out = { fenced: 0, lines: [] as string[], violations: [] as string[] };
  const logs = new Map<string, string[]>();
  for (const [n, f] of faults.entries()) {
    const t = f.target;
    if (f.kind !== 'worker-stop' || !t || !t.thawedAt) continue;
    const proc = dep.workers.find((w) => w.name === t.worker);
    if (!proc) continue;
    if (!logs.has(proc.name)) {
      let text = '';
      try {
        text = readFileSync(proc.logPath, 'utf8');
      } catch {
        // no log
      }
      logs.set(proc.name, text.split('\n'));
    }
    // Lines of this incarnation after the SIGCONT: on the part it held, or on another part it ran (concurrency > 1).
    let wakeLines = 0;
    let onHeldPart = 0;
    for (const line of logs.get(proc.name)!) {
      if (!line.includes('host part interrupted: lease or claim lost')) continue;
      try {
        const j = JSON.parse(line) as { pid?: number; time?: number; jobId?: string; host?: string };
        if (j.pid !== t.pid || (j.time ?? 0) < t.thawedAt - 50 || (j.time ?? 0) > t.thawedAt + 20_000) continue;
        wakeLines++;
        if (j.jobId === t.jobId && j.host === t.host) onHeldPart++;
      } catch {
        // not JSON
      }
    }
    if (wakeLines > 0) out.fenced++;
    let attempts = '';
    if (t.jobId && t.host) {
      const part = records.get(t.jobId)?.hosts.find((h) => h.hypervisor === t.host);
      const mine = part?.attemptList.find((a) => a.number === t.attempt);
      attempts = part ? part.attemptList.map((a) => `#${a.number} ${a.worker ?? '?'} ${a.outcome}`).join(', ') : 'no record';
      if (t.hitMidPart && mine && part && mine.number < part.attemptList.length && !['TAKEN_OVER', 'LOCK_LOST'].includes(mine.outcome))
        out.violations.push(
          `stall ${n + 1}: ${t.worker} was stalled mid-part (job ${t.jobId} ${t.host}) and taken over, but its attempt ${mine.number} ended ${mine.outcome}`,
        );
      // Fenced on waking, so it did not end its attempt itself: whoever did must say why.
      else if (t.hitMidPart && onHeldPart > 0 && mine && !['TAKEN_OVER', 'LOCK_LOST'].includes(mine.outcome) && !mine.reason?.trim())
        out.violations.push(
          `stall ${n + 1}: ${t.worker} was stalled mid-part (job ${t.jobId} ${t.host}) and fenced on waking, so another worker ended its attempt ${mine.number}, as ${mine.outcome} without a reason (attempts: ${attempts})`,
        );
    }
    out.lines.push(
      `  stall (fault ${n + 1}): ${t.worker} pid ${t.pid} ${t.hitMidPart ? `held job ${t.jobId} ${t.host} (attempt ${t.attempt})` : t.aimed ? `aimed at job ${t.jobId} ${t.host}, which ended before the SIGSTOP` : 'held no part'}; fenced on waking: ${wakeLines ? `yes (${wakeLines} part(s)${t.hitMidPart ? `, ${onHeldPart ? '' : 'not '}the one it held` : ''})` : 'no'}${attempts ? `; attempts now: ${attempts}` : ''}`,
    );
  }
  return out;
}

export async function runChaos(profile: ChaosProfile, onCleanup: Cleanup): Promise<ChaosResult> {
  const { print, seed } = profile;
  const rng = mulberry32(seed);
  const workRng = rng.fork();
  const faultRng = rng.fork();
  const t0 = Date.now();
  const violations: string[] = [];

  // --- lab, Redis, deployment -----------------------------------------------------------------
  const lab = createLab({ name: profile.labName, net: profile.labNet, hosts: profile.hosts });
  onCleanup(`lab ${lab.name} down`, () => lab.down());
  await lab.up();
  for (const h of lab.hosts) await enableApiLog(lab, h);
  print(`lab ${lab.name}: ${lab.hosts.length} hosts up (198.18.${lab.net}.0/24), libvirtd logging its network and domain API calls`);
  const redis = await startAofRedis();
  onCleanup('redis-server (AOF)', () => redis.destroy());
  print(`redis-server ${redis.url}, AOF everysec in ${redis.dir}`);
  const prefix = `tl-chaos-${randomBytes(4).toString('hex')}`;
  const pepper = randomBytes(32).toString('hex');
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  onCleanup('redis client', () => admin.disconnect());
  const token = await tokenIssuer(admin, prefix, pepper)({ name: 'chaos-admin', role: 'admin' });
  const env: Record<string, string> = {
    TRUNKLINE_AUTH_PEPPER: pepper,
    TRUNKLINE_RATE_CHANGES_PER_MINUTE: '1000000',
    TRUNKLINE_RATE_READS_PER_MINUTE: '1000000',
    TRUNKLINE_REDIS_URL: redis.url,
    TRUNKLINE_PREFIX: prefix,
    TRUNKLINE_INVENTORY: lab.inventoryPath,
    TRUNKLINE_REFRESH_INTERVAL_SECONDS: '0',
    TRUNKLINE_JOB_LOCK_MS: String(profile.lockMs),
    TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: String(profile.commandTimeoutMs),
    TRUNKLINE_SSH_CONNECT_TIMEOUT_MS: '3000',
    TRUNKLINE_SSH_KEEPALIVE_MS: '2000',
    TRUNKLINE_WEBHOOK_PROCESS: 'none',
    TRUNKLINE_WORKER_CONCURRENCY: '4',
    NODE_ENV: 'production',
    TRUNKLINE_LOG_LEVEL: 'info',
  };
  const dep = createDeployment({
    env,
    logDir: profile.logDir,
    gateways: [
      { name: 'gateway-1', port: await freePort() },
      { name: 'gateway-2', port: await freePort() },
    ],
    workers: ['worker-1', 'worker-2', 'worker-3'],
  });
  onCleanup('trunkline processes', () => dep.stopAll());
  await dep.startAll();
  print(`prefix ${prefix}; gateways ${dep.gateways.map((g) => g.url).join(', ')}; 3 workers; logs in ${profile.logDir}`);
  const apis = dep.gateways.map((g) => apiClient(g.url!, token));
  const bases = apis.map((a) => a.base);

  // --- setup through Trunkline (before the baseline) ------------------------------------------
  // The first commands on a fresh lab can exceed the (low) command timeout: up to 3 tries.
  const setup = async (api: Api, name: string, input: Record<string, unknown>) => {
    for (let i = 1; ; i++) {
      const j = await runToEnd(api, name, input);
      if (j.state === 'SUCCEEDED') return;
      if (i >= 3) throw new Error(`setup ${name} ${JSON.stringify(input)}: ${j.state} ${JSON.stringify(j.error)}`);
      print(`  setup ${name} ${j.state} (${j.error?.code}): again`);
    }
  };
  for (const h of lab.hosts) await setup(apis[0]!, 'createBridge', { hypervisor: h, name: 'ovsbr0' });
  await setup(apis[1]!, 'ensureVlan', { tag: 1001, hypervisors: lab.hosts });
  const initial = new Map<string, HostModel>();
  const before = new Map<string, Awaited<ReturnType<typeof showLog>>>();
  for (const h of lab.hosts) {
    initial.set(h, await readHostModel(lab, h, violations));
    before.set(h, await showLog(lab, h));
    // The libvirt baseline: the API log starts again here (libvirtd appends to it).
    await lab.must(h, ['sh', '-c', `: > ${API_LOG}`]);
  }
  print(
    `setup done: bridge ovsbr0 and VLAN 1001 on every host; OVSDB log baseline ${lab.hosts.map((h) => `${h} ${before.get(h)!.length}`).join(', ')} records`,
  );

  // --- subscribers ----------------------------------------------------------------------------
  const ws = [
    new FleetWsSubscriber(
      dep.gateways.map((g) => g.url!),
      token,
      0,
    ),
    new FleetWsSubscriber(
      dep.gateways.map((g) => g.url!),
      token,
      1,
    ),
  ];
  onCleanup('websocket subscribers', () => Promise.all(ws.map((w) => w.stop())));
  await Promise.all(ws.map((w) => w.start()));

  // --- workload + faults ----------------------------------------------------------------------
  // More requests than jobs wanted: some are refused; requests go on while faults are injected.
  const specs = generateJobs(workRng, Math.ceil(profile.jobs * 2) + 20, lab.hosts, prefix);
  const allSubs: Submission[] = specs.map(newSubmission);
  const schedule = faultSchedule(faultRng, profile.faults);
  const gaps = schedule.map(() => faultRng.int(profile.faultGapMs[0], profile.faultGapMs[1]));
  const faultWindowMs = gaps.reduce((a, b) => a + b, 0) + schedule.length * 4000;
  const interval = Math.max(50, Math.floor(faultWindowMs / Math.max(1, profile.jobs)));
  print(
    `workload: ${profile.jobs} change jobs, one every ~${interval} ms; faults: ${schedule.length} (${FAULT_KINDS.map((k) => `${k} ${profile.faults[k] ?? 0}`).join(', ')})`,
  );
  const follows: SseFollow[] = [];
  let faultsDone = false;
  const faults: FaultRecord[] = [];
  const faultLoop = (async () => {
    for (let i = 0; i < schedule.length; i++) {
      await sleep(gaps[i]!);
      const r = await injectFault(schedule[i]!, {
        lab,
        deployment: dep,
        redis,
        rng: faultRng,
        lockMs: profile.lockMs,
        commandTimeoutMs: profile.commandTimeoutMs,
        apis,
        aimMs: profile.aimMs ?? 2000,
        log: print,
      });
      faults.push(r);
      print(`  fault ${i + 1}/${schedule.length} ${r.kind} (${r.ms} ms): ${r.detail}${r.error ? ` — ERROR ${r.error}` : ''}`);
    }
    faultsDone = true;
  })();
  const inflight = new Set<Promise<void>>();
  let accepted = 0;
  const submitDeadline = () => Date.now() + 20_000;
  let sent = 0;
  for (const [i, spec] of specs.entries()) {
    if (accepted >= profile.jobs && faultsDone) break;
    sent = i + 1;
    const sub = allSubs[i]!;
    const p = (async () => {
      const sends = [submit(apis, spec, sub, submitDeadline())];
      if (spec.duplicate) sends.push(submit(apis, { ...spec, gateway: 1 - spec.gateway }, sub, submitDeadline()));
      await Promise.all(sends);
      if (!sub.jobId) return;
      accepted++;
      if (accepted % profile.sseEvery === 0)
        follows.push(followJobSse(bases, token, sub.jobId, accepted % 2, Date.now() + profile.settleMs + faultWindowMs));
      if (spec.cancelAfterMs !== null) {
        await sleep(spec.cancelAfterMs);
        const g = workRng.int(0, 1);
        await cancel(apis[g]!, g, sub, workRng.chance(0.5));
      }
    })();
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    while (inflight.size >= 8) await Promise.race(inflight);
    await sleep(interval);
  }
  await Promise.all(inflight);
  await faultLoop;
  const subs = allSubs.slice(0, sent);
  print(
    `workload submitted (${subs.length} requests, ${accepted} accepted${sent === specs.length ? ', all generated requests sent' : ''}) and faults done at +${Math.round((Date.now() - t0) / 1000)} s; healing`,
  );

  // --- heal, resolve, settle ------------------------------------------------------------------
  await healAll(lab, dep, print);
  for (const sub of subs.filter((s) => !s.jobId && !s.refused)) await submit(apis, sub.spec, sub, Date.now() + 30_000);
  const ids = [...new Set(subs.flatMap((s) => (s.jobId ? [s.jobId, ...s.conflictingIds] : [])))];
  const settleDeadline = Date.now() + profile.settleMs;
  const records = new Map<string, JobRecord | null>();
  for (;;) {
    const open: string[] = [];
    for (const id of ids) {
      const r = records.get(id);
      if (r && TERMINAL.has(r.state)) continue;
      const j = await apis[0]!.job(id).catch(async () => apis[1]!.job(id).catch(() => undefined));
      if (j === undefined) {
        open.push(id);
        continue;
      }
      records.set(id, j);
      if (!j || !TERMINAL.has(j.state)) open.push(id);
    }
    if (open.length === 0 || Date.now() > settleDeadline) break;
    await sleep(1000);
  }
  print(`jobs settled at +${Math.round((Date.now() - t0) / 1000)} s`);
  await Promise.race([Promise.all(follows.map((f) => f.done)), sleep(15_000)]);
  // The fleet subscribers: until every job's terminal event arrived (bounded).
  const terminalSeen = (w: FleetWsSubscriber) => {
    const ended = new Set(w.events.filter((e) => TERMINAL.has(e.type)).map((e) => canonicalJobId(e.jobId)));
    return ids.every((id) => ended.has(id) || !records.get(id));
  };
  const wsDeadline = Date.now() + 15_000;
  while (!ws.every(terminalSeen) && Date.now() < wsDeadline) await sleep(250);
  for (const f of follows) f.stop();
  await Promise.all(ws.map((w) => w.stop()));

  // --- read everything back -------------------------------------------------------------------
  const streams = new Map<string, StreamEvent[]>();
  for (const id of ids) {
    if (!records.get(id)) continue;
    streams.set(id, await apis[1]!.jobEvents(id).catch(() => apis[0]!.jobEvents(id)));
  }
  const logs: HostLog[] = [];
  const libvirtLogs: HostLog[] = [];
  const actual = new Map<string, HostModel>();
  for (const h of lab.hosts) {
    logs.push({ host: h, before: before.get(h)!, after: await showLog(lab, h) });
    libvirtLogs.push({ host: h, before: [], after: parseApiLog(await lab.must(h, ['cat', API_LOG])) });
    actual.set(h, await readHostModel(lab, h, violations));
  }

  // Everything the pure check reads, for replaying it (and for fixtures).
  writeFileSync(
    join(profile.logDir, 'history-input.json'),
    JSON.stringify({
      seed,
      subs,
      records: [...records],
      streams: [...streams],
      logs,
      libvirtLogs,
      initial: [...initial].map(([h, m]) => [h, [...m]]),
      actual: [...actual].map(([h, m]) => [h, [...m]]),
      faults,
      sse: follows.map((f) => ({ jobId: f.jobId, events: f.events, errors: f.errors })),
      ws: ws.map((w) => ({ firstConnectedAt: w.firstConnectedAt, events: w.events, errors: w.errors })),
    }),
  );

  // --- checks ---------------------------------------------------------------------------------
  const jobsCheck = checkJobs(subs, records);
  violations.push(...jobsCheck.violations);
  const attemptsCheck = checkAttempts(records);
  violations.push(...attemptsCheck.violations);
  const stalls = stallOutcomes(faults, dep, records);
  for (const l of stalls.lines) print(l);
  violations.push(...stalls.violations);
  const inputs = new Map(subs.filter((s) => s.jobId).map((s) => [s.jobId!, { kind: s.spec.kind, input: s.spec.input }]));
  const changes = checkChanges(logs, records, streams, inputs);
  for (const r of changes.replannedAway) print(`  taken-over change no longer in its job's steps: ${r}`);
  for (const r of changes.lateCommits) print(`  late commit of a timed-out command: ${r}`);
  violations.push(...changes.violations);
  const libvirtChanges = checkChanges(libvirtLogs, records, streams, inputs, LIBVIRT_CHANGES);
  for (const r of libvirtChanges.replannedAway) print(`  taken-over libvirt change no longer in its job's steps: ${r}`);
  for (const r of libvirtChanges.lateCommits) print(`  late libvirt change of a timed-out command: ${r}`);
  violations.push(...libvirtChanges.violations.map((v) => `libvirt: ${v}`));
  const order = new Map<string, JobRecord[]>();
  for (const h of lab.hosts) {
    const started = (id: string) => streams.get(id)?.find((e) => e.hypervisor === h && e.type === 'HOST_STARTED')?.at;
    order.set(
      h,
      [...records.values()]
        .filter((r): r is JobRecord => !!r && r.hypervisors.includes(h) && !!started(r.id))
        .sort((a, b) => Date.parse(started(a.id)!) - Date.parse(started(b.id)!)),
    );
  }
  const conv = checkConvergence(lab.hosts, initial, actual, order, inputs);
  violations.push(...conv.violations);
  // One refresh, then the cache must agree with the hosts.
  let cacheViolations: string[] = [];
  try {
    const rf = await runToEnd(apis[0]!, 'refreshHypervisor', { hypervisors: lab.hosts });
    if (rf.state !== 'SUCCEEDED') cacheViolations.push(`refreshHypervisor ended ${rf.state}: ${JSON.stringify(rf.error)}`);
    cacheViolations.push(...checkCacheAgrees(lab.hosts, actual, await readCacheModels(apis[1]!, lab.hosts)));
  } catch (err) {
    cacheViolations = [`refresh/cache read failed: ${(err as Error).message}`];
  }
  violations.push(...cacheViolations);
  let sseEvents = 0;
  // Gaps, repeats, events out of order or missing at either end, as the subscribers saw them.
  let eventViolations = 0;
  for (const f of follows) {
    sseEvents += f.events.length;
    const s = streams.get(f.jobId);
    if (!s) continue;
    if (!f.ended)
      violations.push(
        `SSE follower of ${f.jobId} never received the terminal event (${f.events.length} events, errors: ${f.errors.slice(-3).join(' | ')})`,
      );
    const v = checkReceived(`SSE ${f.jobId}`, f.events, s, true, f.ended);
    eventViolations += v.length + (f.ended ? 0 : 1);
    violations.push(...v);
  }
  // An event whose `job` field did not resolve (read from Redis: null while Redis does not answer).
  const wsEventsWithoutJob = ws.reduce((a, w) => a + attributeJoblessEvents(w.events, streams), 0);
  let wsEvents = 0;
  const wsJobs = new Set<string>();
  for (const [wi, w] of ws.entries()) {
    wsEvents += w.events.length;
    const byJob = new Map<string, typeof w.events>();
    for (const e of w.events) {
      const id = canonicalJobId(e.jobId);
      if (!streams.has(id)) continue; // not one of this run's accepted jobs (setup, refresh)
      byJob.set(id, [...(byJob.get(id) ?? []), e]);
    }
    for (const id of ids) {
      const s = streams.get(id);
      if (!s) continue;
      const sub = subs.find((x) => x.jobId === id);
      const whole = w.firstConnectedAt !== null && (sub?.answers[0]?.at ?? 0) > w.firstConnectedAt;
      const got = byJob.get(id) ?? [];
      if (got.length) wsJobs.add(id);
      const v = checkReceived(`WebSocket ${wi + 1} job ${id}`, got, s, whole, true);
      eventViolations += v.length;
      violations.push(...v);
    }
  }
  const crashes = dep.all().flatMap((p) => p.crashes);
  for (const c of crashes) violations.push(`process crash: ${c}`);
  for (const f of faults) if (f.error) violations.push(`fault ${f.kind} could not be injected/undone: ${f.error}`);

  const takeovers = [...records.values()].filter((r) => r?.hosts.some((h) => h.attempts > 1)).length;
  const workerFaults = (k: FaultKind) => faults.filter((f) => f.kind === k && f.target && !f.error);
  const figures = {
    seed,
    jobsRequested: profile.jobs,
    jobs: jobsCheck.jobs,
    succeeded: jobsCheck.succeeded,
    failed: jobsCheck.failed,
    cancelled: jobsCheck.cancelled,
    refused: jobsCheck.refused,
    failedCodes: jobsCheck.failedCodes,
    lost: jobsCheck.lost.length,
    stuck: jobsCheck.stuck.length,
    unresolved: jobsCheck.unresolved.length,
    duplicateKeys: jobsCheck.duplicateKeys,
    idempotencyViolations: jobsCheck.duplicateJobs.length,
    jobsTakenOver: takeovers,
    partsTakenOver: attemptsCheck.partsTakenOver,
    attemptsTakenOver: attemptsCheck.takenOver,
    attemptsLockLost: attemptsCheck.lockLost,
    workerKillsAimed: workerFaults('worker-kill').filter((f) => f.target!.aimed).length,
    workerKillsMidPart: workerFaults('worker-kill').filter((f) => f.target!.hitMidPart).length,
    workerStallsAimed: workerFaults('worker-stop').filter((f) => f.target!.aimed).length,
    workerStallsMidPart: workerFaults('worker-stop').filter((f) => f.target!.hitMidPart).length,
    fencedWakeups: stalls.fenced,
    ovsTransactions: changes.transactions,
    recordedOvsChanges: changes.recordedChanges,
    unrecordedInAttempt: changes.unrecordedInAttempt,
    duplicatedChanges: changes.duplicated.length,
    foreignChanges: changes.foreign.length,
    changesOutsideAttempts: changes.outsideAttempts.length,
    takenOverChangesNotInRecord: changes.replannedAway.length,
    lateCommitsOfTimedOutCommands: changes.lateCommits.length,
    phantomChanges: changes.phantom.length,
    libvirtCalls: libvirtChanges.transactions,
    recordedLibvirtChanges: libvirtChanges.recordedChanges,
    libvirtUnrecordedInAttempt: libvirtChanges.unrecordedInAttempt,
    libvirtDuplicatedChanges: libvirtChanges.duplicated.length,
    libvirtChangesOutside: libvirtChanges.foreign.length + libvirtChanges.outsideAttempts.length,
    libvirtPhantomChanges: libvirtChanges.phantom.length,
    hostsConverged: conv.converged,
    hosts: conv.hosts,
    objectsChecked: conv.objects,
    objectsAmbiguous: conv.ambiguous,
    cacheDisagreements: cacheViolations.length,
    sseFollows: follows.length,
    sseEvents,
    sseReconnects: follows.reduce((a, f) => a + f.reconnects, 0),
    wsEvents,
    wsJobs: wsJobs.size,
    wsReconnects: ws.reduce((a, w) => a + w.reconnects, 0),
    wsEventsWithoutJob,
    eventGaps: eventViolations,
    faultsInjected: faults.filter((f) => !f.error).length,
    faultsByKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, faults.filter((f) => f.kind === k && !f.error).length])),
    processCrashes: crashes.length,
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    violations: violations.length,
  };
  if (jobsCheck.jobs < profile.jobs) violations.push(`only ${jobsCheck.jobs} change jobs were accepted, ${profile.jobs} wanted`);
  figures.violations = violations.length;
  const finalLine = `chaos: ${jobsCheck.jobs} jobs, ${jobsCheck.succeeded} succeeded, ${jobsCheck.failed} failed (expected), ${jobsCheck.lost.length} lost, ${jobsCheck.stuck.length} stuck, ${changes.duplicated.length + libvirtChanges.duplicated.length} duplicated changes, hosts converged ${conv.converged}/${conv.hosts}, faults injected ${figures.faultsInjected} (seed ${seed})`;
  return { seed, figures, violations, faults, finalLine, crashes };
}

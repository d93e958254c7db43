/**
 * The chaos runner's history check (test/support/chaos/history.ts, ovs-log.ts) on output
 * captured from a lab host of a chaos run (test/fixtures/chaos/: `ovsdb-tool show-log -m`,
 * `ovs-vsctl list Port` as CSV, `virsh net-dumpxml`), with job records shaped as the API
 * answers them. Each check is shown to pass on a consistent history and to fail on the fault it
 * exists to catch.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../support/chaos/api.ts';
import {
  attributeJoblessEvents,
  checkAttempts,
  checkChanges,
  commandFits,
  checkConvergence,
  checkJobs,
  checkReceived,
  LIBVIRT_CHANGES,
  type HostModel,
  type StreamEvent,
} from '../support/chaos/history.ts';
import { libvirtCommandFits, libvirtStepKey, parseApiLog } from '../support/chaos/libvirt-log.ts';
import { parsePortgroups, parsePortsCsv, parseShowLog, shellWords, stepCommandKey, trunklineCommand } from '../support/chaos/ovs-log.ts';
import { newSubmission, type JobSpec } from '../support/chaos/workload.ts';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/chaos/${f}`, import.meta.url), 'utf8');
const LOG = parseShowLog(fixture('show-log-hv2.txt'));

// Records 4..8 are the run's setup (createBridge, ensureVlan 1001); the run starts after them.
const BASELINE = LOG.filter((r) => r.index <= 8);
const trunkline = LOG.filter((r) => r.index > 8 && trunklineCommand(r));

/** A job of one step per Trunkline transaction, its window around the transaction (as a worker records it). */
function jobFor(id: string, rec: (typeof LOG)[number], changed: boolean | null): { job: JobRecord; stream: StreamEvent[] } {
  const at = (d: number) => new Date(rec.at + d).toISOString();
  // The step command as the host shell receives it: words with shell metacharacters quoted.
  const command = trunklineCommand(rec)!
    .split(' ')
    .map((w) => (/[[\]]/.test(w) ? `'${w}'` : w))
    .join(' ');
  const job: JobRecord = {
    id,
    kind: 'setPortVlans',
    state: 'SUCCEEDED',
    attempts: 1,
    changedSteps: changed ? 1 : 0,
    hypervisors: ['hv2'],
    createdAt: at(-40),
    finishedAt: at(30),
    error: null,
    hosts: [{ hypervisor: 'hv2', state: 'SUCCEEDED', attempts: 1, attemptList: [], message: '', error: null }],
    rollback: [],
    steps: [
      {
        index: 0,
        host: 'hv2',
        description: '',
        command,
        state: 'SUCCEEDED',
        changed,
        observed: '',
        wanted: '',
        exitCode: 0,
        stderr: '',
        startedAt: at(-5),
        finishedAt: at(5),
      },
    ],
  };
  const stream: StreamEvent[] = [
    { id: `${rec.at - 40}-0`, type: 'QUEUED', hypervisor: null, at: at(-40) },
    { id: `${rec.at - 30}-0`, type: 'HOST_STARTED', hypervisor: 'hv2', at: at(-30) },
    { id: `${rec.at - 5}-0`, type: 'STEP_STARTED', hypervisor: 'hv2', at: at(-5) },
    { id: `${rec.at + 5}-0`, type: 'STEP_FINISHED', hypervisor: 'hv2', at: at(5) },
    { id: `${rec.at + 10}-0`, type: 'HOST_FINISHED', hypervisor: 'hv2', at: at(10) },
    { id: `${rec.at + 30}-0`, type: 'SUCCEEDED', hypervisor: null, at: at(30) },
  ];
  return { job, stream };
}

function history(changed: (i: number) => boolean | null = () => true) {
  const records = new Map<string, JobRecord | null>();
  const streams = new Map<string, StreamEvent[]>();
  trunkline.forEach((r, i) => {
    const { job, stream } = jobFor(`job-${i}`, r, changed(i));
    records.set(job.id, job);
    streams.set(job.id, stream);
  });
  return { records, streams };
}

describe('ovsdb-tool show-log parsing (captured on a lab host)', () => {
  it('finds every record with its time and comment, and tells Trunkline transactions apart', () => {
    expect(LOG.length).toBeGreaterThan(20);
    expect(LOG[0]!.index).toBe(1);
    expect(LOG[0]!.comment).toMatch(/^ovs-vsctl \(invoked by bash\): ovs-vsctl --no-wait/);
    expect(trunklineCommand(LOG[0]!)).toBeNull(); // the lab's own init
    const r9 = LOG.find((r) => r.index === 9)!;
    expect(new Date(r9.at).toISOString()).toBe('2026-12-01T15:23:38.596Z');
    expect(trunklineCommand(r9)).toBe(
      'ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 cp2 -- set Port cp2 tag=[] trunks=12,18 vlan_mode=[] -- set Interface cp2 type=internal',
    );
    expect(r9.changes.some((c) => c.startsWith('table Port insert row "cp2"'))).toBe(true);
    // ovs-vswitchd's own follow-up transactions have no comment.
    expect(LOG.find((r) => r.index === 10)!.comment).toBeNull();
  });

  it("a step's shell-quoted command matches its transaction comment", () => {
    const step =
      "ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 cp2 -- set Port cp2 'tag=[]' trunks=12,18 'vlan_mode=[]' -- set Interface cp2 type=internal";
    expect(stepCommandKey(step)).toBe(trunklineCommand(LOG.find((r) => r.index === 9)!));
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g`)).toEqual(['a', 'b c', 'd "e"', 'f g']);
    expect(stepCommandKey("virsh -c qemu:///system net-update --live --config -- ovs-network add portgroup '<x/>'")).toBeNull();
  });

  it('reads ports and portgroups as the host printed them', () => {
    const ports = parsePortsCsv(fixture('ports-hv2.csv'));
    expect(ports.get('enp5s0f0')).toEqual({ tag: null, trunks: [1001, 1101] });
    expect(ports.get('cp1')).toEqual({ tag: null, trunks: [11, 16] });
    const pgs = parsePortgroups(fixture('ovs-network-hv2.xml'));
    expect(pgs.get('vlan-1001')).toEqual([1001]);
    expect([...pgs.keys()].length).toBeGreaterThan(1);
  });
});

describe('no change applied twice', () => {
  const logs = (after = LOG) => [{ host: 'hv2', before: BASELINE, after }];

  it('passes when every transaction is a recorded change of the job whose turn it was', () => {
    const { records, streams } = history();
    const c = checkChanges(logs(), records, streams);
    expect(c.violations).toEqual([]);
    expect(c.transactions).toBe(trunkline.length);
    expect(c.recordedChanges).toBe(trunkline.length);
  });

  it('accepts one transaction an attempt left unrecorded (killed after its change)', () => {
    const { records, streams } = history((i) => i !== 0);
    const c = checkChanges(logs(), records, streams);
    expect(c.violations).toEqual([]);
    expect(c.unrecordedInAttempt).toBe(1);
  });

  it('fails when the same step was committed twice', () => {
    const { records, streams } = history();
    const first = trunkline[0]!;
    const again = { ...first, index: 999, at: first.at + 3 };
    const after = [...LOG, again].sort((a, b) => a.at - b.at || a.index - b.index);
    const c = checkChanges(logs(after), records, streams);
    expect(c.duplicated).toHaveLength(1);
    expect(c.violations[0]).toMatch(/committed 2 times/);
  });

  it("fails on a change in another job's turn (a stalled worker waking up after its lock expired)", () => {
    const { records, streams } = history();
    const stale = { ...trunkline[0]!, index: 998, at: trunkline[1]!.at + 1 };
    const after = [...LOG, stale].sort((a, b) => a.at - b.at || a.index - b.index);
    const c = checkChanges(logs(after), records, streams);
    expect(c.foreign).toHaveLength(1);
    expect(c.foreign[0]).toMatch(/none of which planned it/);
  });

  it("accepts a timed-out command that committed when the host came back, after its job ended, within ovs-vsctl's own --timeout", () => {
    const late = (shiftMs: number) => {
      const { records, streams } = history();
      const job = records.get('job-0')!;
      const at = (d: number) => new Date(trunkline[0]!.at + d).toISOString();
      // The step timed out (the host froze) and the job ended FAILED before the command committed.
      job.state = 'FAILED';
      job.hosts[0]!.state = 'FAILED';
      job.steps[0] = {
        ...job.steps[0]!,
        state: 'FAILED',
        changed: null,
        exitCode: null,
        startedAt: at(-shiftMs),
        finishedAt: at(-shiftMs + 4000),
      };
      streams.set(
        'job-0',
        streams.get('job-0')!.map((e) => ({ ...e, at: new Date(Date.parse(e.at) - shiftMs).toISOString() })),
      );
      return checkChanges(logs(), records, streams);
    };
    const c = late(6000);
    expect(c.violations).toEqual([]);
    expect(c.lateCommits).toHaveLength(1);
    // Later than the command could have lived (--timeout=10): a change outside its job.
    expect(late(12_000).foreign).toHaveLength(1);
  });

  it('fails when a record claims a change no transaction made, and when the log was compacted', () => {
    const { records, streams } = history();
    const missing = LOG.filter((r) => r.index !== trunkline[2]!.index);
    expect(checkChanges(logs(missing), records, streams).phantom).toHaveLength(1);
    expect(checkChanges([{ host: 'hv2', before: BASELINE, after: LOG.slice(3) }], records, streams).compacted).toHaveLength(1);
  });
});

/** The first job's part taken over: attempt 1 (worker vm:1) ended at `endA`, attempt 2 (vm:2) ran its step (changed: `changed`) at +3..+5 ms. */
function takenOver(endA: number, changed: boolean) {
  const { records, streams } = history();
  const job = records.get('job-0')!;
  const at = (d: number) => new Date(trunkline[0]!.at + d).toISOString();
  job.hosts[0]!.attempts = 2;
  job.hosts[0]!.attemptList = [
    {
      number: 1,
      worker: 'vm:1',
      outcome: 'TAKEN_OVER',
      reason: 'worker vm:1 stopped renewing its claim on the part; worker vm:2 took it over',
      startedAt: at(Math.min(-30, endA - 600)),
      endedAt: at(endA),
    },
    { number: 2, worker: 'vm:2', outcome: 'SUCCEEDED', reason: null, startedAt: at(endA), endedAt: at(10) },
  ];
  job.steps[0] = { ...job.steps[0]!, changed, startedAt: at(3), finishedAt: at(5) };
  // Every other job: one attempt that ran its step.
  for (const [id, r] of records)
    if (id !== 'job-0')
      r!.hosts[0]!.attemptList = [
        { number: 1, worker: 'vm:2', outcome: 'SUCCEEDED', reason: null, startedAt: r!.steps[0]!.startedAt, endedAt: r!.finishedAt },
      ];
  return { records, streams };
}

describe('attempts: a taken-over part lists every attempt, and a stalled worker that woke applied nothing', () => {
  const logs = [{ host: 'hv2', before: BASELINE, after: LOG }];

  it('accepts the change of an attempt that was taken over, made before it ended, that the next attempt found done', () => {
    const { records, streams } = takenOver(2, false);
    const c = checkChanges(logs, records, streams);
    expect(c.violations).toEqual([]);
    expect(c.unrecordedInAttempt).toBe(1);
    const a = checkAttempts(records);
    expect(a.violations).toEqual([]);
    expect(a.partsTakenOver).toBe(1);
    expect(a.takenOver).toBe(1);
  });

  it('fails on a change made after the stalled attempt ended, by no step that recorded it (the stalled worker woke up and went on)', () => {
    const { records, streams } = takenOver(-400, false);
    const c = checkChanges(logs, records, streams);
    expect(c.outsideAttempts).toHaveLength(1);
    expect(c.violations[0]).toMatch(/change outside its job's turn: .*made while no step of the job recorded it/);
    // The same transaction inside the step of attempt 2 that recorded it is that step's change.
    expect(checkChanges(logs, ...(Object.values(takenOver(-400, true)) as [any, any])).violations).toEqual([]);
  });

  it("accepts a taken-over attempt's change that the next attempt planned away (its steps gone from the record), only for the job's own object", () => {
    const { records, streams } = takenOver(2, false);
    records.get('job-0')!.steps = [];
    const cmd = trunklineCommand(trunkline[0]!)!;
    const port = cmd.split(' ').find((w) => /^cp\d$/.test(w))!;
    const logs1 = [{ host: 'hv2', before: BASELINE, after: LOG }];
    const asked = (name: string) => new Map([['job-0', { kind: 'setPortVlans', input: { hypervisor: 'hv2', name } }]]);
    const c = checkChanges(logs1, records, streams, asked(port));
    expect(c.violations).toEqual([]);
    expect(c.replannedAway).toHaveLength(1);
    // Another port than the job's, or no attempt taken over: a change outside its job.
    expect(checkChanges(logs1, records, streams, asked('cp9')).foreign).toHaveLength(1);
    const single = takenOver(2, false).records;
    single.get('job-0')!.steps = [];
    single.get('job-0')!.hosts[0]!.attemptList.shift();
    expect(checkChanges(logs1, single, streams, asked(port)).foreign).toHaveLength(1);
    expect(commandFits('removeVlan', { tag: 1102 }, 'ovs-vsctl --timeout=10 remove Port enp5s0f0 trunks 1102')).toBe(true);
    expect(commandFits('removeVlan', { tag: 1103 }, 'ovs-vsctl --timeout=10 remove Port enp5s0f0 trunks 1102')).toBe(false);
  });

  it('fails when an earlier attempt carries an outcome of its own, has no reason or never ended, or the last one is not the part', () => {
    const bad = (edit: (list: JobRecord['hosts'][number]['attemptList']) => void) => {
      const { records } = takenOver(2, false);
      edit(records.get('job-0')!.hosts[0]!.attemptList);
      return checkAttempts(records).violations;
    };
    expect(bad((l) => (l[0]!.outcome = 'SUCCEEDED'))[0]).toMatch(/attempt 1 is not the last but ended SUCCEEDED/);
    expect(bad((l) => (l[0]!.reason = ''))[0]).toMatch(/attempt 1 ended TAKEN_OVER without a reason/);
    expect(bad((l) => (l[0]!.endedAt = null))[0]).toMatch(/attempt 1 is not the last but never ended/);
    expect(bad((l) => (l[1]!.outcome = 'LOCK_LOST'))[0]).toMatch(/the last attempt ended LOCK_LOST, the part SUCCEEDED/);
    // A part failed for its worker (BullMQ gave up on it) with its attempt left open.
    expect(
      bad((l) => {
        l[1]!.outcome = 'RUNNING';
        l[1]!.endedAt = null;
      }),
    ).toEqual([expect.stringMatching(/the last attempt never ended \(RUNNING\), the part did \(SUCCEEDED\)/)]);
    expect(
      bad((l) => {
        l[0]!.outcome = 'LOCK_LOST';
        l[0]!.reason = 'the lock of hv2 was lost';
      }),
    ).toEqual([]);
  });
});

describe('jobs: terminal, none lost, one job per idempotency key', () => {
  const spec = (seq: number): JobSpec => ({
    seq,
    kind: 'removePort',
    api: 'rest',
    gateway: 0,
    input: { hypervisor: 'hv2', name: 'cp0' },
    key: `k-${seq}`,
    duplicate: seq === 1,
    cancelAfterMs: null,
  });
  it('counts outcomes and names lost, stuck and duplicated jobs', () => {
    const { records } = history();
    const ids = [...records.keys()];
    const subs = [0, 1, 2, 3].map((i) => ({ ...newSubmission(spec(i)), jobId: ids[i]! }));
    expect(checkJobs(subs, records).violations).toEqual([]);
    subs[1]!.conflictingIds = ['other'];
    (records.get(ids[2]!) as JobRecord).state = 'RUNNING';
    records.set(ids[3]!, null);
    const c = checkJobs(subs, records);
    expect(c.lost).toEqual([ids[3]]);
    expect(c.stuck).toHaveLength(1);
    expect(c.duplicateJobs).toHaveLength(1);
    expect(c.violations).toHaveLength(3);
  });
});

describe('hosts converge to what the last successful jobs asked for', () => {
  const job = (id: string, state: string, input: Record<string, unknown>): JobRecord => ({
    ...history().records.get('job-0')!,
    id,
    state,
    hosts: [{ hypervisor: 'hv2', state, attempts: 1, attemptList: [], message: '', error: null }],
    steps: [
      { ...history().records.get('job-0')!.steps[0]!, state: state === 'FAILED' ? 'FAILED' : 'SUCCEEDED', exitCode: 1, changed: false },
    ],
    rollback: [],
    kind: String(input.kind),
  });
  const initial = new Map<string, HostModel>([['hv2', new Map([['port:cp1', 'trunks=11,16']])]]);
  const run = (actual: string, jobs: JobRecord[], inputs: Array<[string, { kind: string; input: Record<string, any> }]>) =>
    checkConvergence(['hv2'], initial, new Map([['hv2', new Map([['port:cp1', actual]])]]), new Map([['hv2', jobs]]), new Map(inputs));

  it('the last SUCCEEDED job decides; a job that failed before touching the host does not count', () => {
    const a = job('a', 'SUCCEEDED', { kind: 'setPortVlans' });
    const b = { ...job('b', 'FAILED', { kind: 'setPortVlans' }), steps: [] };
    const inputs: Array<[string, { kind: string; input: Record<string, any> }]> = [
      ['a', { kind: 'setPortVlans', input: { hypervisor: 'hv2', name: 'cp1', tag: 12 } }],
      ['b', { kind: 'setPortVlans', input: { hypervisor: 'hv2', name: 'cp1', tag: 13 } }],
    ];
    expect(run('tag=12', [a, b], inputs).violations).toEqual([]);
    const wrong = run('tag=13', [a, b], inputs);
    expect(wrong.converged).toBe(0);
    expect(wrong.violations[0]).toMatch(/port:cp1: is tag=13 on the host, expected tag=12/);
  });

  it('a cancelled job that ran its step may or may not have applied it', () => {
    const c = job('c', 'CANCELLED', { kind: 'removePort' });
    const inputs: Array<[string, { kind: string; input: Record<string, any> }]> = [
      ['c', { kind: 'removePort', input: { hypervisor: 'hv2', name: 'cp1' } }],
    ];
    expect(run('absent', [c], inputs).violations).toEqual([]);
    expect(run('trunks=11,16', [c], inputs).violations).toEqual([]);
    expect(run('tag=5', [c], inputs).violations).toHaveLength(1);
  });
});

describe('events a client received are in the stream, in order, without gaps', () => {
  const { streams } = history();
  it('puts an event delivered without its job (job: null) back in its job by id and type', () => {
    const e = streams.get('job-1')![2]!;
    const got = [
      { jobId: '?', id: e.id, type: e.type },
      { jobId: '?', id: e.id, type: 'NOPE' },
    ];
    expect(attributeJoblessEvents(got, streams)).toBe(2);
    expect(got.map((g) => g.jobId)).toEqual(['job-1', '?']);
  });
  const stream = streams.get('job-0')!;
  const got = (idx: number[]) => idx.map((i) => ({ jobId: 'job-0', id: stream[i]!.id, type: stream[i]!.type }));
  it('passes for the whole stream and for a suffix (a subscriber that came later)', () => {
    expect(checkReceived('c', got([0, 1, 2, 3, 4, 5]), stream, true, true)).toEqual([]);
    expect(checkReceived('c', got([3, 4, 5]), stream, false, true)).toEqual([]);
  });
  it('fails on a gap, a repeat, a missing start or end, and an event that is not in the stream', () => {
    expect(checkReceived('c', got([0, 1, 3, 4, 5]), stream, true, true)[0]).toMatch(/gap between/);
    expect(checkReceived('c', got([0, 1, 1, 2, 3, 4, 5]), stream, true, true)[0]).toMatch(/out of order or twice/);
    expect(checkReceived('c', got([2, 3, 4, 5]), stream, true, true)[0]).toMatch(/first 2 event/);
    expect(checkReceived('c', got([0, 1, 2, 3]), stream, true, true)[0]).toMatch(/last 2 event/);
    expect(checkReceived('c', [...got([0, 1, 2, 3, 4, 5]), { jobId: 'job-0', id: '1-1', type: 'X' }], stream, true, false)[0]).toMatch(
      /not in the job's stream/,
    );
  });
  it("names an event written after the job's terminal one (a stale worker's WAITING): the client rightly stopped at the end", () => {
    // Seed 4163915687: the subscriber had the stream up to SUCCEEDED; a WAITING came after it.
    const late = [...stream, { id: '9999999999999-0', type: 'WAITING', hypervisor: 'hv2', at: stream.at(-1)!.at }];
    expect(checkReceived('SSE job-0', got([0, 1, 2, 3, 4, 5]), late, true, true)).toEqual([
      `SSE job-0: the job's stream goes on after its terminal event ${stream[5]!.id} (SUCCEEDED): 9999999999999-0 WAITING written after the job ended`,
    ]);
  });
});

describe("libvirt's side: the API log of a lab host's libvirtd (libvirt-log.ts)", () => {
  // Captured on a lab host: net-update add and delete of portgroup vlan-1101 as Trunkline runs them,
  // a dumpxml and a list (reads), then net-destroy and net-undefine.
  const API = parseApiLog(fixture('libvirt-api-hv1.txt'));
  const ADD = `virsh -c qemu:///system net-update --live --config -- ovs-network add portgroup '<portgroup name='\\''vlan-1101'\\''><vlan><tag id='\\''1101'\\''/></vlan></portgroup>'`;
  const DELETE = `virsh -c qemu:///system net-update --live --config -- ovs-network delete portgroup '<portgroup name='\\''vlan-1101'\\''/>'`;

  it('keeps only the calls that change the host, one entry each, keyed as the step commands that make them', () => {
    expect(API.map((r) => [r.index, r.comment])).toEqual([
      [2, "net-update add portgroup <portgroup name='vlan-1101'><vlan><tag id='1101'/></vlan></portgroup>"],
      [5, "net-update delete portgroup <portgroup name='vlan-1101'/>"],
      [14, 'net-destroy'],
      [16, 'net-undefine'],
    ]);
    expect(API[0]!.at).toBe(Date.parse('2026-12-01T17:00:48.313Z'));
    expect(libvirtStepKey(ADD)).toBe(API[0]!.comment);
    expect(libvirtStepKey(DELETE)).toBe(API[1]!.comment);
    expect(libvirtStepKey("virsh -c qemu:///system net-destroy -- 'ovs-network'")).toBe('net-destroy');
    expect(libvirtStepKey('ovs-vsctl --timeout=10 add-port ovsbr0 p1')).toBeNull();
    expect(libvirtStepKey("virsh -c qemu:///system net-dumpxml -- 'ovs-network'")).toBeNull();
  });

  /** A job whose one step (a portgroup change) ran around the log entry `rec`. */
  function portgroupJob(id: string, rec: (typeof API)[number], command: string, changed: boolean | null) {
    const { job, stream } = jobFor(id, { ...rec, comment: 'ovs-vsctl (invoked by sudo): x' }, changed);
    job.kind = 'addPortgroup';
    job.steps[0]!.command = command;
    return { job, stream };
  }

  it('passes when each call is a recorded change of the job whose turn it was; fails on a call made twice, or outside every turn', () => {
    const a = portgroupJob('j-add', API[0]!, ADD, true);
    const d = portgroupJob('j-del', API[1]!, DELETE, true);
    const records = new Map<string, JobRecord | null>([
      ['j-add', a.job],
      ['j-del', d.job],
    ]);
    const streams = new Map([
      ['j-add', a.stream],
      ['j-del', d.stream],
    ]);
    const log = { host: 'hv2', before: [], after: API.slice(0, 2) };
    const ok = checkChanges([log], records, streams, undefined, LIBVIRT_CHANGES);
    expect(ok.violations).toEqual([]);
    expect([ok.transactions, ok.recordedChanges]).toEqual([2, 2]);
    // The same update committed twice within the job's turn.
    const twice = checkChanges(
      [{ ...log, after: [API[0]!, { ...API[0]!, index: 3 }, API[1]!] }],
      records,
      streams,
      undefined,
      LIBVIRT_CHANGES,
    );
    expect(twice.duplicated).toHaveLength(1);
    expect(twice.violations[0]).toMatch(/^duplicated change: hv2 job j-add: "net-update add portgroup <portgroup name='vlan-1101'>/);
    // A libvirt change no job made (the destroy): outside every job's turn on the host.
    const foreign = checkChanges([{ ...log, after: API }], records, streams, undefined, LIBVIRT_CHANGES);
    expect(foreign.foreign.map((f) => f.split(' — ')[0])).toEqual([
      'hv2 libvirt API call at line 14 at 2026-12-01T17:00:48.602Z: "net-destroy"',
      'hv2 libvirt API call at line 16 at 2026-12-01T17:00:48.659Z: "net-undefine"',
    ]);
    // A recorded change the log has no call for.
    expect(checkChanges([{ ...log, after: [API[0]!] }], records, streams, undefined, LIBVIRT_CHANGES).phantom).toHaveLength(1);
  });

  it("accepts an addPortgroup attempt's add that was taken over and planned away (the next attempt found it made: a modify, unchanged)", () => {
    // Seed 4163915687: attempt 1's worker was killed right after its net-update add; attempt 2
    // planned from the host, found the portgroup there and recorded a modify that changed nothing.
    const MODIFY = ADD.replace(' add portgroup ', ' modify portgroup ');
    const { job, stream } = portgroupJob('j-add', API[0]!, MODIFY, false);
    const at = (d: number) => new Date(API[0]!.at + d).toISOString();
    job.hosts[0]!.attempts = 2;
    job.hosts[0]!.attemptList = [
      {
        number: 1,
        worker: 'vm:1',
        outcome: 'TAKEN_OVER',
        reason: 'worker vm:1 stopped renewing its claim',
        startedAt: at(-30),
        endedAt: at(3),
      },
      { number: 2, worker: 'vm:2', outcome: 'SUCCEEDED', reason: null, startedAt: at(3), endedAt: at(10) },
    ];
    job.steps[0] = { ...job.steps[0]!, startedAt: at(6), finishedAt: at(7) };
    const records = new Map<string, JobRecord | null>([['j-add', job]]);
    const streams = new Map([['j-add', stream]]);
    const log = { host: 'hv2', before: [], after: API.slice(0, 1) };
    // The job's input as the workload sends it: addPortgroup names its portgroup in `portgroup`.
    const asked = (name: string) =>
      new Map([
        ['j-add', { kind: 'addPortgroup', input: { hypervisor: 'hv2', network: 'ovs-network', portgroup: { name, vlanTags: [1101] } } }],
      ]);
    const c = checkChanges([log], records, streams, asked('vlan-1101'), LIBVIRT_CHANGES);
    expect(c.violations).toEqual([]);
    expect(c.replannedAway).toHaveLength(1);
    // Another portgroup than the job's: a change outside its job.
    expect(checkChanges([log], records, streams, asked('pg-a2'), LIBVIRT_CHANGES).foreign).toHaveLength(1);
    expect(libvirtCommandFits('removePortgroup', { name: 'vlan-1101' }, API[1]!.comment!)).toBe(true);
  });
});

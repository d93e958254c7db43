import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { PlanStep } from '../../src/changes/plan.ts';
import { planHostPart } from '../../src/changes/planners.ts';
import { planAddPort, planCreateBridge, planSetPortVlans } from '../../src/changes/plans/ovs.ts';
import { portVlansStep } from '../../src/changes/steps/ovs-port.ts';
import type { HostState } from '../../src/hosts/host-state.ts';
import type { JobKind } from '../../src/jobs/job-kinds.ts';
import type { JobEventType, RollbackRecord } from '../../src/jobs/job-types.ts';
import { newJobRecord } from '../../src/jobs/submit-change.ts';
import { parseOvsSnapshot, snapshotArgv } from '../../src/ovs/snapshot.ts';
import type { BatchCommand } from '../../src/ssh/command-batch.ts';
import type { CommandRunner, ExecResult } from '../../src/ssh/runner.ts';
import { runHostSteps, type HostStepsContext } from '../../workers/host-steps.ts';
import { planDifference } from '../../src/changes/plan-difference.ts';
import { fixtureHostState, testHost } from '../support/fixture-host-state.ts';

/**
 * The host-step engine (workers/host-steps.ts and its phases) against a scripted host that
 * answers every OVS probe with snapshots captured from a lab host before and after each change
 * (test/fixtures/capture-engine-fixtures.sh), and whose failing command answers with the stderr
 * the real ovs-vsctl printed. Round trips are counted as the SSH pool would make them.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/engine/${name}`, import.meta.url), 'utf8');
const host = testHost();
const config = loadConfig({});
const PROBE = snapshotArgv().join(' ');
const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });

/** The host's state as the captured snapshot `name` shows it (what a planner sees). */
const stateOf = (name: string): HostState => ({
  ...fixtureHostState('hv1'),
  libvirt: { domains: [], networks: [] },
  ovs: parseOvsSnapshot(fixture(`${name}.jsonl`)),
});

/**
 * A host whose OVS database is one of the captured snapshots; commands move it to the snapshot
 * their change leads to (and fail where the real tool failed). `ignore`: commands that exit 0
 * but change nothing (a host that does not converge).
 */
function scriptedHost(start: string, opts: { ignore?: RegExp; cancelAfterRound?: number; unreachableAfterRound?: number } = {}) {
  let snapshot = start;
  const log: { round: number; commands: string[] }[] = [];
  const tags = () => Object.fromEntries([...snapshot.matchAll(/(p\d)-(\d+)/g)].map((m) => [m[1]!, m[2]!]));
  const name = (t: Record<string, string>) =>
    Object.keys(t).length
      ? Object.entries(t)
          .map(([p, v]) => `${p}-${v}`)
          .join('-')
      : snapshot;
  const answer = (argv: readonly string[]): ExecResult => {
    const line = argv.join(' ');
    if (line === PROBE) return ok(fixture(`${snapshot}.jsonl`));
    if (line.startsWith('true')) return ok('read along\n');
    if (opts.ignore?.test(line)) return ok('');
    if (/add-br tleng0/.test(line)) snapshot = 'bridge';
    else if (/add-port tleng0 p1 /.test(line)) snapshot = 'p1-1001';
    else if (/Port p9 /.test(line)) return { exitCode: 1, stdout: '', stderr: fixture('set-missing-port.stderr'), durationMs: 1 };
    else {
      const m = /set Port (p\d) tag=(\d+)/.exec(line);
      if (!m) throw new Error(`the scripted host does not know ${line}`);
      snapshot = name({ ...tags(), [m[1]!]: m[2]! });
    }
    fixture(`${snapshot}.jsonl`); // throws for a state nobody captured
    return ok('');
  };
  const runner: CommandRunner = {
    exec: async (_h, argv) => {
      log.push({ round: log.length + 1, commands: [argv.join(' ')] });
      return answer(argv);
    },
    execBatch: async (_h, commands: readonly BatchCommand[], options) => {
      // The connection is gone (the session was cut): as the SSH pool reports it.
      if (opts.unreachableAfterRound !== undefined && log.length >= opts.unreachableAfterRound)
        throw new Error('hv1: the SSH connection closed while the command ran');
      log.push({ round: log.length + 1, commands: commands.map((c) => c.argv.join(' ')) });
      const out: ExecResult[] = [];
      for (const c of commands) {
        const r = answer(c.argv);
        out.push(r);
        if (options?.stopOnFailure && r.exitCode !== 0) break;
      }
      return out;
    },
    close: async () => {},
  };
  return { runner, log, now: () => snapshot, cancel: () => opts.cancelAfterRound !== undefined && log.length >= opts.cancelAfterRound };
}

async function run(steps: PlanStep[], h: ReturnType<typeof scriptedHost>, extra: Partial<HostStepsContext> = {}) {
  const record = newJobRecord(
    'test' as JobKind,
    {},
    { kind: 'test' as JobKind, hypervisors: ['hv1'], steps },
    { requestedBy: null, ticketRef: null },
  );
  const events: { type: JobEventType; message: string }[] = [];
  const rollback: RollbackRecord[] = [];
  const outcome = await runHostSteps({
    runner: h.runner,
    host,
    steps: record.steps.map((r, i) => ({ record: r, planned: steps[i]! })),
    report: async (type, message) => void events.push({ type, message }),
    rollback,
    cancelRequested: async () => h.cancel(),
    ...extra,
  });
  return { outcome, steps: record.steps, rollback, events, rounds: h.log };
}

const setTag = (state: string, port: string, tag: number) =>
  planSetPortVlans(host, stateOf(state), { name: port, tag, trunks: [], vlanMode: null, trunkAllVlans: false }).plan!.steps;

/** A bridge that is not there yet, then a port on it (planned from a state that has the bridge): dependent steps. */
const bridgeThenPort = (): PlanStep[] => [
  ...planCreateBridge(host, stateOf('no-bridge'), { name: 'tleng0', datapathType: 'netdev' }).plan!.steps,
  ...planAddPort(host, stateOf('bridge'), {
    name: 'p1',
    bridge: 'tleng0',
    type: 'internal',
    tag: 1001,
    trunks: [],
    vlanMode: null,
    trunkAllVlans: false,
    deviceMayBeMissing: false,
  }).plan!.steps,
];

describe('host-step engine: probe, change, verify + re-read, rollback', () => {
  it('a change: one probe round, one change round, one verification round', async () => {
    const h = scriptedHost('p1-1001-p2-1002');
    const r = await run(setTag('p1-1001-p2-1002', 'p1', 1003), h);
    expect(r.outcome).toMatchObject({ state: 'SUCCEEDED', applied: true, cacheAgreed: true });
    expect(r.rounds.map((x) => x.commands.length)).toEqual([1, 1, 1]);
    expect(r.rounds[1]!.commands[0]).toMatch(/set Port p1 tag=1003/);
    expect(r.steps[0]).toMatchObject({ state: 'SUCCEEDED', changed: true, observed: 'tag=1001 trunks=[] vlan_mode=[]', exitCode: 0 });
    expect(h.now()).toBe('p1-1003-p2-1002');
  });

  it('a rerun takes one round trip and changes nothing; with the planning read in hand, none', async () => {
    const h = scriptedHost('p1-1003-p2-1002');
    const steps = setTag('p1-1003-p2-1002', 'p1', 1003);
    const r = await run(steps, h);
    expect(r.outcome).toMatchObject({ state: 'SUCCEEDED', applied: false, cacheAgreed: true });
    expect(r.rounds).toHaveLength(1);
    expect(r.steps[0]).toMatchObject({ state: 'SUCCEEDED', changed: false });
    expect(r.events.map((e) => e.type)).toEqual(['STEP_STARTED', 'STEP_FINISHED']);
    // The part's planning read already ran the snapshot: the first observation reuses it.
    const again = scriptedHost('p1-1003-p2-1002');
    const pre = new Map([[snapshotArgv().join('\0'), ok(fixture('p1-1003-p2-1002.jsonl'))]]);
    expect((await run(steps, again, { preobserved: pre })).rounds).toHaveLength(0);
  });

  it('a step that depends on an earlier change is observed again, together with the verification of what it builds on', async () => {
    const h = scriptedHost('no-bridge');
    const steps = bridgeThenPort();
    const r = await run(steps, h);
    expect(r.outcome.failure).toBeUndefined();
    expect(r.outcome.state).toBe('SUCCEEDED');
    // probe both; add the bridge; re-probe the port with the bridge's verification; add the port; verify it.
    expect(r.rounds.map((x) => x.commands.map((c) => (c === PROBE ? 'probe' : c.includes('add-br') ? 'add-br' : 'add-port')))).toEqual([
      ['probe'],
      ['add-br'],
      ['probe'],
      ['add-port'],
      ['probe'],
    ]);
    expect(r.steps.map((s) => [s.state, s.changed])).toEqual([
      ['SUCCEEDED', true],
      ['SUCCEEDED', true],
    ]);
    expect(h.now()).toBe('p1-1001');
  });

  it('independent changes go out in one batch that stops at the first failure; the applied ones are undone newest first', async () => {
    const h = scriptedHost('p1-1001-p2-1002');
    const steps = [
      ...setTag('p1-1001-p2-1002', 'p1', 1003),
      ...setTag('p1-1001-p2-1002', 'p2', 1004),
      portVlansStep('hv1', 'p9', { tag: 1003, trunks: [], vlanMode: null }, undefined),
    ];
    const r = await run(steps, h);
    expect(r.outcome.state).toBe('FAILED');
    expect(r.outcome.failure).toMatchObject({ code: 'COMMAND_FAILED', step: 2 });
    expect(r.outcome.failure!.message).toBe(
      'step 3 (set VLANs of port p9 to tag=1003 trunks=[] vlan_mode=[]) on hv1 failed: exit 1: ovs-vsctl: no row "p9" in table Port; rolled back steps 2, 1',
    );
    // One change round for all three; p9 failed, p1 and p2 had been applied (and verified) first.
    expect(r.rounds[1]!.commands.map((c) => /Port (p\d)/.exec(c)![1])).toEqual(['p1', 'p2', 'p9']);
    expect(r.steps.map((s) => s.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    expect(r.rollback.map((x) => [x.step, x.state])).toEqual([
      [1, 'SUCCEEDED'],
      [0, 'SUCCEEDED'],
    ]);
    expect(r.rollback.map((x) => x.command)).toEqual([
      expect.stringMatching(/Port p2 tag=1002/),
      expect.stringMatching(/Port p1 tag=1001/),
    ]);
    expect(h.now()).toBe('p1-1001-p2-1002');
  });

  it('a cancel between rounds stops before the next step; what was applied stays, checked', async () => {
    const h = scriptedHost('no-bridge', { cancelAfterRound: 2 });
    const steps = bridgeThenPort();
    const r = await run(steps, h);
    expect(r.outcome).toMatchObject({ state: 'CANCELLED', applied: true });
    expect(r.steps.map((s) => [s.state, s.changed])).toEqual([
      ['SUCCEEDED', true],
      ['PENDING', null],
    ]);
    expect(r.rollback).toEqual([]);
    expect(h.now()).toBe('bridge');
  });

  it('a cancel after a change the host then cannot confirm (unreachable): the step still says it changed, with why it is not verified', async () => {
    const h = scriptedHost('no-bridge', { cancelAfterRound: 2, unreachableAfterRound: 2 });
    const r = await run(bridgeThenPort(), h);
    expect(r.outcome).toMatchObject({ state: 'CANCELLED', applied: true });
    expect(r.steps.map((s) => [s.state, s.changed])).toEqual([
      ['FAILED', true],
      ['PENDING', null],
    ]);
    expect(r.steps[0]!.warning).toBe('its command ran (exit 0) before the cancel, but reading the host back did not confirm it');
    expect(r.events.at(-1)?.message).toMatch(/applied before the cancel, not verified/);
  });

  it('a command that exits 0 but does not take: STEP_NOT_CONVERGED, and rollback finds the host as before', async () => {
    const h = scriptedHost('p1-1001-p2-1002', { ignore: /set Port p1/ });
    const r = await run(setTag('p1-1001-p2-1002', 'p1', 1003), h);
    expect(r.outcome.state).toBe('FAILED');
    expect(r.outcome.failure).toMatchObject({ code: 'STEP_NOT_CONVERGED', step: 0 });
    expect(r.outcome.failure!.message).toMatch(/after the change the host reports tag=1001 trunks=\[\] vlan_mode=\[\], wanted tag=1003/);
    expect(r.rollback).toEqual([
      expect.objectContaining({ step: 0, state: 'SUCCEEDED', command: null, message: expect.stringMatching(/^already as before/) }),
    ]);
  });

  it('the light re-read rides in the verification batch', async () => {
    const h = scriptedHost('p1-1001-p2-1002');
    let got: ExecResult[] = [];
    const r = await run(setTag('p1-1001-p2-1002', 'p1', 1003), h, {
      readAlong: { commands: [{ argv: snapshotArgv() }, { argv: ['true', 'virsh-batch'] }], done: async (results) => void (got = results) },
    });
    expect(r.outcome).toMatchObject({ state: 'SUCCEEDED', refreshed: true });
    expect(r.rounds).toHaveLength(3);
    // The snapshot serves both the verification and the re-read: run once.
    expect(r.rounds[2]!.commands).toEqual([PROBE, 'true virsh-batch']);
    expect(got.map((x) => x.stdout.slice(0, 10))).toEqual([fixture('p1-1003-p2-1002.jsonl').slice(0, 10), 'read along']);
  });
});

describe('planning again when the turn comes', () => {
  it('the live host differs from the cache: another plan, said in words; the engine sees the cache disagreed', async () => {
    const input = { hypervisor: 'hv1', name: 'p1', tag: 1003 };
    const fromCache = planHostPart('setPortVlans', input, { host, state: stateOf('p1-1001-p2-1002') }, config).plan!.steps;
    const fromHost = planHostPart('setPortVlans', input, { host, state: stateOf('p1-1003-p2-1002') }, config).plan!.steps;
    expect(fromCache[0]!.changes).toBe(true);
    expect(fromHost[0]!.changes).toBe(false);
    expect(planDifference(fromCache, fromHost)).toBe(
      'the host differed from the cache the plan shown at submission came from: set VLANs of port p1 to tag=1003 trunks=[] vlan_mode=[] is already as wanted',
    );
    expect(planDifference(fromHost, fromHost)).toBeNull();
    // The engine run with the plan made from the cache: it finds the host as wanted and says the cache disagreed.
    const r = await run(fromCache, scriptedHost('p1-1003-p2-1002'));
    expect(r.outcome).toMatchObject({ state: 'SUCCEEDED', applied: false, cacheAgreed: false });
  });

  it('removeVlan planned from a cache without the VLAN has nothing to do; planned from the host that has it, it removes it', () => {
    // The captured lab host has portgroups vlan-1002 and trunk portgroups that carry it.
    const live = fixtureHostState('hv1');
    const stale: HostState = { ...live, ovs: parseOvsSnapshot(fixture('no-bridge.jsonl')), libvirt: { domains: [], networks: [] } };
    const input = { tag: 1002, hypervisors: ['hv1'], force: true };
    const fromCache = planHostPart('removeVlan', input, { host, state: stale }, config).plan!.steps;
    const fromHost = planHostPart('removeVlan', input, { host, state: live }, config).plan!.steps;
    expect(fromCache).toEqual([]);
    expect(fromHost.map((s) => s.description)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/portgroup vlan-1002 is removed from network ovs-network/),
        expect.stringMatching(/portgroup vlan-all trunk=1001 in/),
      ]),
    );
    expect(planDifference(fromCache, fromHost)).toMatch(
      /^differs from the plan shown at submission \(0 steps, 0 to change, from the cache\): now also: /,
    );
  });

  it('a refusal that depends on state is checked again: removeVlan while NICs are on the VLAN is IN_USE, as at submission', () => {
    const live = fixtureHostState('hv1');
    const refused = planHostPart('removeVlan', { tag: 1001, hypervisors: ['hv1'] }, { host, state: live }, config);
    expect(refused.errors?.[0]).toMatchObject({ code: 'IN_USE', field: ['input', 'tag'] });
    expect(refused.errors?.[0]?.message).toMatch(/^tag: VLAN 1001 is used by vm-/);
  });

  it('a stored input that no longer validates, or a kind nobody plans per host, never reaches a host', () => {
    expect(
      planHostPart('setPortVlans', { hypervisor: 'hv1', name: '-x', tag: 5 }, { host, state: null }, config).errors?.[0],
    ).toMatchObject({ code: 'JOB_INVALID' });
    expect(planHostPart('rebootEverything' as JobKind, {}, { host, state: null }, config).errors?.[0]).toMatchObject({
      code: 'JOB_INVALID',
    });
  });
});

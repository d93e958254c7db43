import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PlanStep } from '../../src/changes/plan.ts';
import { planAddPort } from '../../src/changes/plans/ovs.ts';
import { isAsWanted, stepHealth, stepKind } from '../../src/changes/step-kinds.ts';
import { portStateFromProbe, portValue } from '../../src/changes/steps/ovs-port.ts';
import { uplinkCarriesStep } from '../../src/changes/steps/ovs-uplink.ts';
import { newJobRecord } from '../../src/jobs/submit-change.ts';
import type { JobEventType, RollbackRecord, StepRecord } from '../../src/jobs/job-types.ts';
import { snapshotArgv } from '../../src/ovs/snapshot.ts';
import type { BatchCommand } from '../../src/ssh/command-batch.ts';
import type { CommandRunner, ExecResult } from '../../src/ssh/runner.ts';
import { runHostSteps } from '../../workers/host-steps.ts';
import { testHost } from '../support/fixture-host-state.ts';

// Captured from ovs-vsctl 3.1.0 on a lab host (infra/lab.sh, hv1, bridge ovsbr0 on netdev) with
// snapshotArgv(), the probe of every OVS step, after: ip link add pxv type veth peer name pxvp;
// add-port ovsbr0 px1 -- set Port px1 tag=1001 -- set Interface px1 type=system (no device px1);
// the same for pxv; --may-exist add-port ovsbr0 enp5s0f0 -- add Port enp5s0f0 trunks 1001 (the
// lab's uplink NIC); the same for enp9s0 (no such device). Each add-port exited 0; the two without
// a device printed "Error detected while setting up ..." on stderr, and the error column was
// already set when ovs-vsctl returned (it waits for vswitchd to reconfigure).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ovs/${name}`, import.meta.url), 'utf8');
const MISSING = fixture('snapshot-missing-device.jsonl');
// The same host shape without px1 (what the worker sees before adding it).
const BEFORE = fixture('snapshot-probe-ports.jsonl');
const host = testHost();
const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
const OVS_MESSAGE = 'px1: could not open network device px1 (No such device)';

const addPx1 = (deviceMayBeMissing?: boolean) =>
  planAddPort(host, null, {
    name: 'px1',
    bridge: null,
    type: 'system',
    tag: 1001,
    trunks: null,
    vlanMode: null,
    trunkAllVlans: false,
    deviceMayBeMissing,
  }).plan!.steps[0]!;

/** How the worker judges an applied step: as wanted, then healthy (workers/host-steps.ts). */
function verify(step: PlanStep, stdout: string, before: string) {
  const kind = stepKind(step.probe.kind);
  const read = kind.read(ok(stdout), step);
  return { read, asWanted: isAsWanted(kind, read, step), ...stepHealth(kind, read, step, kind.read(ok(before), step)) };
}

describe('a port whose device does not exist (captured)', () => {
  it("the port state carries OVS's error and ofport -1; a port on an existing device has neither", () => {
    expect(portStateFromProbe(MISSING, 'px1')).toEqual({
      bridge: 'ovsbr0',
      type: 'system',
      vlans: { tag: 1001, trunks: [], vlanMode: null },
      error: 'could not open network device px1 (No such device)',
      ofport: -1,
    });
    expect(portStateFromProbe(MISSING, 'pxv')).toMatchObject({ error: null, ofport: 2 });
    // The compared value is about configuration only: the port IS configured as asked.
    expect(portValue(portStateFromProbe(MISSING, 'px1'))).toBe('bridge=ovsbr0 type=system tag=1001 trunks=[] vlan_mode=[]');
  });

  it("addPort: the verification judges the step failed with OVS's message", () => {
    const v = verify(addPx1(), MISSING, BEFORE);
    expect(v.asWanted).toBe(true);
    expect(v.failure?.code).toBe('OVS_INTERFACE_ERROR');
    expect(v.failure?.message).toMatch(
      new RegExp(`^${OVS_MESSAGE.replace(/[()]/g, '\\$&')} \\(if the device will appear later.*deviceMayBeMissing: true\\)$`),
    );
    expect(v.warning).toBeNull();
  });

  it('addPort with deviceMayBeMissing: it passes with a warning', () => {
    const step = addPx1(true);
    expect(step).toMatchObject({ deviceMayBeMissing: true, description: expect.stringContaining('device may be missing') });
    const v = verify(step, MISSING, BEFORE);
    expect(v.failure).toBeNull();
    expect(v.warning).toBe(`${OVS_MESSAGE}: the port is configured; OVS attaches the device when it appears`);
  });

  it('a port on a device that exists passes without a warning; the flag is off in plans unless asked for', () => {
    const step = planAddPort(host, null, {
      name: 'pxv',
      bridge: null,
      type: 'system',
      tag: 1001,
      trunks: null,
      vlanMode: null,
      trunkAllVlans: false,
    }).plan!.steps[0]!;
    expect(step.deviceMayBeMissing).toBeUndefined();
    expect(verify(step, MISSING, BEFORE)).toMatchObject({ asWanted: true, failure: null, warning: null });
  });

  it('deviceMayBeMissing excuses a missing device only, not other interface errors', () => {
    const step = addPx1(true);
    const other = {
      ...portStateFromProbe(MISSING, 'px1')!,
      error: 'could not add network device px1 to ofproto (Device or resource busy)',
    };
    expect(stepKind('ovs-port').health!(other as never, step, null as never)).toEqual({
      failure: 'px1: could not add network device px1 to ofproto (Device or resource busy)',
    });
  });

  it('a port that was already there like this (nothing applied) fails too, saying it is left in place', () => {
    const kind = stepKind('ovs-port');
    const step = addPx1();
    const h = stepHealth(kind, kind.read(ok(MISSING), step), step);
    expect(h.failure?.message).toMatch(/\(the port was already like this when the step began, so it is left in place\)$/);
  });

  it("ensureVlan's uplink: created on a missing device fails (rolled back); an existing uplink without device warns", () => {
    const step = uplinkCarriesStep('hv1', 'ovsbr0', 'enp9s0', 1001, undefined);
    const created = verify(step, MISSING, BEFORE);
    expect(created.asWanted).toBe(true);
    expect(created.failure?.message).toMatch(
      /^enp9s0: could not open network device enp9s0 \(No such device\) \(this step created uplink enp9s0: check the uplink name/,
    );
    const existing = verify(step, MISSING, MISSING);
    expect(existing.failure).toBeNull();
    expect(existing.warning).toBe(
      "enp9s0: could not open network device enp9s0 (No such device): VLAN 1001 is in the uplink's trunks but reaches no switch until OVS can open the device",
    );
    // The lab's real uplink NIC is fine.
    expect(verify(uplinkCarriesStep('hv1', 'ovsbr0', 'enp5s0f0', 1001, undefined), MISSING, BEFORE)).toMatchObject({
      asWanted: true,
      failure: null,
      warning: null,
    });
  });
});

/**
 * The worker's host part against a scripted host that answers with the captured snapshots:
 * before the change px1 is absent; after `add-port` OVS has it with the error; after `del-port`
 * it is gone again.
 */
async function runAddPort(step: PlanStep) {
  const probe = snapshotArgv().join(' ');
  let ovs = BEFORE;
  const ran: string[] = [];
  const answer = (argv: readonly string[]): ExecResult => {
    const line = argv.join(' ');
    if (line === probe) return ok(ovs);
    ran.push(line);
    if (line.includes('add-port ovsbr0 px1')) ovs = MISSING;
    else if (line.includes('del-port px1')) ovs = BEFORE;
    else throw new Error(`unexpected command ${line}`);
    return ok('');
  };
  const runner: CommandRunner = {
    exec: async (_h, argv) => answer(argv),
    execBatch: async (_h, commands: readonly BatchCommand[]) => commands.map((c) => answer(c.argv)),
    close: async () => {},
  };
  const record = newJobRecord(
    'addPort',
    {},
    { kind: 'addPort', hypervisors: ['hv1'], steps: [step] },
    { requestedBy: null, ticketRef: null },
  );
  const events: { type: JobEventType; message: string; step: StepRecord | null | undefined }[] = [];
  const rollback: RollbackRecord[] = [];
  const outcome = await runHostSteps({
    runner,
    host,
    steps: [{ record: record.steps[0]!, planned: step }],
    report: async (type, message, s) => void events.push({ type, message, step: s }),
    rollback,
    cancelRequested: async () => false,
  });
  return { outcome, record: record.steps[0]!, rollback, ran, events, ovs };
}

describe('the worker on a port whose device does not exist (scripted host, captured output)', () => {
  it("without deviceMayBeMissing: FAILED naming the step and OVS's message, the port removed again", async () => {
    expect(
      newJobRecord('addPort', {}, { kind: 'addPort', hypervisors: ['hv1'], steps: [addPx1()] }, { requestedBy: null, ticketRef: null })
        .steps[0]!.warning,
    ).toBeNull();
    const r = await runAddPort(addPx1());
    expect(r.outcome.state).toBe('FAILED');
    expect(r.outcome.failure).toMatchObject({ code: 'OVS_INTERFACE_ERROR', step: 0 });
    expect(r.outcome.failure!.message).toMatch(
      /^step 1 \(ensure port px1 on ovsbr0 \(system, tag=1001 trunks=\[\] vlan_mode=\[\]\)\) on hv1 failed: px1: could not open network device px1 \(No such device\) .*; rolled back step 1$/,
    );
    expect(r.record).toMatchObject({ state: 'FAILED', warning: null });
    expect(r.rollback).toEqual([
      expect.objectContaining({ step: 0, state: 'SUCCEEDED', command: 'ovs-vsctl --timeout=10 --if-exists del-port px1' }),
    ]);
    expect(r.ran).toEqual([expect.stringContaining('--may-exist add-port ovsbr0 px1'), 'ovs-vsctl --timeout=10 --if-exists del-port px1']);
    expect(r.ovs).toBe(BEFORE);
  });

  it('with deviceMayBeMissing: SUCCEEDED, the step changed and carries the warning (also on its event)', async () => {
    const r = await runAddPort(addPx1(true));
    expect(r.outcome.state).toBe('SUCCEEDED');
    expect(r.record).toMatchObject({
      state: 'SUCCEEDED',
      changed: true,
      warning: expect.stringMatching(/^px1: could not open network device px1 \(No such device\): /),
    });
    expect(r.rollback).toEqual([]);
    expect(r.events.find((e) => e.type === 'STEP_FINISHED')?.step?.warning).toBe(r.record.warning);
    expect(r.ovs).toBe(MISSING);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planAddPort, planCreateBridge, planDeleteBridge, planRemovePort, planSetPortVlans } from '../../src/changes/plans/ovs.ts';
import { checkPortVlans } from '../../src/changes/plans/port-vlans.ts';
import { stepKind } from '../../src/changes/step-kinds.ts';
import { bridgeStateFromProbe, undoBridge } from '../../src/changes/steps/ovs-bridge.ts';
import { portStateFromProbe, portValue, undoPort, undoPortVlans } from '../../src/changes/steps/ovs-port.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';
import { fixtureHostState, testHost } from '../support/fixture-host-state.ts';

// Captured from ovs-vsctl 3.1.0 on a lab host: snapshotArgv(), the probe of every OVS step, with an
// internal access port, a native-untagged port, a trunk uplink and a bridge on the system datapath,
// made with: add-br ovsbr0 (netdev); add-port p-int tag=1001 vlan_mode=access (internal);
// add-port p-nat tag=5 trunks=1001,1002 vlan_mode=native-untagged (internal); add-port enp5s0f0
// trunks=1001,1002; add-br brsys (no datapath_type).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ovs/${name}`, import.meta.url), 'utf8');
const PROBE = fixture('snapshot-probe-ports.jsonl');
const host = testHost();
const cmd = (argv: string[] | undefined) => toShellCommand(argv!);

describe('port probe (captured)', () => {
  it.each([
    ['p-int', 'bridge=ovsbr0 type=internal tag=1001 trunks=[] vlan_mode=access'],
    ['p-nat', 'bridge=ovsbr0 type=internal tag=5 trunks=[1001,1002] vlan_mode=native-untagged'],
    ['enp5s0f0', 'bridge=ovsbr0 type=system tag=[] trunks=[1001,1002] vlan_mode=[]'],
    ['nope', 'absent'],
  ])('%s → %s', (port, value) => {
    expect(portValue(portStateFromProbe(PROBE, port))).toBe(value);
  });

  it('reads probes through the step registry; failures carry stderr', () => {
    const step = planRemovePort(host, null, { name: 'p-int' }).plan!.steps[0]!;
    expect(stepKind('ovs-port').read({ exitCode: 0, stdout: PROBE, stderr: '', durationMs: 1 }, step).value).toMatch(/^bridge=ovsbr0/);
    expect(() =>
      stepKind('ovs-port').read({ exitCode: 1, stdout: '', stderr: 'ovs-vsctl: database connection failed\n', durationMs: 1 }, step),
    ).toThrow(/database connection failed/);
  });
});

describe('bridge probe (captured)', () => {
  it.each([
    ['nobr', null],
    ['ovsbr0', { datapathType: 'netdev' }],
    ['brsys', { datapathType: 'system' }], // datapath_type "" is the default, system
  ])('%s → %j', (bridge, state) => {
    expect(bridgeStateFromProbe(PROBE, bridge)).toEqual(state);
  });

  it('every OVS step of a plan probes with the same command, so a round runs it once', () => {
    const steps = [
      planCreateBridge(host, null, { name: 'ovsbr0', datapathType: 'netdev' }).plan!.steps[0]!,
      planRemovePort(host, null, { name: 'p-int' }).plan!.steps[0]!,
      planSetPortVlans(host, fixtureHostState(), { name: 'vnet1', tag: 7, trunks: null, vlanMode: null, trunkAllVlans: false }).plan!
        .steps[0]!,
    ];
    expect(new Set(steps.map((s) => cmd(s.probe.argv))).size).toBe(1);
  });
});

describe('planners judge against the cached state', () => {
  const state = fixtureHostState();

  it('createBridge: one step, one transaction; no change when the cache already has it', () => {
    const { plan } = planCreateBridge(host, state, { name: 'ovsbr0', datapathType: 'netdev' });
    const [step] = plan!.steps;
    expect(step).toMatchObject({ observed: 'datapath_type=netdev', wanted: 'datapath_type=netdev', changes: false });
    expect(cmd(step!.apply?.argv)).toBe('ovs-vsctl --timeout=10 --may-exist add-br ovsbr0 -- set Bridge ovsbr0 datapath_type=netdev');
    const fresh = planCreateBridge(host, state, { name: 'br-new', datapathType: 'netdev' }).plan!.steps[0]!;
    expect(fresh).toMatchObject({ observed: 'absent', changes: true });
    // Host never read: the plan cannot judge; the worker will.
    expect(planCreateBridge(host, null, { name: 'x', datapathType: 'netdev' }).plan!.steps[0]).toMatchObject({
      observed: null,
      changes: null,
    });
  });

  it('addPort sets the VLANs with add-port in one transaction (--may-exist alone ignores them)', () => {
    const { plan } = planAddPort(host, state, {
      name: 'p1',
      bridge: null,
      type: 'internal',
      tag: 1001,
      trunks: null,
      vlanMode: null,
      trunkAllVlans: false,
    });
    expect(cmd(plan!.steps[0]!.apply?.argv)).toBe(
      "ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 p1 -- set Port p1 tag=1001 'trunks=[]' 'vlan_mode=[]' -- set Interface p1 type=internal",
    );
    expect(plan!.steps[0]).toMatchObject({
      wanted: 'bridge=ovsbr0 type=internal tag=1001 trunks=[] vlan_mode=[]',
      observed: 'absent',
      changes: true,
    });
  });

  it('addPort refuses a missing bridge and a port that sits on another bridge', () => {
    expect(
      planAddPort(host, state, { name: 'p1', bridge: 'nobr', type: 'system', tag: 5, trunks: null, vlanMode: null, trunkAllVlans: false })
        .errors,
    ).toEqual([expect.objectContaining({ field: ['input', 'bridge'], code: 'NOT_FOUND' })]);
    const other = structuredClone(state);
    other.ovs!.bridges.push({ uuid: 'b2', name: 'br2', datapathType: 'netdev', ports: [] });
    expect(
      planAddPort(host, other, { name: 'vnet0', bridge: 'br2', type: 'system', tag: 5, trunks: null, vlanMode: null, trunkAllVlans: false })
        .errors?.[0],
    ).toMatchObject({
      field: ['input', 'name'],
      code: 'PORT_ON_OTHER_BRIDGE',
    });
  });

  it('setPortVlans: refuses to leave a trunk empty by accident, and unknown ports', () => {
    const emptied = planSetPortVlans(host, state, { name: 'vnet1', tag: null, trunks: [], vlanMode: null, trunkAllVlans: false });
    expect(emptied.errors?.[0]).toMatchObject({ field: ['input', 'trunks'], code: 'WOULD_TRUNK_ALL_VLANS' });
    expect(planSetPortVlans(host, state, { name: 'vnet1', tag: null, trunks: [], vlanMode: null, trunkAllVlans: true }).plan).toBeDefined();
    expect(
      planSetPortVlans(host, state, { name: 'nope', tag: 5, trunks: null, vlanMode: null, trunkAllVlans: false }).errors?.[0],
    ).toMatchObject({ code: 'NOT_FOUND' });
    const ok = planSetPortVlans(host, state, { name: 'vnet1', tag: null, trunks: [1002, 1001, 1002], vlanMode: null, trunkAllVlans: false })
      .plan!.steps[0]!;
    expect(ok).toMatchObject({
      observed: 'tag=[] trunks=[1001,1002] vlan_mode=[]',
      wanted: 'tag=[] trunks=[1001,1002] vlan_mode=[]',
      changes: false,
    });
  });

  it.each([
    [{ vlanMode: 'access' as const, trunks: [5] }, 'trunks'],
    [{ vlanMode: 'access' as const }, 'tag'],
    [{ vlanMode: 'trunk' as const, tag: 5, trunks: [6] }, 'tag'],
    [{ vlanMode: 'native-untagged' as const, trunks: [6] }, 'tag'],
    [{ tag: 5, trunkAllVlans: true }, 'trunkAllVlans'],
  ])('checkPortVlans refuses %j on %s', (req, field) => {
    const { errors } = checkPortVlans({ trunkAllVlans: false, ...req });
    expect(errors.map((e) => e.field[1])).toContain(field);
  });

  it('deleteBridge and removePort want the object absent', () => {
    expect(planDeleteBridge(host, state, { name: 'ovsbr0' }).plan!.steps[0]).toMatchObject({ wanted: 'absent', changes: true });
    expect(planRemovePort(host, state, { name: 'gone' }).plan!.steps[0]).toMatchObject({
      wanted: 'absent',
      observed: 'absent',
      changes: false,
    });
  });
});

describe('undo (compensating commands)', () => {
  const add = planAddPort(host, null, {
    name: 'p1',
    bridge: null,
    type: 'internal',
    tag: 1001,
    trunks: null,
    vlanMode: null,
    trunkAllVlans: false,
  }).plan!.steps[0]!;
  const removal = planRemovePort(host, null, { name: 'p-nat' }).plan!.steps[0]!;
  const vlans = planSetPortVlans(host, fixtureHostState(), { name: 'vnet1', tag: 7, trunks: null, vlanMode: null, trunkAllVlans: false })
    .plan!.steps[0]!;
  const before = portStateFromProbe(PROBE, 'p-nat');

  it('a port that was absent is deleted again', () => {
    expect(cmd(undoPort(null, add)!.argv)).toBe('ovs-vsctl --timeout=10 --if-exists del-port p1');
  });
  it('a removed port is re-added exactly as it was', () => {
    expect(cmd(undoPort(before, removal)!.argv)).toBe(
      'ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 p-nat -- set Port p-nat tag=5 trunks=1001,1002 vlan_mode=native-untagged -- set Interface p-nat type=internal',
    );
  });
  it('changed VLANs are set back', () => {
    expect(cmd(undoPortVlans(before, vlans)!.argv)).toBe(
      'ovs-vsctl --timeout=10 set Port vnet1 tag=5 trunks=1001,1002 vlan_mode=native-untagged',
    );
  });
  it('a created bridge is deleted; a deleted bridge cannot be restored (its ports are gone)', () => {
    const create = planCreateBridge(host, null, { name: 'brx', datapathType: 'netdev' }).plan!.steps[0]!;
    expect(cmd(undoBridge(null, create)!.argv)).toBe('ovs-vsctl --timeout=10 --if-exists del-br brx');
    const del = planDeleteBridge(host, null, { name: 'brx' }).plan!.steps[0]!;
    expect(undoBridge({ datapathType: 'netdev' }, del)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { planCreateBridge } from '../../src/changes/create-bridge.ts';
import { bridgeDatapathValue, readProbe } from '../../src/changes/probes.ts';
import { toShellCommand } from '../../src/ssh/quote.ts';

describe('planCreateBridge', () => {
  it('is one step: observe the datapath, then add-br and set it in one transaction', () => {
    const plan = planCreateBridge({ hypervisor: 'hv1', name: 'ovsbr0', datapathType: 'netdev' });
    expect(plan.hypervisors).toEqual(['hv1']);
    expect(plan.steps).toHaveLength(1);
    const [step] = plan.steps;
    expect(step!.wanted).toBe('datapath_type=netdev');
    expect(toShellCommand(step!.probe.argv)).toBe('ovs-vsctl --timeout=10 --if-exists get Bridge ovsbr0 datapath_type');
    // `--may-exist add-br` alone would not fix the datapath of an existing bridge.
    expect(toShellCommand(step!.apply!.argv)).toBe(
      'ovs-vsctl --timeout=10 --may-exist add-br ovsbr0 -- set Bridge ovsbr0 datapath_type=netdev',
    );
  });
});

describe('bridge datapath probe (outputs captured from ovs-vsctl 3.1.0)', () => {
  it.each([
    ['', 'absent'],
    ['netdev\n', 'datapath_type=netdev'],
    ['""\n', 'datapath_type=system'],
    ['system\n', 'datapath_type=system'],
  ])('%j → %s', (stdout, value) => {
    expect(bridgeDatapathValue(stdout)).toBe(value);
  });

  it('turns a failing probe into an error with its stderr', () => {
    expect(() =>
      readProbe('ovs-bridge-datapath', { exitCode: 1, stdout: '', stderr: 'ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)\n', durationMs: 3 }),
    ).toThrow(/database connection failed/);
  });
});

import { describe, expect, it } from 'vitest';
import type { StepAction } from '../../src/changes/plan.ts';
import {
  applyNetworkDef,
  applyNetworkRun,
  applyPortgroup,
  networkAbsentStep,
  networkDefinedStep,
  networkRunningStep,
  portgroupStep,
  undoNetworkDef,
  undoNetworkRun,
  undoPortgroup,
  type NetworkDefState,
} from '../../src/changes/steps/libvirt-network.ts';
import {
  applyNic,
  applyNicPortgroup,
  nicPortgroupStep,
  nicStep,
  undoNic,
  undoNicPortgroup,
  undoVmDef,
  undoVmState,
  vmRunningStep,
  vmStoppedStep,
  vmUndefinedStep,
  type NicState,
} from '../../src/changes/steps/libvirt-vm.ts';
import type { DomainInterface, Portgroup } from '../../src/libvirt/types.ts';
import { newMarker, VIRSH } from '../../src/libvirt/virsh-batch.ts';

/**
 * Names are validated (no leading '-'), and argv makes sure of it once more: every virsh command
 * that names a network or VM ends its options with `--` before the name, and no option follows
 * `--` (virsh would read it as a positional: `net-update -- N add portgroup XML --config` fails).
 * The builders themselves do not validate, so a name that looks like an option shows where it lands.
 */
const NAME = '--x';

/** The virsh commands of an argv: one, or the `;`-separated commands of a virsh batch. */
function commands(argv: readonly string[]): string[][] {
  expect(argv.slice(0, VIRSH.length)).toEqual([...VIRSH]);
  const rest = argv.slice(VIRSH.length);
  if (rest.length > 1) return [rest];
  // Batch words: XML arguments are double-quoted and hold no `; ` of their own here.
  return rest[0]!.split('; ').map((c) => c.match(/"[^"]*"|\S+/g)!);
}

function expectNameAfterDashDash(argv: readonly string[]): void {
  for (const words of commands(argv)) {
    if (words[0] === 'echo' || !words.includes(NAME)) continue;
    const end = words.indexOf('--');
    expect(end, words.join(' ')).toBeGreaterThan(0);
    expect(words.indexOf(NAME), words.join(' ')).toBe(end + 1);
    expect(
      words.slice(end + 2).filter((w) => w.startsWith('-')),
      words.join(' '),
    ).toEqual([]);
  }
}

const all = (...actions: Array<StepAction | null | undefined>) => actions.filter((a): a is StepAction => Boolean(a)).map((a) => a.argv);

describe('virsh argv: `--` before every network or VM name', () => {
  const pg = (name: string, tag: number | null, isDefault = false): Portgroup => ({
    name,
    isDefault,
    vlan: tag === null ? null : { tags: [tag], trunk: false, nativeMode: null },
  });

  it('network steps: probes, changes and undos', () => {
    const spec = { name: NAME, bridge: 'ovsbr0', portgroups: [pg('vlan-1001', 1001)] };
    const def = networkDefinedStep('hv1', spec, undefined, newMarker());
    const net = {
      name: NAME,
      uuid: '6e0f2a1c-0000-4000-8000-00000000a001',
      forwardMode: 'bridge',
      bridge: 'ovsbr0',
      virtualportType: 'openvswitch',
      portgroups: [pg('vlan-1002', 1002)],
    };
    const running: NetworkDefState = { xml: '<network/>', net, active: true, live: net };
    const run = networkRunningStep('hv1', NAME, null);
    const absent = networkAbsentStep('hv1', NAME, undefined);
    const argvs = [
      def.probe.argv,
      ...all(applyNetworkDef(running, def), undoNetworkDef(null, def), undoNetworkDef(running, def)),
      run.probe.argv,
      ...all(
        run.apply,
        applyNetworkRun({ active: false, autostart: false }, run),
        applyNetworkRun({ active: true, autostart: true }, run),
        undoNetworkRun(null, run),
      ),
      absent.probe.argv,
      ...all(absent.apply),
    ];
    for (const argv of argvs) expectNameAfterDashDash(argv);
    expect(argvs.every((a) => a.join(' ').includes(NAME))).toBe(true);
  });

  it('portgroup steps: net-update FLAGS -- NETWORK VERB portgroup XML, whatever the worker chooses', () => {
    const step = portgroupStep('hv1', NAME, pg('vlan-1003', 1003), undefined, newMarker());
    const remove = portgroupStep('hv1', NAME, pg('vlan-1003', null), undefined, newMarker(), true);
    const actions = all(
      step.apply,
      applyPortgroup(null, step),
      applyPortgroup({ config: pg('vlan-1003', 1), live: null, active: false }, step),
      applyPortgroup({ config: pg('vlan-1003', 1), live: pg('vlan-1003', 1), active: true }, remove),
      undoPortgroup({ config: null, live: null, active: true }, step),
      undoPortgroup({ config: pg('vlan-1003', 1), live: pg('vlan-1003', 1), active: true }, step),
    );
    for (const argv of [step.probe.argv, ...actions]) expectNameAfterDashDash(argv);
    expect(actions.map((a) => a.slice(VIRSH.length, -1))).toEqual([
      ['net-update', '--live', '--config', '--', NAME, 'add', 'portgroup'],
      ['net-update', '--live', '--config', '--', NAME, 'add', 'portgroup'],
      ['net-update', '--config', '--', NAME, 'modify', 'portgroup'],
      ['net-update', '--live', '--config', '--', NAME, 'delete', 'portgroup'],
      ['net-update', '--live', '--config', '--', NAME, 'delete', 'portgroup'],
      ['net-update', '--live', '--config', '--', NAME, 'modify', 'portgroup'],
    ]);
    expect(actions[1]!.at(-1)).toBe("<portgroup name='vlan-1003'><vlan><tag id='1003'/></vlan></portgroup>");
  });

  it('VM steps: definition, run state, NICs', () => {
    const mac = '52:54:00:7c:00:01';
    const nic: DomainInterface = {
      type: 'network',
      mac,
      network: 'ovs-network',
      portgroup: 'vlan-1001',
      bridge: null,
      target: null,
      virtualportType: null,
      model: 'virtio',
      vlan: null,
    };
    const on: NicState = { running: true, config: nic, live: nic, model: 'virtio' };
    const off: NicState = { running: true, config: null, live: null, model: null };
    const undef = vmUndefinedStep('hv1', NAME, undefined);
    const start = vmRunningStep('hv1', NAME, undefined);
    const stop = vmStoppedStep('hv1', NAME, undefined, 1000, true);
    const attach = nicStep('hv1', NAME, { mac, network: 'ovs-network', portgroup: 'vlan-1001', model: 'virtio' }, newMarker(), null);
    const detach = nicStep('hv1', NAME, { mac, network: null, portgroup: null, model: 'virtio' }, newMarker(), null, true);
    const move = nicPortgroupStep('hv1', NAME, mac, 'ovs-network', 'vlan-1002', newMarker(), null);
    const argvs = [
      undef.probe.argv,
      start.probe.argv,
      attach.probe.argv,
      ...all(
        undef.apply,
        undoVmDef(null, start),
        start.apply,
        stop.apply,
        stop.fallback,
        undoVmState('running', stop),
        undoVmState('shut off', start),
      ),
      ...all(attach.apply, applyNic(off, attach), undoNic(off, attach), detach.apply, applyNic(on, detach), undoNic(on, detach)),
      ...all(move.apply, applyNicPortgroup(on, move), undoNicPortgroup(on, move)),
    ];
    for (const argv of argvs) expectNameAfterDashDash(argv);
    expect(argvs.every((a) => a.join(' ').includes(NAME))).toBe(true);
    expect(applyNic(off, attach).argv.slice(VIRSH.length)).toEqual(['attach-device', '--config', '--live', '--', NAME, '/dev/stdin']);
    expect(applyNic(on, detach).argv.slice(VIRSH.length)).toEqual(['detach-device', '--config', '--live', '--', NAME, '/dev/stdin']);
    expect(move.apply!.argv.slice(VIRSH.length)).toEqual(['update-device', '--config', '--', NAME, '/dev/stdin']);
  });
});

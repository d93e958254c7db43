import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { PlanStep } from '../../src/changes/plan.ts';
import { planAddPortgroup } from '../../src/changes/plans/libvirt.ts';
import { planEnsureVlan } from '../../src/changes/plans/vlan.ts';
import { planDefineVm, planStartVm } from '../../src/changes/plans/vm.ts';
import { dependsOn } from '../../src/changes/step-dependencies.ts';
import { fixtureHostState, testHost } from '../support/fixture-host-state.ts';

/** Plans made by the real planners from a host state captured on the lab. */
const config = loadConfig({});
const state = fixtureHostState();
state.ovs!.bridges[0]!.ports.push({ uuid: 'u', name: 'enp5s0f0', tag: null, trunks: [1001, 1002], vlanMode: null, interfaces: [] });

function ensureVlanSteps(hostState = state, hosts = ['hv1']): PlanStep[] {
  const { plan, errors } = planEnsureVlan(
    hosts.map((h) => ({ host: testHost(h), state: hostState && { ...hostState, host: h } })),
    { tag: 1003, hypervisors: hosts, dryRun: false } as never,
    config,
  );
  expect(errors).toBeUndefined();
  return plan!.steps;
}

const byKind = (steps: PlanStep[], kind: string, subject?: string) =>
  steps.find((s) => s.probe.kind === kind && (!subject || s.subject.endsWith(subject)))!;

describe('dependsOn: which steps must be observed again after an earlier change', () => {
  it('a new VLAN on a configured host: uplink, portgroup and trunk portgroup are independent, so they go together', () => {
    const steps = ensureVlanSteps();
    const bridge = byKind(steps, 'ovs-bridge');
    const uplink = byKind(steps, 'ovs-uplink-vlan');
    const pg = byKind(steps, 'libvirt-portgroup', '/vlan-1003');
    const all = byKind(steps, 'libvirt-portgroup', '/vlan-all');
    const retag = byKind(steps, 'ovs-port-vlans'); // the running VM on vlan-all
    expect([bridge, uplink, pg, all, retag].every(Boolean)).toBe(true);
    expect(dependsOn(bridge, uplink)).toBe(true); // a new bridge changes which ports exist
    expect(dependsOn(uplink, pg)).toBe(false);
    expect(dependsOn(pg, all)).toBe(false); // net-update touches one portgroup
    expect(dependsOn(all, retag)).toBe(false); // the live portgroup change does not retag ports
    // Identical probes (one network) run once per round.
    expect(pg.probe.argv).toEqual(all.probe.argv);
  });

  it('steps on different hosts never depend on each other', () => {
    const steps = ensureVlanSteps(state, ['hv1', 'hv2']);
    const [a, b] = ['hv1', 'hv2'].map((h) => steps.find((s) => s.host === h && s.probe.kind === 'ovs-bridge')!);
    expect(dependsOn(a!, steps.find((s) => s.host === 'hv2' && s.probe.kind === 'ovs-uplink-vlan')!)).toBe(false);
    expect(dependsOn(a!, b!)).toBe(false);
  });

  it('a host never read: the network is defined, then started — the start is observed again', () => {
    const steps = ensureVlanSteps(null as never);
    const def = byKind(steps, 'libvirt-network-def');
    const run = byKind(steps, 'libvirt-network-run');
    expect(dependsOn(def, run)).toBe(true);
    expect(dependsOn(byKind(steps, 'ovs-uplink-vlan'), def)).toBe(false);
  });

  it('a portgroup change and its retag of the same port: the same port is dependent, another is not', () => {
    const { plan } = planAddPortgroup(testHost(), state, {
      portgroup: { name: 'vlan-all', vlanTags: [1001, 1002, 1003], trunk: true, isDefault: false },
    });
    const retags = plan!.steps.filter((s) => s.probe.kind === 'ovs-port-vlans');
    expect(retags.length).toBeGreaterThan(0);
    expect(dependsOn(retags[0]!, retags[0]!)).toBe(true);
    expect(dependsOn(plan!.steps[0]!, retags[0]!)).toBe(false);
  });

  it('VM steps: a VM depends on its own earlier steps, and starting it adds OVS ports', () => {
    const def = planDefineVm(
      testHost(),
      state,
      { name: 'vm-off', vcpus: 1, memoryMiB: 64, nics: [{ portgroup: 'vlan-1001', model: 'virtio' }] } as never,
      config,
    ).plan!.steps[0]!;
    const start = planStartVm(testHost(), state, { name: 'vm-off' } as never).plan!.steps[0]!;
    const otherStart = planStartVm(testHost(), state, { name: 'vm-access' } as never).plan!.steps[0]!;
    expect(dependsOn(def, start)).toBe(true);
    expect(dependsOn(def, otherStart)).toBe(false);
    expect(dependsOn(start, byKind(ensureVlanSteps(), 'ovs-uplink-vlan'))).toBe(true);
    expect(dependsOn(byKind(ensureVlanSteps(), 'ovs-uplink-vlan'), start)).toBe(false);
  });
});

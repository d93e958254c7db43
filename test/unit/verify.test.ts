import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planVerifyVlan } from '../../src/changes/plans/verify.ts';
import { parsePing } from '../../src/verify/ping.ts';
import { createProbeArgvs, pingArgv, pingPairs, planProbes, removeProbeArgvs } from '../../src/verify/probes.ts';
import { testHost } from '../support/fixture-host-state.ts';

// Captured from iputils ping inside a lab host's namespace.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/ping/${name}`, import.meta.url), 'utf8');

describe('parsePing (captured)', () => {
  it('reads a reply', () => {
    expect(parsePing(fixture('reached.txt'))).toEqual({ sent: 3, received: 3, lossPercent: 0, rttAvgMs: 0.084 });
  });
  it('reads total loss (no rtt line)', () => {
    expect(parsePing(fixture('lost.txt'))).toEqual({ sent: 3, received: 0, lossPercent: 100, rttAvgMs: null });
  });
  it('returns null when ping did not run', () => {
    expect(parsePing('ping: connect: Network is unreachable\n')).toBeNull();
  });
});

describe('probe plan', () => {
  const probes = planProbes(['hv1', 'hv2'], 1001, [1002]);

  it('puts isolation probes in the same subnet as the members, with distinct addresses', () => {
    expect(probes.map((p) => [p.host, p.vlan, p.address, p.member])).toEqual([
      ['hv1', 1001, '198.19.1.10', true],
      ['hv1', 1002, '198.19.1.100', false],
      ['hv2', 1001, '198.19.1.11', true],
      ['hv2', 1002, '198.19.1.110', false],
    ]);
    for (const p of probes) expect(p.port.length).toBeLessThanOrEqual(15);
  });

  it('members must reach each other; isolation probes must reach no member', () => {
    const pairs = pingPairs(probes).map((p) => `${p.from.host}/${p.from.vlan}>${p.to.host} ${p.expect}`);
    expect(pairs.sort()).toEqual([
      'hv1/1001>hv2 REACH',
      'hv1/1002>hv1 ISOLATED',
      'hv1/1002>hv2 ISOLATED',
      'hv2/1001>hv1 REACH',
      'hv2/1002>hv1 ISOLATED',
      'hv2/1002>hv2 ISOLATED',
    ]);
  });

  it('builds bounded, quotable commands', () => {
    const [member] = probes;
    expect(createProbeArgvs(member!, 'ovsbr0').at(-1)).toEqual([
      'ovs-vsctl',
      '--timeout=10',
      '--may-exist',
      'add-port',
      'ovsbr0',
      'tlp1001h',
      '--',
      'set',
      'Port',
      'tlp1001h',
      'tag=1001',
    ]);
    expect(pingArgv(member!, probes[2]!)).toEqual([
      'ip',
      'netns',
      'exec',
      'tlp1001',
      'ping',
      '-n',
      '-q',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '1',
      '198.19.1.11',
    ]);
    expect(removeProbeArgvs(member!)[2]).toEqual(['ip', 'netns', 'del', 'tlp1001']);
  });

  it('verifyVlan refuses one host without isolation VLANs, and isolating a VLAN from itself', () => {
    expect(planVerifyVlan([testHost('hv1')], { tag: 1001, hypervisors: ['hv1'], isolationFrom: [] }).errors?.[0]?.field).toEqual([
      'input',
      'hypervisors',
    ]);
    expect(
      planVerifyVlan([testHost('hv1'), testHost('hv2')], { tag: 1001, hypervisors: ['hv1', 'hv2'], isolationFrom: [1001] }).errors?.[0]
        ?.field,
    ).toEqual(['input', 'isolationFrom']);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FleetData, JobDetail, VlanPageData } from '../../ui/src/types.ts';
import { cellOf, verificationGrid, vlanList, vlanPage } from '../../ui/src/vlan-model.ts';

/**
 * The VLAN pages' view models with real answers of the UI's queries (captured from the lab by
 * test/e2e/ui.test.ts): VLAN 1001 verified with isolation from 1002, VLAN 1002 missing on hv2's
 * uplink, and a verification of 1899 (carried nowhere) that failed.
 */
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/ui/${name}.json`, import.meta.url), 'utf8'));
const vlan1001 = fixture<VlanPageData>('vlan-1001');
const vlan1002 = fixture<VlanPageData>('vlan-1002');
const fleet = fixture<FleetData>('fleet');
const failed = fixture<{ job: JobDetail }>('job-verify-vlan-failed').job;

describe('the VLAN list', () => {
  it('says where each VLAN is carried, where it is missing, and how much drift it has', () => {
    expect(vlanList(fleet)).toEqual([
      { tag: 1001, name: null, carriedOn: ['hv1', 'hv2'], missingOn: [], drift: 1 },
      { tag: 1002, name: null, carriedOn: ['hv1'], missingOn: ['hv2'], drift: 2 },
      { tag: 1891, name: 'ui-live', carriedOn: ['hv1', 'hv2'], missingOn: [], drift: 1 },
    ]);
  });
});

describe('one VLAN', () => {
  it('has its carriage per host, portgroups and VM NICs (live VLANs, else configured)', () => {
    const m = vlanPage(vlan1001);
    expect(m.carriage.map((c) => [c.host, c.bridge, c.uplink, c.carriage, c.carried])).toEqual([
      ['hv1', 'ovsbr0', 'enp5s0f0', 'TRUNKED', true],
      ['hv2', 'ovsbr0', 'enp5s0f0', 'TRUNKED', true],
    ]);
    expect(m.portgroups).toEqual([
      { host: 'hv1', network: 'ovs-network', name: 'vlan-1001', kind: 'access' },
      { host: 'hv1', network: 'ovs-network', name: 'vlan-all', kind: 'trunk' },
      { host: 'hv2', network: 'ovs-network', name: 'vlan-1001', kind: 'access' },
      { host: 'hv2', network: 'ovs-network', name: 'vlan-all', kind: 'trunk' },
    ]);
    expect(m.nics.map((n) => [n.host, n.vm, n.vmState, n.target, n.vlans, n.drift.length])).toEqual([
      ['hv1', 'router-1', 'running', 'vnet1', '1001,1002,1891 (trunk)', 1],
      ['hv1', 'web-1', 'running', 'vnet0', '1001', 0],
      ['hv2', 'web-2', 'running', 'vnet0', '1001', 0],
    ]);
    const m2 = vlanPage(vlan1002);
    expect(m2.missingOn).toEqual(['hv2']);
    expect(m2.carriage.find((c) => c.host === 'hv2')).toMatchObject({
      carriage: 'MISSING',
      carried: false,
      drift: [{ kind: 'UPLINK_MISSING' }],
    });
    expect(m2.nics.find((n) => n.vm === 'db-1')).toMatchObject({ vmState: 'shut off', live: false, target: null, vlans: '1002' });
  });

  it("shows the VLAN's last verification (Vlan.lastVerification) as a grid; none for a VLAN never verified", () => {
    const m = vlanPage(vlan1001);
    expect(m.verification?.job).toBe(vlan1001.vlan.lastVerification);
    expect(m.verification?.job.ticketRef).toBe('UI-VERIFY');
    expect(m.verification?.grid.tag).toBe(1001);
    expect(vlan1002.vlan.lastVerification).toBeNull();
    expect(vlanPage(vlan1002).verification).toBeNull();
  });
});

describe('the verification grid', () => {
  it('has a row per probe (members first), a column per member host; members reach each other, isolation probes reach nobody', () => {
    const grid = verificationGrid(vlanPage(vlan1001).verification!.job.verification!);
    expect(grid.columns).toEqual(['hv1', 'hv2']);
    expect(grid.rows.map((r) => [r.host, r.vlan, r.member])).toEqual([
      ['hv1', 1001, true],
      ['hv2', 1001, true],
      ['hv1', 1002, false],
      ['hv2', 1002, false],
    ]);
    expect(grid.rows.map((r) => r.cells.map((c) => c?.state ?? null))).toEqual([
      [null, 'reached'],
      ['reached', null],
      ['isolated', 'isolated'],
      ['isolated', 'isolated'],
    ]);
    expect(grid).toMatchObject({ ok: true, isolationFrom: [1002], counts: { reached: 2, isolated: 4, failed: 0 } });
    const reached = grid.rows[0]!.cells[1]!;
    expect(reached.text).toMatch(/^reached 3\/3 · \d+\.\d\d ms$/);
    expect(reached.title).toMatch(/^hv1 198\.19\.\d+\.\d+ \(VLAN 1001\) → hv2 198\.19\.\d+\.\d+: must reach; 3 of 3 replies, 0% loss/);
    expect(grid.rows[2]!.cells[0]!.text).toBe('isolated 0/3');
  });

  it('marks what did not do what it must as failed', () => {
    const grid = verificationGrid(failed.verification!);
    expect(grid).toMatchObject({ tag: 1899, ok: false, counts: { reached: 0, isolated: 0, failed: 2 } });
    expect(grid.rows.flatMap((r) => r.cells.filter((c) => c).map((c) => c!.text))).toEqual([
      'failed: no reply 0/3',
      'failed: no reply 0/3',
    ]);
    // A ping that must not reach but did: failed too.
    const leak = { ...failed.verification!.results[0]!, expect: 'ISOLATED', ok: false, received: 3, lossPercent: 0, rttAvgMs: 0.5 };
    expect(cellOf(leak)).toMatchObject({ state: 'failed', text: 'failed: reached 3/3' });
  });
});

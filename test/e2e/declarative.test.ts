import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { portgroupValue } from '../../src/libvirt/network-build.ts';
import { parseDomainXml } from '../../src/libvirt/domain-xml.ts';
import { parseNetworkXml } from '../../src/libvirt/network-xml.ts';
import { changeClient } from '../support/changes.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { domainXml } from '../support/reference-setup.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';

/**
 * Declarative changes on objects Trunkline did not build: a network defined by hand (no <uuid>
 * in its XML, a portgroup added later with net-update, so libvirt lists it last) is redefined
 * through defineNetwork; the same portgroups in another order are no change; a VM is redefined
 * with another memory size. Each checked with virsh inside the host.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const sfx = randomBytes(2).toString('hex');
const BR = `td${sfx}`;
const NET = `tdnet-${sfx}`;
const VM = `tdvm-${sfx}`;
const HAND_VM = `tdhand-${sfx}`;
const H = 'hv1';

let tl: Trunkline;
let dir: string;
const { change, apply, applyTwice } = changeClient(() => tl.url);
const on = async (...argv: string[]) => {
  const r = await labExec(labEnv, H, argv);
  expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const refresh = () => gql(tl.url, `{ hypervisor(name: "${H}", refresh: true) { name } }`);

/** The portgroups of a definition as a set (canonical form, sorted). */
const portgroupSet = (xml: string) => parseNetworkXml(xml).portgroups.map(portgroupValue).sort();

const HAND_XML = `<network>
  <name>${NET}</name>
  <forward mode='bridge'/>
  <bridge name='${BR}'/>
  <virtualport type='openvswitch'/>
  <portgroup name='vlan-0001' default='yes'/>
  <portgroup name='vlan-1001'><vlan><tag id='1001'/></vlan></portgroup>
  <portgroup name='vlan-all'><vlan trunk='yes'><tag id='1002'/><tag id='1001'/></vlan></portgroup>
</network>`;

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  dir = mkdtempSync(join(tmpdir(), 'tl-decl-'));
  chmodSync(dir, 0o755);
  // Built by hand, as someone else's tooling would.
  await on('ovs-vsctl', '--may-exist', 'add-br', BR, '--', 'set', 'Bridge', BR, 'datapath_type=netdev');
  writeFileSync(join(dir, 'net.xml'), HAND_XML);
  chmodSync(join(dir, 'net.xml'), 0o644);
  await on('virsh', 'net-define', join(dir, 'net.xml'));
  await on('virsh', 'net-start', NET);
  await on(
    'virsh',
    'net-update',
    NET,
    'add',
    'portgroup',
    "<portgroup name='vlan-1003'><vlan><tag id='1003'/></vlan></portgroup>",
    '--live',
    '--config',
  );
  await refresh();
});

afterAll(async () => {
  await tl?.stop();
  for (const vm of [VM, HAND_VM]) {
    await labExec(labEnv, H, ['virsh', 'destroy', vm]);
    await labExec(labEnv, H, ['virsh', 'undefine', vm]);
  }
  await labExec(labEnv, H, ['virsh', 'net-destroy', NET]);
  await labExec(labEnv, H, ['virsh', 'net-undefine', NET]);
  await labExec(labEnv, H, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('defineNetwork converges on an existing network', () => {
  it('the same portgroups in another order (libvirt lists vlan-1003 last): dryRun shows no change, a job changes nothing', async () => {
    const input = {
      hypervisor: H,
      name: NET,
      bridge: BR,
      portgroups: [
        { name: 'vlan-0001', isDefault: true },
        { name: 'vlan-1001', vlanTags: [1001] },
        { name: 'vlan-1003', vlanTags: [1003] },
        { name: 'vlan-all', vlanTags: [1001, 1002], trunk: true },
      ],
    };
    expect(await on('virsh', 'net-dumpxml', NET)).toMatch(/vlan-all[\s\S]*vlan-1003/);
    await on('virsh', 'net-autostart', NET); // else the run step would (rightly) change autostart
    await refresh();
    const dry = await change('defineNetwork', { ...input, dryRun: true });
    expect(dry.userErrors).toEqual([]);
    expect(dry.plan.steps.map((s: any) => s.wouldChange)).toEqual([false, false]);
    const job = await apply('defineNetwork', input);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.changedSteps).toBe(0);
    expect(job.steps.map((s: any) => s.changed)).toEqual([false, false]);
  });

  it('another portgroup set: applied live and persistently, UUID kept, a running VM retagged; a rerun changes nothing', async () => {
    const uuid = await on('virsh', 'net-uuid', NET);
    // A running VM on vlan-all, made by hand: its OVS port must follow the portgroup's new trunk.
    writeFileSync(join(dir, 'vm.xml'), domainXml({ name: HAND_VM, mac: '52:54:00:3d:00:01', portgroup: 'vlan-all', start: true }, NET));
    chmodSync(join(dir, 'vm.xml'), 0o644);
    await on('virsh', 'define', join(dir, 'vm.xml'));
    await on('virsh', 'start', HAND_VM);
    try {
      const target = (await on('virsh', 'domiflist', HAND_VM))
        .split('\n')
        .find((l) => l.includes('52:54:00:3d:00:01'))!
        .trim()
        .split(/\s+/)[0]!;
      expect(await on('ovs-vsctl', 'get', 'Port', target, 'trunks')).toBe('[1001, 1002]');
      await refresh();

      const portgroups = [
        { name: 'vlan-0001', isDefault: false },
        { name: 'vlan-1002', vlanTags: [1002], isDefault: true },
        { name: 'vlan-all', vlanTags: [1003, 1001, 1002], trunk: true },
      ];
      const job = await applyTwice('defineNetwork', { hypervisor: H, name: NET, bridge: BR, portgroups });
      expect(job.steps[0]).toMatchObject({ changed: true, command: expect.stringContaining('net-define /dev/stdin') });
      expect(job.steps[0].command).toMatch(/net-update --live -- \S+ \w+ portgroup /);

      const wanted = ['vlan-0001 untagged', 'vlan-1002 (default) tag=1002', 'vlan-all trunk=1001,1002,1003'];
      expect(portgroupSet(await on('virsh', 'net-dumpxml', NET))).toEqual(wanted);
      expect(portgroupSet(await on('virsh', 'net-dumpxml', '--inactive', NET))).toEqual(wanted);
      expect(await on('virsh', 'net-uuid', NET)).toBe(uuid);
      expect(await on('virsh', 'net-info', NET)).toMatch(/Active:\s+yes/);
      expect(await on('ovs-vsctl', 'get', 'Port', target, 'trunks')).toBe('[1001, 1002, 1003]');
    } finally {
      await labExec(labEnv, H, ['virsh', 'destroy', HAND_VM]);
      await labExec(labEnv, H, ['virsh', 'undefine', HAND_VM]);
      await refresh();
    }
  });

  it('another bridge for the running network: refused with what differs and what to do; nothing queued or changed', async () => {
    await on('ovs-vsctl', '--may-exist', 'add-br', `${BR}b`, '--', 'set', 'Bridge', `${BR}b`, 'datapath_type=netdev');
    try {
      await refresh();
      const before = await on('virsh', 'net-dumpxml', '--inactive', NET);
      const payload = await change('defineNetwork', {
        hypervisor: H,
        name: NET,
        bridge: `${BR}b`,
        portgroups: [{ name: 'vlan-0001', isDefault: true }],
      });
      expect(payload.job).toBeNull();
      expect(payload.userErrors).toEqual([
        expect.objectContaining({
          code: 'NETWORK_RESTART_REQUIRED',
          message: expect.stringMatching(new RegExp(`running with bridge ${BR} \\(wanted ${BR}b\\).*deleteNetwork`)),
        }),
      ]);
      expect(await on('virsh', 'net-dumpxml', '--inactive', NET)).toBe(before);
    } finally {
      await labExec(labEnv, H, ['ovs-vsctl', '--if-exists', 'del-br', `${BR}b`]);
    }
  });
});

describe('defineVm converges on an existing VM', () => {
  it('another memory size for a VM Trunkline defined: redefined with its UUID; a rerun changes nothing', async () => {
    await refresh();
    await applyTwice('defineVm', { hypervisor: H, name: VM, vcpus: 1, memoryMiB: 32, nics: [{ network: NET, portgroup: 'vlan-1002' }] });
    const before = parseDomainXml(await on('virsh', 'dumpxml', '--inactive', VM));
    expect(before.memoryKiB).toBe(32 * 1024);

    const job = await applyTwice('defineVm', {
      hypervisor: H,
      name: VM,
      vcpus: 1,
      memoryMiB: 64,
      nics: [{ network: NET, portgroup: 'vlan-1002' }],
    });
    expect(job.steps[0]).toMatchObject({
      changed: true,
      observed: expect.stringContaining('memory=32MiB'),
      wanted: expect.stringContaining('memory=64MiB'),
    });
    const after = parseDomainXml(await on('virsh', 'dumpxml', '--inactive', VM));
    expect(after).toMatchObject({
      uuid: before.uuid,
      memoryKiB: 64 * 1024,
      interfaces: [expect.objectContaining({ portgroup: 'vlan-1002' })],
    });
  });
});

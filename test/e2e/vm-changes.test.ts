import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeClient } from '../support/changes.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { domainXml } from '../support/reference-setup.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';

/** VM mutations on the lab, each verified with virsh / ovs-vsctl inside the host and re-run. */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const sfx = randomBytes(2).toString('hex');
const BR = `tv${sfx}`;
const NET = `tvnet-${sfx}`;
const VM = `tvm-${sfx}`;
const FOREIGN = `tvforeign-${sfx}`;

let tl: Trunkline;
const { change, apply, applyTwice } = changeClient(() => tl.url);
const on = async (...argv: string[]) => (await labExec(labEnv, 'hv1', argv)).stdout.trim();

/** OVS port name and tag of the VM NIC with this MAC, as the host says. */
async function portOf(mac: string): Promise<{ target: string; tag: string } | null> {
  const row = (await on('virsh', 'domiflist', VM)).split('\n').find((l) => l.includes(mac));
  if (!row) return null;
  const target = row.trim().split(/\s+/)[0]!;
  return { target, tag: await on('ovs-vsctl', 'get', 'Port', target, 'tag') };
}

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
  expect((await apply('createBridge', { hypervisor: 'hv1', name: BR })).state).toBe('SUCCEEDED');
  const net = await apply('defineNetwork', {
    hypervisor: 'hv1',
    name: NET,
    bridge: BR,
    portgroups: [
      { name: 'vlan-0001', isDefault: true },
      { name: 'vlan-1001', vlanTags: [1001] },
      { name: 'vlan-1002', vlanTags: [1002] },
    ],
  });
  expect(net.state).toBe('SUCCEEDED');
});

afterAll(async () => {
  await tl?.stop();
  for (const vm of [VM, FOREIGN]) {
    await labExec(labEnv, 'hv1', ['virsh', 'destroy', vm]);
    await labExec(labEnv, 'hv1', ['virsh', 'undefine', vm]);
  }
  await labExec(labEnv, 'hv1', ['virsh', 'net-destroy', NET]);
  await labExec(labEnv, 'hv1', ['virsh', 'net-undefine', NET]);
  await labExec(labEnv, 'hv1', ['ovs-vsctl', '--if-exists', 'del-br', BR]);
});

describe('VM lifecycle', () => {
  const MAC1 = '52:54:00:40:00:01';
  const MAC2 = '52:54:00:40:00:02';

  it('defineVm and startVm: defined as asked, running, its port tagged by the portgroup', async () => {
    await applyTwice('defineVm', {
      hypervisor: 'hv1',
      name: VM,
      vcpus: 1,
      memoryMiB: 32,
      nics: [{ network: NET, portgroup: 'vlan-1001', mac: MAC1 }],
    });
    const xml = await on('virsh', 'dumpxml', '--inactive', VM);
    expect(xml).toMatch(new RegExp(`<mac address='${MAC1}'/>\\s*<source network='${NET}' portgroup='vlan-1001'/>`));
    expect(xml).toMatch(/<acpi\/>\s*<apic\/>/);
    expect(await on('virsh', 'domstate', VM)).toBe('shut off');

    await applyTwice('startVm', { hypervisor: 'hv1', name: VM });
    expect(await on('virsh', 'domstate', VM)).toBe('running');
    expect((await portOf(MAC1))?.tag).toBe('1001');
  });

  it('attachVmInterface hot-plugs a NIC (live and persistent); detachVmInterface removes it', async () => {
    await applyTwice('attachVmInterface', { hypervisor: 'hv1', vm: VM, network: NET, portgroup: 'vlan-1002', mac: MAC2 });
    expect((await portOf(MAC2))?.tag).toBe('1002');
    expect(await on('virsh', 'dumpxml', '--inactive', VM)).toContain(MAC2);

    // A guest without an OS never acknowledges the unplug: the job says so and restores the NIC.
    const live = await apply('detachVmInterface', { hypervisor: 'hv1', vm: VM, mac: MAC2, timeoutSeconds: 2 });
    expect(live.state).toBe('FAILED');
    expect(live.error.code).toBe('STEP_NOT_CONVERGED');
    expect(live.error.message).toMatch(/guest did not release the NIC/);
    expect(live.rollback).toEqual([expect.objectContaining({ state: 'SUCCEEDED' })]);
    expect(await on('virsh', 'dumpxml', '--inactive', VM)).toContain(MAC2);
    expect((await portOf(MAC2))?.tag).toBe('1002');

    // Stopped, the NIC goes at once.
    await apply('stopVm', { hypervisor: 'hv1', name: VM, timeoutSeconds: 1, force: true });
    await applyTwice('detachVmInterface', { hypervisor: 'hv1', vm: VM, mac: MAC2 });
    expect(await on('virsh', 'dumpxml', '--inactive', VM)).not.toContain(MAC2);
    await apply('startVm', { hypervisor: 'hv1', name: VM });
    expect(await portOf(MAC2)).toBeNull();
  });

  it('setVmInterfaceVlan moves a running NIC: persistent portgroup and live OVS tag', async () => {
    await gql(tl.url, '{ hypervisor(name: "hv1", refresh: true) { name } }');
    const job = await applyTwice('setVmInterfaceVlan', { hypervisor: 'hv1', vm: VM, mac: MAC1, portgroup: 'vlan-1002' });
    expect(job.steps).toHaveLength(2);
    expect((await portOf(MAC1))?.tag).toBe('1002');
    expect(await on('virsh', 'dumpxml', '--inactive', VM)).toMatch(
      new RegExp(`<mac address='${MAC1}'/>\\s*<source network='${NET}' portgroup='vlan-1002'/>`),
    );
    const nic = (await gql(tl.url, `{ hypervisor(name: "hv1") { vm(name: "${VM}") { interfaces { mac vlanTags } } } }`)).data.hypervisor.vm
      .interfaces;
    expect(nic).toEqual([{ mac: MAC1, vlanTags: [1002] }]);
  });

  it('stopVm: a guest that ignores ACPI is reported with a hint; with force it is powered off', async () => {
    // These VMs have no OS, so they never react to the ACPI shutdown (docs/lab.md).
    const graceful = await apply('stopVm', { hypervisor: 'hv1', name: VM, timeoutSeconds: 2 });
    expect(graceful.state).toBe('FAILED');
    expect(graceful.error.code).toBe('STEP_NOT_CONVERGED');
    expect(graceful.error.message).toMatch(/force: true/);
    expect(graceful.rollback).toEqual([
      expect.objectContaining({ state: 'SUCCEEDED', message: expect.stringMatching(/already as before/) }),
    ]);
    expect(await on('virsh', 'domstate', VM)).toBe('running');

    const forced = await applyTwice('stopVm', { hypervisor: 'hv1', name: VM, timeoutSeconds: 2, force: true });
    expect(forced.steps[0].stdout).toMatch(/virsh -c qemu:\/\/\/system destroy/);
    expect(await on('virsh', 'domstate', VM)).toBe('shut off');
  });

  it('undefineVm: refused while running, then undefined', async () => {
    await apply('startVm', { hypervisor: 'hv1', name: VM });
    await gql(tl.url, '{ hypervisor(name: "hv1", refresh: true) { name } }');
    const refused = await change('undefineVm', { hypervisor: 'hv1', name: VM });
    expect(refused.userErrors).toEqual([expect.objectContaining({ field: ['input', 'name'], code: 'VM_RUNNING' })]);
    await apply('stopVm', { hypervisor: 'hv1', name: VM, timeoutSeconds: 1, force: true });
    await applyTwice('undefineVm', { hypervisor: 'hv1', name: VM });
    expect((await labExec(labEnv, 'hv1', ['virsh', 'domstate', VM])).code).not.toBe(0);
  });

  it('never redefines a VM that Trunkline did not define', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-vm-'));
    chmodSync(dir, 0o755);
    try {
      writeFileSync(join(dir, 'vm.xml'), domainXml({ name: FOREIGN, mac: '52:54:00:40:00:09', portgroup: 'vlan-1001', start: false }, NET));
      expect((await labExec(labEnv, 'hv1', ['virsh', 'define', join(dir, 'vm.xml')])).code).toBe(0);
      const before = await on('virsh', 'dumpxml', '--inactive', FOREIGN);
      const job = await apply('defineVm', { hypervisor: 'hv1', name: FOREIGN, memoryMiB: 64 });
      expect(job.state).toBe('FAILED');
      expect(job.error.code).toBe('VM_NOT_MANAGED');
      expect(await on('virsh', 'dumpxml', '--inactive', FOREIGN)).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['defineVm', { hypervisor: 'hv1', name: 'x', memoryMiB: 8 }, 'input.memoryMiB', 'INVALID_INPUT'],
    ['defineVm', { hypervisor: 'hv1', name: 'x', vcpus: 0 }, 'input.vcpus', 'INVALID_INPUT'],
    ['defineVm', { hypervisor: 'hv1', name: 'x; reboot' }, 'input.name', 'INVALID_INPUT'],
    ['defineVm', { hypervisor: 'hv1', name: 'x', nics: [{ network: NET, portgroup: 'vlan-9' }] }, 'input.nics.0.portgroup', 'NOT_FOUND'],
    ['defineVm', { hypervisor: 'hv1', name: 'x', nics: [{ network: NET, mac: '01:00:5e:00:00:01' }] }, 'input.nics.0.mac', 'INVALID_INPUT'],
    ['startVm', { hypervisor: 'hv1', name: 'no-such-vm' }, 'input.name', 'NOT_FOUND'],
    ['attachVmInterface', { hypervisor: 'hv1', vm: 'no-such-vm', network: NET }, 'input.vm', 'NOT_FOUND'],
    ['stopVm', { hypervisor: 'hv1', name: 'x', timeoutSeconds: 0 }, 'input.timeoutSeconds', 'INVALID_INPUT'],
  ])('%s %j is refused on %s', async (name, input, field, errorCode) => {
    const payload = await change(name, input);
    expect(payload.job).toBeNull();
    expect(payload.userErrors.map((e: any) => [e.field.join('.'), e.code])).toContainEqual([field, errorCode]);
  });
});

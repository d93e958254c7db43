import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { HostState } from '../../src/hosts/host-state.ts';
import { knownObjectsRead, readForPlanning, readHostState } from '../../src/hosts/read-host-state.ts';
import type { CommandRunner } from '../../src/ssh/runner.ts';
import { InventoryFileSource } from '../../src/inventory/inventory-file.ts';
import { createLogger } from '../../src/log/logger.ts';
import { SshPool } from '../../src/ssh/ssh-pool.ts';
import { CountingRunner } from '../../bench/support/counting-runner.ts';
import { labExec } from '../support/lab.ts';

/**
 * Batches and the light host read against a real lab host over real SSH: what the worker's
 * host parts rely on.
 */
const labEnv = inject('labEnv');
const inventory = await new InventoryFileSource(inject('inventoryPath')).load();
const hv1 = inventory.hypervisors.find((h) => h.name === 'hv1')!;
const pool = new SshPool({
  connectTimeoutMs: 3000,
  commandTimeoutMs: 10_000,
  maxChannels: 4,
  keepaliveMs: 0,
  sudo: true,
  logger: createLogger('test', 'silent'),
});
const net = `tlread${randomBytes(3).toString('hex')}`;
const VIRSH = ['virsh', '-c', 'qemu:///system'];
const virsh = (...argv: string[]) => labExec(labEnv, 'hv1', ['virsh', ...argv]);

afterAll(async () => {
  await virsh('net-undefine', net);
  await pool.close();
});

describe('command batches over SSH', () => {
  it('runs several sudo commands in one exec with each result apart; a refused command is reported, not hidden', async () => {
    const results = await pool.execBatch(hv1, [
      { argv: ['ovs-vsctl', '--version'] },
      { argv: ['ovs-vsctl', 'br-exists', 'no-such-br'] },
      { argv: ['id', '-u'] },
    ]);
    expect(results.map((r) => r.exitCode)).toEqual([0, 2, 1]);
    expect(results[0]!.stdout).toMatch(/Open vSwitch/);
    expect(results[2]!.stderr).toMatch(/sudo/); // only the allowed tools run through sudo
  });

  it('stops at the first failure when asked, and feeds stdin to the command that has it', async () => {
    const xml = `<network><name>${net}</name><forward mode='bridge'/><bridge name='ovsbr-none'/><virtualport type='openvswitch'/></network>`;
    const results = await pool.execBatch(
      hv1,
      [
        { argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: xml },
        { argv: [...VIRSH, 'net-info', 'no-such-net'] },
        { argv: [...VIRSH, 'net-undefine', net] },
      ],
      { stopOnFailure: true },
    );
    expect(results.map((r) => r.exitCode)).toEqual([0, 1]);
    expect((await virsh('net-info', net)).stdout).toMatch(/Persistent:\s+yes/); // the undefine never ran
  });
});

/** The light read as a host part runs it: its commands in one batch (there, with the verifying probes). */
async function lightRead(runner: CommandRunner, previous: HostState): Promise<HostState> {
  const read = knownObjectsRead(hv1, previous)!;
  return read.build(await runner.execBatch(hv1, read.commands), 1);
}

describe('the light re-read with known objects (after a job that created or removed none)', () => {
  it('reads in one round trip with 2 commands, sees changes inside known objects, drops vanished ones', async () => {
    const full = await readHostState(pool, hv1, null, 10_000);
    expect(full.read).toMatchObject({ roundTrips: 2, commands: 4 });
    expect(full.libvirt!.networks.map((n) => n.name)).toContain(net);

    await virsh('net-update', net, 'add', 'portgroup', "<portgroup name='vlan-1009'><vlan><tag id='1009'/></vlan></portgroup>", '--config');
    const counting = new CountingRunner(pool);
    const light = await lightRead(counting, full);
    expect(light.read).toMatchObject({ roundTrips: 1, commands: 2 });
    expect(counting.take()).toHaveLength(1); // one batch: one exec
    expect(light.versions).toEqual(full.versions);
    expect(light.libvirt!.networks.find((n) => n.name === net)!.portgroups.map((p) => p.name)).toContain('vlan-1009');
    expect(light.libvirt!.domains).toEqual(full.libvirt!.domains);

    await virsh('net-undefine', net);
    const after = await lightRead(pool, light);
    expect(after.error).toBeNull();
    expect(after.libvirt!.networks.map((n) => n.name)).not.toContain(net);
    // Without a complete previous read there is nothing to build on: only a full read will do.
    expect(knownObjectsRead(hv1, null)).toBeNull();
    expect(knownObjectsRead(hv1, { ...after, status: 'UNREACHABLE' })).toBeNull();
  });
});

describe('the read a host part plans from (under the host lock, when its turn comes)', () => {
  it('is complete in one round trip when the lists did not change, and sees an object made behind Trunkline’s back with a second', async () => {
    const full = await readHostState(pool, hv1, null, 10_000);
    const counting = new CountingRunner(pool);
    const same = await readForPlanning(counting, hv1, full, 10_000);
    expect(counting.take()).toHaveLength(1);
    expect(same.partial).toBe(false);
    expect(same.state.read).toMatchObject({ roundTrips: 1 });
    expect(same.state.libvirt).toEqual(full.libvirt);
    expect(same.state.ovs).toEqual(full.ovs);
    expect(same.state.versions).toEqual(full.versions);
    // The OVS snapshot it ran is handed on as every OVS step's first probe.
    expect([...same.results.keys()].some((k) => k.startsWith('ovs-vsctl\0--format=json'))).toBe(true);

    // A network defined by hand since the cache was read: the lists show it, a second round reads it.
    const xml = `<network><name>${net}</name><forward mode='bridge'/><bridge name='ovsbr-none'/><virtualport type='openvswitch'/></network>`;
    await pool.execBatch(hv1, [{ argv: [...VIRSH, 'net-define', '/dev/stdin'], stdin: xml }]);
    const more = await readForPlanning(counting, hv1, full, 10_000);
    expect(counting.take()).toHaveLength(2);
    expect(more.state.read).toMatchObject({ roundTrips: 2 });
    expect(more.state.libvirt!.networks.map((n) => n.name)).toContain(net);
    await virsh('net-undefine', net);

    // OVS-only kinds read just the snapshot; the rest of the state is the cache's.
    const ovsOnly = await readForPlanning(counting, hv1, full, 10_000, 'ovs');
    expect(counting.take()).toHaveLength(1);
    expect(ovsOnly).toMatchObject({ partial: true });
    expect(ovsOnly.state.ovs).toEqual(full.ovs);
  });

  it('throws when the host cannot be read: nothing is planned from a guess', async () => {
    const nowhere = { ...hv1, name: 'hv-nowhere', address: '127.0.0.1', port: 9 };
    await expect(readForPlanning(pool, nowhere, null, 3000)).rejects.toMatchObject({ code: expect.stringMatching(/^SSH_/) });
  });
});

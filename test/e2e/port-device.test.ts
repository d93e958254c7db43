import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeClient, JOB_FIELDS } from '../support/changes.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/**
 * OVS accepts a port on a device that does not exist (the transaction succeeds; the Interface
 * row says "could not open network device ... (No such device)", ofport -1). Through the public
 * API: such an addPort fails and is rolled back unless deviceMayBeMissing says the device will
 * appear later (then it succeeds with a warning); a port on a device that exists is unaffected.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const sfx = randomBytes(2).toString('hex');
const BR = `tpd${sfx}`;
const PX = 'px1';
const VETH = `pxv${sfx}`;

let tl: Trunkline;
const { change, apply } = changeClient(() => tl.url);
const FIELDS = `${JOB_FIELDS} steps { warning }`;
const run = async (input: Record<string, unknown>) => {
  const payload = await change('addPort', input);
  expect(payload.userErrors).toEqual([]);
  return waitForJob(tl.url, payload.job.id, FIELDS);
};

const exec = (...argv: string[]) => labExec(labEnv, 'hv1', argv);
const on = async (...argv: string[]) => (await exec(...argv)).stdout.trim();
const NO_DEVICE = `${PX}: could not open network device ${PX} \\(No such device\\)`;

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
  expect((await apply('createBridge', { hypervisor: 'hv1', name: BR })).state).toBe('SUCCEEDED');
});

afterAll(async () => {
  await tl?.stop();
  await exec('ovs-vsctl', '--if-exists', 'del-br', BR);
  await exec('ip', 'link', 'del', PX);
  await exec('ip', 'link', 'del', VETH);
});

describe('addPort of a SYSTEM port whose device does not exist', () => {
  it("fails naming the step and OVS's message, is rolled back, and leaves no port on the host", async () => {
    expect((await exec('ip', 'link', 'show', PX)).code).not.toBe(0);
    const job = await run({ hypervisor: 'hv1', bridge: BR, name: PX, tag: 1001 });
    expect(job.state).toBe('FAILED');
    expect(job.error.code).toBe('OVS_INTERFACE_ERROR');
    expect(job.error.step).toBe(0);
    expect(job.error.message).toMatch(
      new RegExp(
        `^step 1 \\(ensure port ${PX} on ${BR} \\(system, .*\\)\\) on hv1 failed: ${NO_DEVICE} .*deviceMayBeMissing.*; rolled back step 1$`,
      ),
    );
    expect(job.hosts).toEqual([
      expect.objectContaining({ hypervisor: 'hv1', state: 'FAILED', error: expect.objectContaining({ code: 'OVS_INTERFACE_ERROR' }) }),
    ]);
    expect(job.steps).toEqual([expect.objectContaining({ state: 'FAILED', warning: null })]);
    expect(job.rollback).toEqual([
      expect.objectContaining({ step: 0, state: 'SUCCEEDED', command: `ovs-vsctl --timeout=10 --if-exists del-port ${PX}` }),
    ]);
    expect((await exec('ovs-vsctl', 'port-to-br', PX)).code).not.toBe(0);
    expect(await on('ovs-vsctl', '--columns=name', 'find', 'Interface', `name=${PX}`)).toBe('');
  });

  it('with deviceMayBeMissing: succeeds with the warning and the port stays; a rerun changes nothing and warns again', async () => {
    const input = { hypervisor: 'hv1', bridge: BR, name: PX, tag: 1001, deviceMayBeMissing: true };
    const job = await run(input);
    expect(job.error).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    expect(job.steps).toEqual([
      expect.objectContaining({
        state: 'SUCCEEDED',
        changed: true,
        warning: expect.stringMatching(new RegExp(`^${NO_DEVICE}: the port is configured; OVS attaches the device when it appears$`)),
      }),
    ]);
    expect(job.rollback).toEqual([]);
    expect(await on('ovs-vsctl', 'port-to-br', PX)).toBe(BR);
    expect(await on('ovs-vsctl', 'get', 'Interface', PX, 'ofport')).toBe('-1');

    const again = await run(input);
    expect(again.state).toBe('SUCCEEDED');
    expect(again.steps).toEqual([expect.objectContaining({ changed: false, warning: expect.stringMatching(new RegExp(`^${NO_DEVICE}`)) })]);

    // Without the flag the same port is not fine either: it fails, and (not made by this job) stays.
    const strict = await run({ ...input, deviceMayBeMissing: false });
    expect(strict.state).toBe('FAILED');
    expect(strict.error.message).toMatch(new RegExp(`${NO_DEVICE} .*left in place`));
    expect(strict.rollback).toEqual([]);
    expect(await on('ovs-vsctl', 'port-to-br', PX)).toBe(BR);
  });

  it('once the device appears OVS attaches it: the same addPort succeeds without a warning', async () => {
    expect((await exec('ip', 'link', 'add', PX, 'type', 'veth', 'peer', 'name', `${PX}p`)).code).toBe(0);
    const until = Date.now() + 10_000;
    while ((await on('ovs-vsctl', 'get', 'Interface', PX, 'ofport')) === '-1' && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    const job = await run({ hypervisor: 'hv1', bridge: BR, name: PX, tag: 1001 });
    expect(job.error).toBeNull();
    expect(job.steps).toEqual([expect.objectContaining({ state: 'SUCCEEDED', warning: null })]);
    expect((await apply('removePort', { hypervisor: 'hv1', name: PX })).state).toBe('SUCCEEDED');
    expect((await exec('ip', 'link', 'del', PX)).code).toBe(0);
  });
});

describe("ensureVlan's uplink", () => {
  it('an uplink it would create on a missing device fails the host and is rolled back with the rest', async () => {
    const uplink = `pxu${sfx}`;
    const net = `tpdnet-${sfx}`;
    const payload = await change('ensureVlan', { tag: 1009, hypervisors: ['hv1'], bridge: BR, uplink, network: net });
    expect(payload.userErrors).toEqual([]);
    const job = await waitForJob(tl.url, payload.job.id, FIELDS);
    expect(job.state).toBe('FAILED');
    expect(job.error.code).toBe('OVS_INTERFACE_ERROR');
    expect(job.error.message).toMatch(
      new RegExp(
        `ensure uplink ${uplink} .* failed: ${uplink}: could not open network device ${uplink} \\(No such device\\) \\(this step created uplink ${uplink}`,
      ),
    );
    expect(job.rollback).toContainEqual(
      expect.objectContaining({ state: 'SUCCEEDED', command: `ovs-vsctl --timeout=10 --if-exists del-port ${uplink}` }),
    );
    expect(job.rollback.every((r: any) => r.state === 'SUCCEEDED')).toBe(true);
    expect((await exec('ovs-vsctl', 'port-to-br', uplink)).code).not.toBe(0);
    expect((await exec('virsh', 'net-info', net)).code).not.toBe(0);
  });
});

describe('addPort of a device that exists', () => {
  it('still succeeds, without a warning, and is idempotent', async () => {
    expect((await exec('ip', 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', `${VETH}p`)).code).toBe(0);
    try {
      const input = { hypervisor: 'hv1', bridge: BR, name: VETH, tag: 1001 };
      const job = await run(input);
      expect(job.error).toBeNull();
      expect(job.state).toBe('SUCCEEDED');
      expect(job.steps).toEqual([expect.objectContaining({ changed: true, warning: null })]);
      expect(await on('ovs-vsctl', 'port-to-br', VETH)).toBe(BR);
      expect(Number(await on('ovs-vsctl', 'get', 'Interface', VETH, 'ofport'))).toBeGreaterThan(0);
      const again = await run(input);
      expect(again.state).toBe('SUCCEEDED');
      expect(again.steps).toEqual([expect.objectContaining({ changed: false, warning: null })]);
      expect((await apply('removePort', { hypervisor: 'hv1', name: VETH })).state).toBe('SUCCEEDED');
    } finally {
      await exec('ip', 'link', 'del', VETH);
    }
  });
});

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectGatewayServices } from '../../gateway/services.ts';
import { createGateway } from '../../gateway/create-gateway.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log/logger.ts';
import { compareStreamIds } from '../../src/jobs/stream-id.ts';
import { authorization } from '../support/credentials.ts';
import { refusedStream } from '../support/streamed-post.ts';
import { freePort } from '../support/free-port.ts';
import { labExec } from '../support/lab.ts';
import { startProcess, type Proc } from '../support/processes.ts';
import {
  compileDocumentedSchemas,
  DOCUMENTED_OPERATIONS,
  type EventStream,
  exercised,
  OPENAPI,
  OPENAPI_PATH,
  restClient,
  type CallOptions,
  type RestClient,
  type SseEvent,
} from '../support/rest-client.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';

/**
 * The REST API as its contract (openapi.yaml) says, against the lab: real gateway and worker
 * processes, a private Redis, the lab's hypervisors over SSH. Every answer is validated against
 * the documented schema by the client (test/support/rest-client.ts); every documented operation
 * is called at least once (checked at the end); changes are checked inside the hosts; bad input
 * is refused naming the field, with nothing queued and the hosts untouched.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const sfx = randomBytes(2).toString('hex');
const HOSTS = ['hv1', 'hv2'];
const BR = `tr${sfx}`; // hv1: ports, networks, VMs
const BRD = `tr${sfx}d`; // hv1: a bridge to delete
const BRC = `tr${sfx}c`; // hv1: a bridge whose job is cancelled (never made)
// The VLANs use the hosts' defaults (bridge ovsbr0, uplink enp5s0f0, network ovs-network): the
// fleet's VLAN view (carriage, drift) reads those. The tests build and remove them.
const BRV = 'ovsbr0';
const PORT = `tr${sfx}p1`;
const NET = `trnet-${sfx}`; // hv1: the VMs' network
const NETD = `trnetd-${sfx}`; // hv1: a network to delete
const NETV = 'ovs-network';
const VM = `trvm-${sfx}`;
const UPLINK = 'enp5s0f0';
const MAC1 = '52:54:00:41:00:01';
const MAC2 = '52:54:00:41:00:02';
const TAG = 1771; // the ticket's VLAN
const TAG2 = 1772;
const TICKET = `CHG-${sfx}`;
const TMP_HOST = `tmp-${sfx}`;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
// Webhooks and access (tokens, host groups, the caller, the audit log, host keys) have files of their own (webhooks.test.ts, security.test.ts).
const NOT_HERE = (op: { path: string }) =>
  /^\/api\/v1\/(webhooks|tokens|host-groups|me|audit)(\/|$)/.test(op.path) || op.path.endsWith('/host-key');

let tl: Trunkline;
let rest: RestClient;
let base: string;
let second: Proc | undefined;
let ownsDefaults = false; // ovsbr0 and ovs-network were absent at the start: the tests remove them
const inProcess: Array<() => Promise<void>> = [];

const on = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).stdout.trim();
const code = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the worker again if a test stopped it (and failed before starting it). */
async function workerUp(): Promise<void> {
  const child = tl.worker?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) await tl.startWorker();
}

/** What says whether something was queued: the jobs list (REST), the job index and BullMQ. */
async function jobsSnapshot() {
  const page = await rest.call('GET', '/api/v1/jobs', { query: { limit: 1 } });
  expect(page.status).toBe(200);
  const counts = await tl.queue.getJobCounts();
  return {
    newest: page.body.items[0]?.id ?? null,
    records: await tl.redis.zcard(`${tl.prefix}:jobs`),
    queue: Object.values(counts).reduce((a, b) => a + b, 0),
  };
}

/** What the hosts hold (OVS and libvirt), to prove a refused request left them as they were. */
async function hostsSnapshot() {
  const out: Record<string, string[]> = {};
  for (const h of HOSTS)
    out[h] = [
      await on(h, 'ovs-vsctl', 'show'),
      await on(h, 'virsh', 'list', '--all', '--name'),
      await on(h, 'virsh', 'net-list', '--all', '--name'),
      await on(h, 'virsh', 'net-dumpxml', NETV),
    ];
  return out;
}

/** Polls a job's Location until it ends (each answer validated); bounded against a hang. */
async function follow(location: string, client: RestClient = rest, deadlineMs = 90_000): Promise<any> {
  expect(location).toMatch(/^\/api\/v1\/jobs\/[0-9a-f-]{36}$/);
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await client.call('GET', location);
    expect(r.status).toBe(200);
    if (TERMINAL.has(r.body.state)) return r.body;
    if (Date.now() > until) throw new Error(`${location} still ${r.body.state} after ${deadlineMs} ms`);
    await sleep(100);
  }
}

/** A change that must be accepted: 202, the job QUEUED, Location naming it; followed to its end. */
async function accepted(method: string, path: string, opts: CallOptions = {}) {
  const r = await rest.call(method, path, opts);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  expect(r.headers.get('location')).toBe(`/api/v1/jobs/${r.body.id}`);
  expect(r.body.state).toBe('QUEUED');
  return { answer: r, job: await follow(r.headers.get('location')!) };
}

/** A change that must succeed. */
async function apply(method: string, path: string, opts: CallOptions = {}): Promise<any> {
  const { job } = await accepted(method, path, opts);
  expect(job.error, JSON.stringify(job.error)).toBeNull();
  expect(job.state).toBe('SUCCEEDED');
  return job;
}

/** The change with ?dryRun=true first (200, the plan, nothing queued), then for real. */
async function dryRunThenApply(method: string, path: string, opts: CallOptions = {}, check?: () => Promise<void>) {
  const before = await jobsSnapshot();
  const dry = await rest.call(method, path, { ...opts, query: { ...opts.query, dryRun: 'true' } });
  expect(dry.status, JSON.stringify(dry.body)).toBe(200);
  expect(dry.headers.get('location')).toBeNull();
  expect(dry.body.steps.length).toBeGreaterThan(0);
  expect(await jobsSnapshot()).toEqual(before);
  await check?.();
  const job = await apply(method, path, opts);
  expect(job.plan.kind).toBe(dry.body.kind);
  expect(job.plan.steps.map((s: any) => [s.host, s.description, s.command])).toEqual(
    dry.body.steps.map((s: any) => [s.host, s.description, s.command]),
  );
  return { dry: dry.body, job };
}

/** Reads a stream until `done` says so (the event included). */
async function readUntil(stream: EventStream, done: (e: SseEvent) => boolean): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for (;;) {
    const next = await stream.events.next();
    if (next.done) throw new Error(`the stream ended after ${out.map((e) => e.event).join(', ')}`);
    out.push(next.value);
    if (done(next.value)) return out;
  }
}

async function readToEnd(stream: EventStream): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for (;;) {
    const next = await stream.events.next();
    if (next.done) return out;
    out.push(next.value);
  }
}

/** OVS port and tag of the hv1 VM NIC with this MAC, as the host says. */
async function portOf(mac: string): Promise<{ target: string; tag: string } | null> {
  const row = (await on('hv1', 'virsh', 'domiflist', VM)).split('\n').find((l) => l.includes(mac));
  if (!row) return null;
  const target = row.trim().split(/\s+/)[0]!;
  return { target, tag: await on('hv1', 'ovs-vsctl', 'get', 'Port', target, 'tag') };
}

const inventoryHost = (name: string) => {
  const inv = JSON.parse(readFileSync(inventoryPath, 'utf8')) as { hypervisors: Array<Record<string, any>> };
  const h = inv.hypervisors.find((x) => x.name === name)!;
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    privateKeyPath: h.privateKeyPath,
    hostKeyFingerprint: h.hostKeyFingerprint,
    defaults: h.defaults,
  };
};

async function cleanHosts(): Promise<void> {
  await labExec(labEnv, 'hv1', ['virsh', 'destroy', VM]);
  await labExec(labEnv, 'hv1', ['virsh', 'undefine', VM]);
  for (const h of HOSTS) {
    for (const net of [NET, NETD, ...(ownsDefaults ? [NETV] : [])]) {
      await labExec(labEnv, h, ['virsh', 'net-destroy', net]);
      await labExec(labEnv, h, ['virsh', 'net-undefine', net]);
    }
    for (const br of [BR, BRD, BRC, ...(ownsDefaults ? [BRV] : [])]) await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', br]);
  }
}

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath });
  base = tl.url.replace(/\/graphql$/, '');
  rest = restClient(base);
  // The VLAN tests build the hosts' default bridge and network from nothing, and remove them.
  for (const h of HOSTS) {
    expect(await code(h, 'ovs-vsctl', 'br-exists', BRV), `${BRV} already exists on ${h}`).toBe(2);
    expect(await code(h, 'virsh', 'net-info', NETV), `${NETV} already exists on ${h}`).not.toBe(0);
    expect(await code(h, 'ovs-vsctl', 'port-to-br', UPLINK), `${UPLINK} is on a bridge of ${h}`).not.toBe(0);
  }
  ownsDefaults = true;
});

afterAll(async () => {
  for (const close of inProcess) await close().catch(() => {});
  await second?.stop();
  await tl?.stop();
  await cleanHosts();
});

describe('the contract', () => {
  it('every documented response schema compiles; /healthz, /healthz/live and /healthz/ready answer as documented', async () => {
    expect(DOCUMENTED_OPERATIONS.length).toBeGreaterThan(30);
    expect(compileDocumentedSchemas()).toBeGreaterThan(DOCUMENTED_OPERATIONS.length);
    for (const path of ['/healthz', '/healthz/live'])
      expect(await rest.call('GET', path)).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await rest.call('GET', '/healthz/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', redis: 'ok', reasons: [] } });
    expect(ready.body.workers).toBeGreaterThan(0);
  });
});

describe('hypervisors', () => {
  it('lists the lab hosts page by page (limit, cursor), read first with refresh=true', async () => {
    const all = await rest.call('GET', '/api/v1/hypervisors', { query: { refresh: 'true' } });
    expect(all.body.items.map((h: any) => [h.name, h.status, h.stale])).toEqual([
      ['hv1', 'REACHABLE', false],
      ['hv2', 'REACHABLE', false],
    ]);
    expect(all.body.nextCursor).toBeNull();
    const p1 = await rest.call('GET', '/api/v1/hypervisors', { query: { limit: 1 } });
    expect(p1.body).toMatchObject({ items: [{ name: 'hv1' }], nextCursor: 'hv1' });
    const p2 = await rest.call('GET', '/api/v1/hypervisors', { query: { limit: 1, cursor: p1.body.nextCursor } });
    expect(p2.body).toMatchObject({ items: [{ name: 'hv2' }], nextCursor: null });
  });

  it('gets one, from the cache or read first', async () => {
    const hv1 = await rest.call('GET', '/api/v1/hypervisors/hv1');
    expect(hv1.body).toMatchObject({ name: 'hv1', status: 'REACHABLE', user: 'trunkline', defaults: { uplink: UPLINK } });
    expect(hv1.body.versions.ovs).toMatch(/^\d+\./);
    const read = await rest.call('GET', '/api/v1/hypervisors/hv2', { query: { refresh: 'true' } });
    expect(read.body).toMatchObject({ name: 'hv2', status: 'REACHABLE', stale: false });
    expect(Date.parse(read.body.observedAt)).toBeGreaterThanOrEqual(Date.parse(hv1.body.observedAt));
  });

  it('registers again a lab host with the same data: 200 replaced, its first read queued and done; a retry is replayed', async () => {
    const before = await jobsSnapshot();
    const headers = { 'idempotency-key': `register-${sfx}` };
    const r = await rest.call('POST', '/api/v1/hypervisors', { body: inventoryHost('hv2'), headers });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ created: false, hypervisor: { name: 'hv2' }, job: { kind: 'refreshHypervisor', hypervisors: ['hv2'] } });
    // The retry answers the first answer again: no second registration, no second read.
    const retry = await rest.call('POST', '/api/v1/hypervisors', { body: inventoryHost('hv2'), headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(r.body);
    expect((await jobsSnapshot()).records).toBe(before.records + 1);
    const job = await follow(`/api/v1/jobs/${r.body.job.id}`);
    expect(job.state).toBe('SUCCEEDED');
    expect((await rest.call('GET', '/api/v1/hypervisors/hv2')).body).toMatchObject({ status: 'REACHABLE' });
  });

  it('registers a throw-away host (201 + Location), then removes it (204); it is gone (404)', async () => {
    const body = { ...inventoryHost('hv1'), name: TMP_HOST, address: '127.0.0.1', port: 9 };
    const r = await rest.call('POST', '/api/v1/hypervisors', { body });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/api/v1/hypervisors/${TMP_HOST}`);
    expect(r.body).toMatchObject({ created: true, hypervisor: { name: TMP_HOST, status: 'UNKNOWN' } });
    expect((await rest.call('GET', r.headers.get('location')!)).body).toMatchObject({ name: TMP_HOST, address: '127.0.0.1', port: 9 });
    // Its first read fails (nothing listens on 127.0.0.1:9); the job says so.
    expect((await follow(`/api/v1/jobs/${r.body.job.id}`)).state).toBe('FAILED');
    const removed = await rest.call('DELETE', `/api/v1/hypervisors/${TMP_HOST}`);
    expect(removed.status).toBe(204);
    expect(removed.body).toBeNull();
    const gone = await rest.call('GET', `/api/v1/hypervisors/${TMP_HOST}`);
    expect(gone.status).toBe(404);
    expect((await rest.call('DELETE', `/api/v1/hypervisors/${TMP_HOST}`)).status).toBe(404);
    const names = (await rest.call('GET', '/api/v1/hypervisors')).body.items.map((h: any) => h.name);
    expect(names).toEqual(HOSTS);
  });

  it('refresh: 202 with the read job at Location, which succeeds; its key on another host is 422', async () => {
    const headers = { 'idempotency-key': `refresh-${sfx}` };
    const { job } = await accepted('POST', '/api/v1/hypervisors/hv1/refresh', { headers });
    expect(job).toMatchObject({ kind: 'refreshHypervisor', state: 'SUCCEEDED', hypervisors: ['hv1'] });
    const before = await jobsSnapshot();
    const reused = await rest.call('POST', '/api/v1/hypervisors/hv2/refresh', { headers });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await jobsSnapshot()).toEqual(before);
  });
});

describe('Open vSwitch', () => {
  it('createBridge: dryRun plans and queues nothing; 202 + Location, followed to SUCCEEDED; the bridge is on the host', async () => {
    const { dry, job } = await dryRunThenApply(
      'POST',
      '/api/v1/hypervisors/hv1/bridges',
      { body: { name: BR, ticketRef: TICKET } },
      async () => expect(await code('hv1', 'ovs-vsctl', 'br-exists', BR)).toBe(2),
    );
    expect(dry).toMatchObject({ kind: 'createBridge', hypervisors: ['hv1'], steps: [{ observed: 'absent', wouldChange: true }] });
    expect(job).toMatchObject({ kind: 'createBridge', ticketRef: TICKET, input: { hypervisor: 'hv1', name: BR } });
    expect(await code('hv1', 'ovs-vsctl', 'br-exists', BR)).toBe(0);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Bridge', BR, 'datapath_type')).toBe('netdev');
    expect(await code('hv2', 'ovs-vsctl', 'br-exists', BR)).toBe(2);
    await apply('POST', '/api/v1/hypervisors/hv1/bridges', { body: { name: BRD } });
  });

  it('a dryRun in the body (as in the GraphQL input) is a dry run too: nothing queued, nothing made', async () => {
    const before = await jobsSnapshot();
    const dry = await rest.call('POST', '/api/v1/hypervisors/hv1/bridges', { body: { name: BRC, dryRun: true } });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ kind: 'createBridge', steps: [{ wouldChange: true }] });
    const both = await rest.call('POST', '/api/v1/hypervisors/hv1/bridges', {
      body: { name: BRC, dryRun: true },
      query: { dryRun: 'false' },
    });
    expect(both.status).toBe(200);
    expect(await jobsSnapshot()).toEqual(before);
    expect(await code('hv1', 'ovs-vsctl', 'br-exists', BRC)).toBe(2);
  });

  it('getBridge and listBridges (page by page)', async () => {
    const b = await rest.call('GET', `/api/v1/hypervisors/hv1/bridges/${BR}`);
    expect(b.body).toMatchObject({
      hypervisor: 'hv1',
      name: BR,
      datapathType: 'netdev',
      ports: [{ name: BR, interfaces: [{ type: 'internal' }] }],
    });
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await rest.call('GET', '/api/v1/hypervisors/hv1/bridges', { query: { limit: 1, cursor } });
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      names.push(...page.body.items.map((x: any) => x.name));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining([BR, BRD]));
    expect(new Set(names).size).toBe(names.length);
  });

  it('addPort, getPort, listBridgePorts: an internal access port on VLAN 1001', async () => {
    await dryRunThenApply(
      'POST',
      `/api/v1/hypervisors/hv1/bridges/${BR}/ports`,
      { body: { name: PORT, type: 'internal', tag: 1001 } },
      async () => expect(await code('hv1', 'ovs-vsctl', 'port-to-br', PORT)).not.toBe(0),
    );
    expect(await on('hv1', 'ovs-vsctl', 'port-to-br', PORT)).toBe(BR);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('1001');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Interface', PORT, 'type')).toBe('internal');
    const port = await rest.call('GET', `/api/v1/hypervisors/hv1/ports/${PORT}`);
    expect(port.body).toMatchObject({ hypervisor: 'hv1', bridge: BR, name: PORT, tag: 1001, trunks: [] });
    const ports = await rest.call('GET', `/api/v1/hypervisors/hv1/bridges/${BR}/ports`, { query: { limit: 100 } });
    expect(ports.body.items.map((p: any) => p.name)).toEqual([BR, PORT].sort());
  });

  it('setPortVlans: trunks and vlan_mode, on the host', async () => {
    await dryRunThenApply(
      'PUT',
      `/api/v1/hypervisors/hv1/ports/${PORT}/vlans`,
      { body: { trunks: [1002, 1001], vlanMode: 'trunk' } },
      async () => expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'trunks')).toBe('[]'),
    );
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'trunks')).toBe('[1001, 1002]');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('[]');
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'vlan_mode')).toBe('trunk');
    const port = await rest.call('GET', `/api/v1/hypervisors/hv1/ports/${PORT}`);
    expect(port.body).toMatchObject({ tag: null, trunks: [1001, 1002], vlanMode: 'trunk' });
  });

  it('removePort and deleteBridge (DELETE, input in the query)', async () => {
    await dryRunThenApply('DELETE', `/api/v1/hypervisors/hv1/ports/${PORT}`, { query: { ticketRef: TICKET } });
    expect(await code('hv1', 'ovs-vsctl', 'port-to-br', PORT)).not.toBe(0);
    expect((await rest.call('GET', `/api/v1/hypervisors/hv1/ports/${PORT}`)).status).toBe(404);
    const { job } = await dryRunThenApply('DELETE', `/api/v1/hypervisors/hv1/bridges/${BRD}`, { query: { ticketRef: TICKET } }, async () =>
      expect(await code('hv1', 'ovs-vsctl', 'br-exists', BRD)).toBe(0),
    );
    expect(job.ticketRef).toBe(TICKET);
    expect(await code('hv1', 'ovs-vsctl', 'br-exists', BRD)).toBe(2);
    expect((await rest.call('GET', `/api/v1/hypervisors/hv1/bridges/${BRD}`)).status).toBe(404);
  });
});

describe('libvirt networks', () => {
  it('defineNetwork, getNetwork, listNetworks', async () => {
    await dryRunThenApply('POST', '/api/v1/hypervisors/hv1/networks', {
      body: {
        name: NET,
        bridge: BR,
        portgroups: [
          { name: 'vlan-0001', isDefault: true },
          { name: 'vlan-1001', vlanTags: [1001] },
        ],
      },
    });
    const xml = await on('hv1', 'virsh', 'net-dumpxml', NET);
    expect(xml).toMatch(new RegExp(`<bridge name='${BR}'/>`));
    expect(xml).toMatch(/<portgroup name='vlan-0001' default='yes'/);
    expect(xml).toMatch(/<portgroup name='vlan-1001'>\s*<vlan>\s*<tag id='1001'\/>/);
    expect(await on('hv1', 'virsh', 'net-info', NET)).toMatch(/Active:\s+yes[\s\S]*Autostart:\s+yes/);
    const net = await rest.call('GET', `/api/v1/hypervisors/hv1/networks/${NET}`);
    expect(net.body).toMatchObject({
      name: NET,
      bridge: BR,
      active: true,
      autostart: true,
      persistent: true,
      virtualportType: 'openvswitch',
    });
    expect(net.body.portgroups.map((p: any) => [p.name, p.isDefault, p.vlanTags])).toEqual([
      ['vlan-0001', true, []],
      ['vlan-1001', false, [1001]],
    ]);
    const list = await rest.call('GET', '/api/v1/hypervisors/hv1/networks');
    expect(list.body.items.map((n: any) => n.name)).toContain(NET);
  });

  it('addPortgroup and removePortgroup, live and persistent', async () => {
    await dryRunThenApply('POST', `/api/v1/hypervisors/hv1/networks/${NET}/portgroups`, {
      body: { portgroup: { name: 'vlan-1002', vlanTags: [1002] } },
    });
    await apply('POST', `/api/v1/hypervisors/hv1/networks/${NET}/portgroups`, {
      body: { portgroup: { name: 'vlan-1099', vlanTags: [1099] } },
    });
    expect(await on('hv1', 'virsh', 'net-dumpxml', NET)).toMatch(/<portgroup name='vlan-1002'>\s*<vlan>\s*<tag id='1002'\/>/);
    expect(await on('hv1', 'virsh', 'net-dumpxml', '--inactive', NET)).toMatch(/vlan-1099/);
    await dryRunThenApply('DELETE', `/api/v1/hypervisors/hv1/networks/${NET}/portgroups/vlan-1099`);
    expect(await on('hv1', 'virsh', 'net-dumpxml', NET)).not.toMatch(/vlan-1099/);
    expect(await on('hv1', 'virsh', 'net-dumpxml', '--inactive', NET)).not.toMatch(/vlan-1099/);
  });

  it('deleteNetwork: stopped and undefined', async () => {
    await apply('POST', '/api/v1/hypervisors/hv1/networks', { body: { name: NETD, bridge: BR } });
    expect(await code('hv1', 'virsh', 'net-info', NETD)).toBe(0);
    await dryRunThenApply('DELETE', `/api/v1/hypervisors/hv1/networks/${NETD}`, { query: { force: 'false' } });
    expect(await code('hv1', 'virsh', 'net-info', NETD)).not.toBe(0);
    expect((await rest.call('GET', `/api/v1/hypervisors/hv1/networks/${NETD}`)).status).toBe(404);
  });
});

describe('VMs', () => {
  const vmPath = `/api/v1/hypervisors/hv1/vms/${VM}`;

  it('defineVm, getVm, listVms', async () => {
    await dryRunThenApply('POST', '/api/v1/hypervisors/hv1/vms', {
      body: { name: VM, vcpus: 1, memoryMiB: 32, nics: [{ network: NET, portgroup: 'vlan-1001', mac: MAC1 }] },
    });
    expect(await on('hv1', 'virsh', 'dumpxml', '--inactive', VM)).toMatch(
      new RegExp(`<mac address='${MAC1}'/>\\s*<source network='${NET}' portgroup='vlan-1001'/>`),
    );
    expect(await on('hv1', 'virsh', 'domstate', VM)).toBe('shut off');
    const vm = await rest.call('GET', vmPath);
    expect(vm.body).toMatchObject({ hypervisor: 'hv1', name: VM, state: 'shut off', vcpus: 1, memoryMiB: 32 });
    expect(vm.body.interfaces).toEqual([
      expect.objectContaining({ mac: MAC1, network: NET, portgroup: 'vlan-1001', configuredVlanTags: [1001] }),
    ]);
    expect((await rest.call('GET', '/api/v1/hypervisors/hv1/vms')).body.items.map((v: any) => v.name)).toContain(VM);
    const running = await rest.call('GET', '/api/v1/hypervisors/hv1/vms', { query: { state: 'running' } });
    expect(running.body.items.map((v: any) => v.name)).not.toContain(VM);
  });

  it('startVm: running, its port tagged by the portgroup', async () => {
    await dryRunThenApply('POST', `${vmPath}/start`, { body: {} });
    expect(await on('hv1', 'virsh', 'domstate', VM)).toBe('running');
    expect((await portOf(MAC1))?.tag).toBe('1001');
  });

  it('attachVmInterface hot-plugs a NIC; setVmInterfaceVlan moves the first NIC', async () => {
    await dryRunThenApply('POST', `${vmPath}/interfaces`, { body: { network: NET, portgroup: 'vlan-1002', mac: MAC2 } });
    expect((await portOf(MAC2))?.tag).toBe('1002');
    expect(await on('hv1', 'virsh', 'dumpxml', '--inactive', VM)).toContain(MAC2);
    await rest.call('GET', '/api/v1/hypervisors/hv1', { query: { refresh: 'true' } });
    await dryRunThenApply('PUT', `${vmPath}/interfaces/${MAC1}/portgroup`, { body: { portgroup: 'vlan-1002' } });
    expect((await portOf(MAC1))?.tag).toBe('1002');
    expect(await on('hv1', 'virsh', 'dumpxml', '--inactive', VM)).toMatch(
      new RegExp(`<mac address='${MAC1}'/>\\s*<source network='${NET}' portgroup='vlan-1002'/>`),
    );
    // The live tags (the cache keeps the running domain's XML, which libvirt does not rewrite).
    const vm = await rest.call('GET', vmPath);
    expect(vm.body.interfaces.map((i: any) => [i.mac, i.vlanTags])).toEqual([
      [MAC1, [1002]],
      [MAC2, [1002]],
    ]);
  });

  it('stopVm (forced), detachVmInterface (stopped: at once), undefineVm', async () => {
    await dryRunThenApply('POST', `${vmPath}/stop`, { body: { timeoutSeconds: 1, force: true } });
    expect(await on('hv1', 'virsh', 'domstate', VM)).toBe('shut off');
    await dryRunThenApply('DELETE', `${vmPath}/interfaces/${MAC2}`, { query: { timeoutSeconds: 5 } });
    expect(await on('hv1', 'virsh', 'dumpxml', '--inactive', VM)).not.toContain(MAC2);
    await dryRunThenApply('DELETE', vmPath);
    expect(await code('hv1', 'virsh', 'domstate', VM)).not.toBe(0);
    expect((await rest.call('GET', vmPath)).status).toBe(404);
  });
});

describe('the ticketing flow over REST', () => {
  afterAll(workerUp);
  const body = { hypervisors: HOSTS, name: 'ticket-vlan', ticketRef: TICKET };
  const key = `ticket-${sfx}`;
  const path = `/api/v1/vlans/${TAG}`;
  const put = () => rest.call('PUT', path, { body, headers: { 'idempotency-key': key } });
  let jobId: string;
  let first: Awaited<ReturnType<typeof put>>;

  it('PUT with an Idempotency-Key, concurrently and then three times more: one job, the same answer each time', async () => {
    await tl.worker!.stop(); // the job waits in the queue, so that its events can be followed live
    const before = await jobsSnapshot();
    const racing = await Promise.all(Array.from({ length: 6 }, put));
    const fresh = racing.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === null);
    expect(fresh).toHaveLength(1);
    first = fresh[0]!;
    jobId = first.body.id;
    expect(first.headers.get('location')).toBe(`/api/v1/jobs/${jobId}`);
    expect(first.body).toMatchObject({ kind: 'ensureVlan', state: 'QUEUED', ticketRef: TICKET, hypervisors: HOSTS });
    for (const r of racing.filter((x) => x !== first)) {
      if (r.status === 409) {
        expect(r.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
        expect(r.headers.get('retry-after')).toBe('1');
      } else {
        expect(r.status).toBe(202);
        expect(r.headers.get('idempotent-replayed')).toBe('true');
        expect(r.body).toEqual(first.body);
      }
    }
    for (let i = 0; i < 3; i++) {
      const again = await put();
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(again.body).toEqual(first.body);
    }
    const after = await jobsSnapshot();
    expect(after.records).toBe(before.records + 1);
    expect(after.newest).toBe(jobId);
  });

  it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, and queues nothing', async () => {
    const before = await jobsSnapshot();
    const reused = await rest.call('PUT', path, { body: { ...body, name: 'another-name' }, headers: { 'idempotency-key': key } });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', type: 'urn:trunkline:error:IDEMPOTENCY_KEY_REUSED' });
    const otherTag = await rest.call('PUT', `/api/v1/vlans/${TAG2}`, { body, headers: { 'idempotency-key': key } });
    expect(otherTag.status).toBe(422);
    expect(await jobsSnapshot()).toEqual(before);
  });

  it('keys are per caller; a refused request leaves its key free', async () => {
    const before = await jobsSnapshot();
    // Another caller's key of the same name is another key: no IDEMPOTENCY_KEY_REUSED.
    const other = await rest.call('PUT', path, {
      body: { ...body, name: 'someone-elses' },
      query: { dryRun: 'true' },
      headers: { 'idempotency-key': key },
      token: await tl.issueToken({ name: 'someone-else', role: 'operator' }),
    });
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    const fresh = `refused-${sfx}`;
    const refused = await rest.call('PUT', path, { body: { hypervisors: ['hv9'] }, headers: { 'idempotency-key': fresh } });
    expect(refused.status).toBe(422);
    const corrected = await rest.call('PUT', path, { body, query: { dryRun: 'true' }, headers: { 'idempotency-key': fresh } });
    expect(corrected.status).toBe(200);
    expect(await jobsSnapshot()).toEqual(before);
  });

  it('its SSE events to SUCCEEDED, with a reconnect mid-stream (Last-Event-ID): no gap, no repeat', async () => {
    const s1 = await rest.sse(`/api/v1/jobs/${jobId}/events`);
    expect(s1.status).toBe(200);
    expect(s1.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const read1 = await readUntil(s1, () => true);
    expect(read1.map((e) => e.event)).toEqual(['QUEUED']);
    await tl.startWorker();
    // Live events now; drop the connection after the first host starts.
    read1.push(...(await readUntil(s1, (e) => e.event === 'HOST_STARTED')));
    s1.close();
    const s2 = await rest.sse(`/api/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': read1.at(-1)!.id! } });
    const read2 = await readToEnd(s2);
    expect(read2.at(-1)).toMatchObject({ event: 'SUCCEEDED', data: { state: 'SUCCEEDED', ticketRef: TICKET } });
    const streamed = [...read1, ...read2];
    for (const e of streamed) {
      expect(e.id).toBe(e.data.id);
      expect(e.event).toBe(e.data.type);
      expect(e.data).toMatchObject({ jobId, kind: 'ensureVlan', ticketRef: TICKET });
    }
    const ids = streamed.map((e) => e.id!);
    expect([...ids].sort(compareStreamIds)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const listed = await rest.call('GET', `/api/v1/jobs/${jobId}/events`);
    expect(streamed.map((e) => e.data)).toEqual(listed.body);
    // The JSON list resumes the same way.
    const tail = await rest.call('GET', `/api/v1/jobs/${jobId}/events`, { query: { after: read1.at(-1)!.id! } });
    expect(tail.body).toEqual(read2.map((e) => e.data));
    // After the last event, a reconnect gets nothing more and the stream ends.
    expect(await readToEnd(await rest.sse(`/api/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': ids.at(-1)! } }))).toEqual([]);
  });

  it('the job is found by its ticketRef; the VLAN is on both hosts; a retry still answers the first answer', async () => {
    const found = await rest.call('GET', '/api/v1/jobs', { query: { ticketRef: TICKET } });
    const ensure = found.body.items.filter((j: any) => j.kind === 'ensureVlan');
    expect(ensure.map((j: any) => [j.id, j.state])).toEqual([[jobId, 'SUCCEEDED']]);
    expect(found.body.items.every((j: any) => j.ticketRef === TICKET)).toBe(true);
    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'port-to-br', UPLINK)).toBe(BRV);
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', UPLINK, 'trunks')).toBe(`[${TAG}]`);
      expect(await on(h, 'virsh', 'net-dumpxml', NETV)).toMatch(
        new RegExp(`<portgroup name='vlan-${TAG}'>\\s*<vlan>\\s*<tag id='${TAG}'/>`),
      );
    }
    const again = await put();
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('VLANs', () => {
  it('ensureVlan (PUT) a second VLAN with a dryRun first; both trunked on the uplinks', async () => {
    await dryRunThenApply('PUT', `/api/v1/vlans/${TAG2}`, { body: { hypervisors: HOSTS } });
    for (const h of HOSTS) expect(await on(h, 'ovs-vsctl', 'get', 'Port', UPLINK, 'trunks')).toBe(`[${TAG}, ${TAG2}]`);
  });

  it('listVlans page by page; getVlan with where it is carried', async () => {
    const tags: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await rest.call('GET', '/api/v1/vlans', { query: { limit: 2, cursor } });
      tags.push(...page.body.items.map((v: any) => v.tag));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(tags).toEqual([...tags].sort((a, b) => a - b));
    expect(new Set(tags).size).toBe(tags.length);
    expect(tags).toEqual(expect.arrayContaining([TAG, TAG2]));
    const v = await rest.call('GET', `/api/v1/vlans/${TAG}`);
    expect(v.body).toMatchObject({ tag: TAG, name: 'ticket-vlan', carriedBy: HOSTS, missingOn: [], drift: [], lastVerification: null });
    expect(v.body.portgroups.map((p: any) => [p.hypervisor, p.network, p.name])).toEqual(HOSTS.map((h) => [h, NETV, `vlan-${TAG}`]));
    // A VLAN nothing uses yet: where it is missing.
    const unused = await rest.call('GET', '/api/v1/vlans/3999');
    expect(unused.body).toMatchObject({ tag: 3999, name: null, carriedBy: [], interfaces: [], lastVerification: null });
  });

  it('drift made by hand shows in getVlan; a PUT repairs it', async () => {
    expect(await code('hv1', 'ovs-vsctl', 'remove', 'Port', UPLINK, 'trunks', String(TAG))).toBe(0);
    await accepted('POST', '/api/v1/hypervisors/hv1/refresh');
    const drifted = await rest.call('GET', `/api/v1/vlans/${TAG}`);
    expect(drifted.body.missingOn).toEqual(['hv1']);
    expect(drifted.body.drift).toEqual([expect.objectContaining({ hypervisor: 'hv1', kind: 'UPLINK_MISSING', subject: UPLINK })]);
    const repair = await apply('PUT', `/api/v1/vlans/${TAG}`, { body: { hypervisors: HOSTS } });
    expect(repair.steps.filter((s: any) => s.changed).map((s: any) => s.host)).toEqual(['hv1']);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', UPLINK, 'trunks')).toBe(`[${TAG}, ${TAG2}]`);
    expect((await rest.call('GET', `/api/v1/vlans/${TAG}`)).body.drift).toEqual([]);
  });

  it('verifyVlan: probes reach each other across the hosts; the other VLAN is isolated', async () => {
    // Sent three times at once with one Idempotency-Key: one job.
    const opts = { body: { hypervisors: HOSTS, isolationFrom: [TAG2] }, headers: { 'idempotency-key': `verify-${sfx}` } };
    const sent = await Promise.all([1, 2, 3].map(() => rest.call('POST', `/api/v1/vlans/${TAG}/verify`, opts)));
    const fresh = sent.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === null);
    expect(fresh).toHaveLength(1);
    const answer = fresh[0]!;
    for (const r of sent.filter((x) => x !== answer))
      if (r.status === 409) expect(r.body.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      else expect(r.body).toEqual(answer.body);
    expect(answer.body.kind).toBe('verifyVlan');
    const job = await follow(answer.headers.get('location')!);
    expect(job.error).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    expect(job.verification).toMatchObject({ tag: TAG, isolationFrom: [TAG2], ok: true });
    expect(
      job.verification.results
        .filter((r: any) => r.expect === 'REACH')
        .map((r: any) => `${r.fromHost}->${r.toHost}`)
        .sort(),
    ).toEqual(['hv1->hv2', 'hv2->hv1']);
    for (const h of HOSTS) expect(await on(h, 'ip', 'netns', 'list')).not.toMatch(/tlp/);
    // getVlan (and listVlans) carry it as the VLAN's last verification; not for a caller that sees hv2 only.
    const last = { id: job.id, state: 'SUCCEEDED', finishedAt: job.finishedAt, verification: job.verification };
    expect((await rest.call('GET', `/api/v1/vlans/${TAG}`)).body.lastVerification).toEqual(last);
    const listed = await rest.call('GET', '/api/v1/vlans', { query: { limit: 100 } });
    expect(listed.body.items.find((v: any) => v.tag === TAG).lastVerification).toEqual(last);
    expect((await rest.call('PUT', `/api/v1/host-groups/hv2-${sfx}`, { body: { hypervisors: ['hv2'] } })).status).toBe(201);
    const hv2Only = restClient(
      base,
      undefined,
      await tl.issueToken({ name: `hv2-viewer-${sfx}`, role: 'viewer', hostGroups: [`hv2-${sfx}`] }),
    );
    expect((await hv2Only.call('GET', `/api/v1/vlans/${TAG}`)).body.lastVerification).toBeNull();
  });

  it('removeVlan (DELETE ?hypervisors=): off the uplinks and the networks, the other VLAN kept', async () => {
    const query = { hypervisors: 'hv1,hv2', ticketRef: TICKET };
    // Repeating the parameter means the same.
    const repeated = await rest.call('DELETE', `/api/v1/vlans/${TAG2}`, { query: { ...query, hypervisors: HOSTS, dryRun: 'true' } });
    expect(repeated.status).toBe(200);
    expect(repeated.body.hypervisors).toEqual(HOSTS);
    await dryRunThenApply('DELETE', `/api/v1/vlans/${TAG2}`, { query });
    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', UPLINK, 'trunks')).toBe(`[${TAG}]`);
      expect(await on(h, 'virsh', 'net-dumpxml', NETV)).not.toMatch(new RegExp(`vlan-${TAG2}|tag id='${TAG2}'`));
    }
    expect((await rest.call('GET', `/api/v1/vlans/${TAG2}`)).body.carriedBy).toEqual([]);
  });
});

describe('jobs', () => {
  afterAll(workerUp);
  it('listJobs: newest first, page by page, with filters', async () => {
    const p1 = await rest.call('GET', '/api/v1/jobs', { query: { limit: 3 } });
    expect(p1.body.items).toHaveLength(3);
    expect(p1.body.nextCursor).toBe(p1.body.items[2].id);
    const p2 = await rest.call('GET', '/api/v1/jobs', { query: { limit: 3, cursor: p1.body.nextCursor } });
    const page = [...p1.body.items, ...p2.body.items];
    expect(new Set(page.map((j: any) => j.id)).size).toBe(6);
    const created = page.map((j: any) => Date.parse(j.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const filters: Array<[Record<string, string>, (j: any) => boolean]> = [
      [{ kind: 'createBridge' }, (j) => j.kind === 'createBridge'],
      [{ hypervisor: 'hv2' }, (j) => j.hypervisors.includes('hv2')],
      [{ state: 'FAILED' }, (j) => j.state === 'FAILED'],
      [{ ticketRef: TICKET, kind: 'deleteBridge' }, (j) => j.ticketRef === TICKET && j.kind === 'deleteBridge'],
    ];
    for (const [query, keep] of filters) {
      const r = await rest.call('GET', '/api/v1/jobs', { query: { ...query, limit: 100 } });
      expect(r.body.items.length, JSON.stringify(query)).toBeGreaterThan(0);
      expect(r.body.items.every(keep), JSON.stringify(query)).toBe(true);
    }
  });

  it('cancelJob: a queued job is CANCELLED at once and never runs; a finished one is 409', async () => {
    await tl.worker!.stop();
    let id = '';
    try {
      const r = await rest.call('POST', '/api/v1/hypervisors/hv1/bridges', { body: { name: BRC } });
      expect(r.status).toBe(202);
      id = r.body.id;
      // Cancelled by an admin (any job), named in the event as the token's name.
      const cancelled = await rest.call('POST', `/api/v1/jobs/${id}/cancel`, {
        token: await tl.issueToken({ name: 'rest-test', role: 'admin' }),
      });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ id, state: 'CANCELLED' });
    } finally {
      await tl.startWorker();
    }
    expect((await rest.call('GET', `/api/v1/jobs/${id}`)).body.state).toBe('CANCELLED');
    const events = await rest.call('GET', `/api/v1/jobs/${id}/events`);
    expect(events.body.map((e: any) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
    expect(events.body[1].message).toMatch(/rest-test/);
    const again = await rest.call('POST', `/api/v1/jobs/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'JOB_FINISHED', errors: [{ field: ['id'], in: 'path' }] });
    // A job that ran afterwards on the host proves the worker is back; the cancelled bridge was never made.
    await apply('POST', '/api/v1/hypervisors/hv1/refresh');
    expect(await code('hv1', 'ovs-vsctl', 'br-exists', BRC)).toBe(2);
  });
});

describe('the fleet event stream (GET /api/v1/events)', () => {
  it('resumes with Last-Event-ID (its sequence) without a gap, also on another gateway process', async () => {
    const a = await rest.sse('/api/v1/events');
    expect(a.status).toBe(200);
    const x = await rest.call('POST', '/api/v1/hypervisors/hv1/refresh');
    const readA = await readUntil(a, (e) => e.data.jobId === x.body.id && e.event === 'SUCCEEDED');
    a.close();
    const last = readA.at(-1)!.id!;
    // While nobody listens: another job, to its end.
    const { answer: y } = await accepted('POST', '/api/v1/hypervisors/hv2/refresh');

    const port = await freePort();
    second = await startProcess(
      'gateway/main.ts',
      { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port), TRUNKLINE_SEED_INVENTORY: 'false' },
      'gateway listening',
    );
    const rest2 = restClient(`http://127.0.0.1:${port}`, undefined, tl.adminToken);
    const b = await rest2.sse('/api/v1/events', { headers: { 'last-event-id': last } });
    const readB = await readUntil(b, (e) => e.data.jobId === y.body.id && e.event === 'SUCCEEDED');
    b.close();

    for (const e of [...readA, ...readB]) expect(e.id).toBe(e.data.sequence);
    const seqs = [...readA, ...readB].map((e) => e.id!);
    expect([...seqs].sort(compareStreamIds)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Exactly the fleet log after the last event A saw, up to the last B read: no gap.
    const log = (await tl.redis.xrange(`${tl.prefix}:events`, `(${last}`, readB.at(-1)!.id!)).map(([id]) => id);
    expect(readB.map((e) => e.id)).toEqual(log);
    // Job Y's events, all of them, in its own order.
    const yEvents = await rest.call('GET', `/api/v1/jobs/${y.body.id}/events`);
    expect(readB.filter((e) => e.data.jobId === y.body.id).map((e) => e.data.id)).toEqual(yEvents.body.map((e: any) => e.id));
    // `since` is the same as Last-Event-ID.
    const c = await rest.sse('/api/v1/events', { query: { since: last } });
    const [firstC] = await readUntil(c, () => true);
    c.close();
    expect(firstC!.id).toBe(readB[0]!.id);
  });

  it('filters by ticketRef prefix and types', async () => {
    const s = await rest.sse('/api/v1/events', { query: { since: '0-0', types: 'SUCCEEDED,FAILED', ticketRef: 'CHG-' } });
    const [e] = await readUntil(s, () => true);
    s.close();
    expect(e!.data).toMatchObject({ type: 'SUCCEEDED', ticketRef: TICKET, kind: 'createBridge' });
  });
});

describe('the serverless entry: one fetch handler, in process', () => {
  it('answers a read and a change as the server does over HTTP', async () => {
    const services = connectGatewayServices(loadConfig({ ...tl.env }), createLogger('rest-test-gateway', 'silent'), 'rest-test-gateway');
    inProcess.push(() => services.close());
    await services.hub.start();
    const gateway = createGateway(services);
    const local = restClient('http://in-process.invalid', async (request) => gateway.fetch(request), tl.adminToken);

    for (const path of ['/api/v1/hypervisors/hv1', `/api/v1/vlans/${TAG}`, `/api/v1/hypervisors/hv1/bridges/${BR}`, '/healthz']) {
      const [viaHttp, inProc] = [await rest.call('GET', path), await local.call('GET', path)];
      expect(inProc.status).toBe(viaHttp.status);
      expect(inProc.body).toEqual(viaHttp.body);
    }
    const bad = { body: { name: 'br0; reboot' } };
    const [badHttp, badLocal] = [
      await rest.call('POST', '/api/v1/hypervisors/hv1/bridges', bad),
      await local.call('POST', '/api/v1/hypervisors/hv1/bridges', bad),
    ];
    expect(badLocal.status).toBe(400);
    expect(badLocal.body).toEqual(badHttp.body);

    const change = { body: { name: BR }, query: { dryRun: 'true' } };
    const [dryHttp, dryLocal] = [
      await rest.call('POST', '/api/v1/hypervisors/hv1/bridges', change),
      await local.call('POST', '/api/v1/hypervisors/hv1/bridges', change),
    ];
    expect(dryLocal.status).toBe(200);
    expect(dryLocal.body).toEqual(dryHttp.body);
    const accepted = await local.call('POST', '/api/v1/hypervisors/hv1/bridges', { body: { name: BR } });
    expect(accepted.status).toBe(202);
    const job = await follow(accepted.headers.get('location')!, local);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.steps.map((s: any) => s.changed)).toEqual([false]);
    expect((await rest.call('GET', accepted.headers.get('location')!)).body).toEqual(job);
  });
});

describe('the API reference', () => {
  it('/api/docs loads only same-origin assets, each served with its content type', async () => {
    // A browser sends the token as Basic credentials once prompted; a script as Bearer.
    const auth = { headers: authorization(base) };
    const page = await fetch(`${base}/api/docs`, auth);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    const TYPES: Record<string, RegExp> = { css: /^text\/css/, js: /^(text|application)\/javascript/, png: /^image\/png/ };
    for (const ref of refs) {
      expect(ref, 'an asset from another origin').not.toMatch(/^([a-z][a-z0-9+.-]*:|\/\/)/i);
      expect(ref.startsWith('/') ? ref.startsWith('/api/') : true, ref).toBe(true);
      const url = new URL(ref, `${base}/api/docs`);
      const res = await fetch(url, auth);
      expect(res.status, ref).toBe(200);
      const ext = url.pathname.split('.').pop()!;
      expect(res.headers.get('content-type'), ref).toMatch(TYPES[ext] ?? /./);
      const text = await res.text();
      if (ext === 'js' && text.length < 10_000)
        for (const m of text.matchAll(/\burl\s*:\s*["']([^"']+)["']/g)) expect(m[1], `${ref} loads ${m[1]}`).toMatch(/^\/api\//);
    }
  });

  it('/api/openapi.json is openapi.yaml, parsed; /api/openapi.yaml is the file', async () => {
    const auth = { headers: authorization(base) };
    const json = await fetch(`${base}/api/openapi.json`, auth);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(OPENAPI);
    const yaml = await fetch(`${base}/api/openapi.yaml`, auth);
    expect(await yaml.text()).toBe(readFileSync(OPENAPI_PATH, 'utf8'));
  });
});

describe('bad input: a problem naming the field, nothing queued, the hosts untouched', () => {
  let hostsBefore: Record<string, string[]>;
  beforeAll(async () => {
    hostsBefore = await hostsSnapshot();
  });

  const h1 = '/api/v1/hypervisors/hv1';
  const longKey = 'k'.repeat(256);
  type Case = [string, string, CallOptions, number, string, string[] | null, string | null];
  // [method, path, options, status, code, errors[].field, errors[].in]
  const cases: Case[] = [
    ['GET', '/api/v1/hypervisors', { query: { limit: 0 } }, 400, 'INVALID_INPUT', ['limit'], 'query'],
    ['GET', '/api/v1/hypervisors', { query: { refresh: 'maybe' } }, 400, 'INVALID_INPUT', ['refresh'], 'query'],
    [
      'POST',
      '/api/v1/hypervisors',
      { body: { ...{ name: 'x;y', address: '127.0.0.1', user: 'trunkline' } } },
      400,
      'INVALID_INPUT',
      ['name'],
      'body',
    ],
    [
      'POST',
      '/api/v1/hypervisors',
      { body: { name: 'okname', address: '-oProxyCommand=x', user: 'u', privateKeyPath: '/k', hostKeyFingerprint: 'SHA256:x' } },
      400,
      'INVALID_INPUT',
      ['address'],
      'body',
    ],
    ['GET', '/api/v1/hypervisors/hv9', {}, 404, 'UNKNOWN_HYPERVISOR', ['name'], 'path'],
    ['GET', h1, { query: { refresh: 'yes' } }, 400, 'INVALID_INPUT', ['refresh'], 'query'],
    ['DELETE', '/api/v1/hypervisors/hv9', {}, 404, 'UNKNOWN_HYPERVISOR', ['name'], 'path'],
    ['POST', '/api/v1/hypervisors/hv9/refresh', {}, 404, 'UNKNOWN_HYPERVISOR', ['name'], 'path'],
    ['POST', '/api/v1/hypervisors/a%3Bb/refresh', {}, 400, 'INVALID_INPUT', ['name'], 'path'],
    ['GET', '/api/v1/hypervisors/hv9/bridges', {}, 404, 'UNKNOWN_HYPERVISOR', ['name'], 'path'],
    ['GET', `${h1}/bridges`, { query: { limit: 101 } }, 400, 'INVALID_INPUT', ['limit'], 'query'],
    ['POST', `${h1}/bridges`, { body: { name: 'br0; rm -rf /' } }, 400, 'INVALID_INPUT', ['name'], 'body'],
    ['POST', `${h1}/bridges`, { body: { name: 'abcdefghijklmnop' } }, 400, 'INVALID_INPUT', ['name'], 'body'],
    ['POST', `${h1}/bridges`, { body: { name: 'okbr', datapathType: 'fast' } }, 400, 'INVALID_INPUT', ['datapathType'], 'body'],
    ['POST', `${h1}/bridges`, { body: { name: 'okbr', ticketRef: '$(reboot)' } }, 400, 'INVALID_INPUT', ['ticketRef'], 'body'],
    ['POST', '/api/v1/hypervisors/hv9/bridges', { body: { name: 'okbr' } }, 404, 'UNKNOWN_HYPERVISOR', ['name'], 'path'],
    ['POST', '/api/v1/hypervisors/-x/bridges', { body: { name: 'okbr' } }, 400, 'INVALID_INPUT', ['name'], 'path'],
    [
      'POST',
      `${h1}/bridges`,
      { body: { name: 'okbr' }, headers: { 'idempotency-key': longKey } },
      400,
      'INVALID_INPUT',
      ['Idempotency-Key'],
      'header',
    ],
    ['GET', `${h1}/bridges/nobr`, {}, 404, 'NOT_FOUND', ['bridge'], 'path'],
    ['DELETE', `${h1}/bridges/bad;name`, {}, 400, 'INVALID_INPUT', ['bridge'], 'path'],
    ['DELETE', `${h1}/bridges/${BR}`, { query: { ticketRef: '$(reboot)' } }, 400, 'INVALID_INPUT', ['ticketRef'], 'query'],
    ['GET', `${h1}/bridges/nobr/ports`, {}, 404, 'NOT_FOUND', ['bridge'], 'path'],
    ['POST', `${h1}/bridges/${BR}/ports`, { body: { name: 'p1', tag: 4095 } }, 400, 'INVALID_INPUT', ['tag'], 'body'],
    ['POST', `${h1}/bridges/${BR}/ports`, { body: { name: 'p1', trunks: [1, 0] } }, 400, 'INVALID_INPUT', ['trunks', '1'], 'body'],
    ['POST', `${h1}/bridges/${BR}/ports`, { body: { name: 'p1', type: 'bogus', tag: 5 } }, 400, 'INVALID_INPUT', ['type'], 'body'],
    ['POST', `${h1}/bridges/nobr/ports`, { body: { name: 'p1', tag: 5 } }, 404, 'NOT_FOUND', ['bridge'], 'path'],
    ['GET', `${h1}/ports/noport`, {}, 404, 'NOT_FOUND', ['port'], 'path'],
    ['DELETE', `${h1}/ports/-rf`, {}, 400, 'INVALID_INPUT', ['port'], 'path'],
    ['PUT', `${h1}/ports/${UPLINK}/vlans`, { body: { trunks: [] } }, 409, 'WOULD_TRUNK_ALL_VLANS', ['trunks'], 'body'],
    ['PUT', `${h1}/ports/${UPLINK}/vlans`, { body: { trunks: [5], vlanMode: 'sideways' } }, 400, 'INVALID_INPUT', ['vlanMode'], 'body'],
    ['PUT', `${h1}/ports/no-such-port/vlans`, { body: { tag: 5 } }, 404, 'NOT_FOUND', ['port'], 'path'],
    ['GET', `${h1}/networks`, { query: { limit: 'ten' } }, 400, 'INVALID_INPUT', ['limit'], 'query'],
    ['POST', `${h1}/networks`, { body: { name: 'n$(id)' } }, 400, 'INVALID_INPUT', ['name'], 'body'],
    [
      'POST',
      `${h1}/networks`,
      { body: { name: 'okn', portgroups: [{ name: 'pg', vlanTags: [1, 2] }] } },
      400,
      'INVALID_INPUT',
      ['portgroups', '0', 'vlanTags'],
      'body',
    ],
    ['GET', `${h1}/networks/nonet`, {}, 404, 'NOT_FOUND', ['network'], 'path'],
    ['DELETE', `${h1}/networks/${NETV}`, { query: { force: 'maybe' } }, 400, 'INVALID_INPUT', ['force'], 'query'],
    ['POST', `${h1}/networks/no-net/portgroups`, { body: { portgroup: { name: 'pg' } } }, 404, 'NOT_FOUND', ['network'], 'path'],
    ['POST', `${h1}/networks/${NETV}/portgroups`, { body: {} }, 400, 'INVALID_INPUT', ['portgroup'], 'body'],
    ['DELETE', `${h1}/networks/${NETV}/portgroups/-pg`, {}, 400, 'INVALID_INPUT', ['portgroup'], 'path'],
    ['GET', `${h1}/vms`, { query: { state: 'x'.repeat(33) } }, 400, 'INVALID_INPUT', ['state'], 'query'],
    ['POST', `${h1}/vms`, { body: { name: 'x', memoryMiB: 8 } }, 400, 'INVALID_INPUT', ['memoryMiB'], 'body'],
    [
      'POST',
      `${h1}/vms`,
      { body: { name: 'x', nics: [{ network: NETV, mac: '01:00:5e:00:00:01' }] } },
      400,
      'INVALID_INPUT',
      ['nics', '0', 'mac'],
      'body',
    ],
    ['GET', `${h1}/vms/no-such-vm`, {}, 404, 'NOT_FOUND', ['vm'], 'path'],
    ['DELETE', `${h1}/vms/x;reboot`, {}, 400, 'INVALID_INPUT', ['vm'], 'path'],
    ['POST', `${h1}/vms/no-such-vm/start`, { body: {} }, 404, 'NOT_FOUND', ['vm'], 'path'],
    ['POST', `${h1}/vms/x/stop`, { body: { timeoutSeconds: 0 } }, 400, 'INVALID_INPUT', ['timeoutSeconds'], 'body'],
    ['POST', `${h1}/vms/no-such-vm/interfaces`, { body: { network: NETV } }, 404, 'NOT_FOUND', ['vm'], 'path'],
    ['POST', `${h1}/vms/x/interfaces`, { body: { mac: 'zz' } }, 400, 'INVALID_INPUT', ['mac'], 'body'],
    ['DELETE', `${h1}/vms/x/interfaces/not-a-mac`, {}, 400, 'INVALID_INPUT', ['mac'], 'path'],
    ['DELETE', `${h1}/vms/x/interfaces/${MAC1}`, { query: { timeoutSeconds: 0 } }, 400, 'INVALID_INPUT', ['timeoutSeconds'], 'query'],
    ['DELETE', `${h1}/vms/x/interfaces/${MAC1}`, { query: { timeoutSeconds: 'soon' } }, 400, 'INVALID_INPUT', ['timeoutSeconds'], 'query'],
    ['PUT', `${h1}/vms/x/interfaces/${MAC1}/portgroup`, { body: {} }, 400, 'INVALID_INPUT', ['portgroup'], 'body'],
    ['GET', '/api/v1/vlans', { query: { cursor: '' } }, 400, 'INVALID_INPUT', ['cursor'], 'query'],
    ['GET', '/api/v1/vlans/0', {}, 400, 'INVALID_INPUT', ['tag'], 'path'],
    ['GET', '/api/v1/vlans/abc', {}, 400, 'INVALID_INPUT', ['tag'], 'path'],
    ['PUT', '/api/v1/vlans/5000', { body: { hypervisors: HOSTS } }, 400, 'INVALID_INPUT', ['tag'], 'path'],
    ['PUT', `/api/v1/vlans/${TAG}`, { body: { hypervisors: [] } }, 400, 'INVALID_INPUT', ['hypervisors'], 'body'],
    ['PUT', `/api/v1/vlans/${TAG}`, { body: { hypervisors: ['hv9'] } }, 422, 'UNKNOWN_HYPERVISOR', ['hypervisors', '0'], 'body'],
    ['PUT', `/api/v1/vlans/${TAG}`, { body: { hypervisors: HOSTS, name: 'a;b' } }, 400, 'INVALID_INPUT', ['name'], 'body'],
    ['DELETE', `/api/v1/vlans/${TAG}`, {}, 400, 'INVALID_INPUT', ['hypervisors'], 'query'],
    ['DELETE', `/api/v1/vlans/${TAG}`, { query: { hypervisors: 'hv9' } }, 422, 'UNKNOWN_HYPERVISOR', ['hypervisors', '0'], 'query'],
    ['DELETE', '/api/v1/vlans/-1', { query: { hypervisors: 'hv1' } }, 400, 'INVALID_INPUT', ['tag'], 'path'],
    [
      'POST',
      `/api/v1/vlans/${TAG}/verify`,
      { body: { hypervisors: HOSTS, isolationFrom: [1, 2, 3, 4, 5, 6, 7, 8, 9] } },
      400,
      'INVALID_INPUT',
      ['isolationFrom'],
      'body',
    ],
    [
      'POST',
      `/api/v1/vlans/${TAG}/verify`,
      { body: { hypervisors: ['hv1', 'hv9'] } },
      422,
      'UNKNOWN_HYPERVISOR',
      ['hypervisors', '1'],
      'body',
    ],
    ['GET', '/api/v1/jobs', { query: { state: 'BOGUS' } }, 400, 'INVALID_INPUT', ['state'], 'query'],
    ['GET', '/api/v1/jobs', { query: { kind: 'rebootEverything' } }, 400, 'INVALID_INPUT', ['kind'], 'query'],
    ['GET', '/api/v1/jobs/not-a-uuid', {}, 400, 'INVALID_INPUT', ['id'], 'path'],
    ['GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000', {}, 404, 'NOT_FOUND', ['id'], 'path'],
    ['POST', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel', {}, 404, 'NOT_FOUND', ['id'], 'path'],
    ['POST', '/api/v1/jobs/42/cancel', {}, 400, 'INVALID_INPUT', ['id'], 'path'],
    ['GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/events', {}, 404, 'NOT_FOUND', ['id'], 'path'],
    [
      'GET',
      '/api/v1/jobs/00000000-0000-4000-8000-000000000000/events',
      { query: { after: 'yesterday' } },
      400,
      'INVALID_INPUT',
      ['after'],
      'query',
    ],
    // The body as a whole: not JSON, not an object, not JSON at all.
    ['POST', `${h1}/bridges`, { body: '{"name": ' }, 400, 'MALFORMED_BODY', [], 'body'],
    ['PUT', `/api/v1/vlans/${TAG}`, { body: '[1, 2]' }, 400, 'MALFORMED_BODY', [], 'body'],
    ['POST', '/api/v1/hypervisors', { body: 'null' }, 400, 'MALFORMED_BODY', [], 'body'],
    [
      'POST',
      `${h1}/vms`,
      { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      ['Content-Type'],
      'header',
    ],
    [
      'PUT',
      `/api/v1/vlans/${TAG}`,
      { body: JSON.stringify({ hypervisors: HOSTS }), headers: { 'content-type': 'text/plain' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      ['Content-Type'],
      'header',
    ],
  ];

  it.each(cases)('%s %s %j → %i %s', async (method, path, opts, status, errorCode, field, where) => {
    const before = await jobsSnapshot();
    const r = await rest.call(method, path, opts);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status, code: errorCode, type: `urn:trunkline:error:${errorCode}` });
    if (field) expect(r.body.errors, JSON.stringify(r.body)).toContainEqual(expect.objectContaining({ field, in: where, code: errorCode }));
    expect(await jobsSnapshot()).toEqual(before);
  });

  it.each([
    ['/api/v1/events', { since: 'now' }, 400, ['since']],
    ['/api/v1/events', { types: 'SUCCEEDED,BOGUS' }, 400, ['types', '1']],
    ['/api/v1/events', { kind: 'nope' }, 400, ['kind']],
    ['/api/v1/jobs/00000000-0000-4000-8000-000000000000/events', {}, 404, ['id']],
  ])('event streams refuse bad input with a problem before streaming: %s %j', async (path, query, status, field) => {
    const s = await rest.sse(path, { query });
    expect(s.status).toBe(status);
    expect(JSON.parse(s.body).errors).toContainEqual(expect.objectContaining({ field }));
  });

  it('a body over TRUNKLINE_REST_BODY_LIMIT_BYTES (1 MiB) is 413, with a Content-Length or streamed', async () => {
    const big = JSON.stringify({ name: 'okbr', ticketRef: 'x'.repeat(1024 * 1024) });
    const before = await jobsSnapshot();
    const declared = await rest.call('POST', `${h1}/bridges`, { body: big });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // Chunked (no Content-Length): the limit holds while reading.
    // The gateway answers 413 and closes the connection (the rest of the body unread): a client still sending may see the close first.
    const streamed = await refusedStream(`${base}${h1}/bridges`, [big.slice(0, 600_000), big.slice(600_000)], authorization(base));
    if (streamed.error) expect(streamed.error).toMatch(/EPIPE|ECONNRESET|UND_ERR_SOCKET/);
    else expect([streamed.status, streamed.body?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // A small chunked body is read as any other.
    const small = await fetch(`${base}${h1}/bridges?dryRun=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization(base) },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(JSON.stringify({ name: BR })));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(small.status).toBe(200);
    expect(await jobsSnapshot()).toEqual(before);
  });

  it('an unknown route is 404, a wrong method 405 with Allow; both problems', async () => {
    for (const path of ['/api/v1/nope', '/api/v1', '/api/v1/hypervisors/hv1/bridges/x/y/z', '/api/nothing-here']) {
      const r = await rest.problem('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    }
    const cases: Array<[string, string, string]> = [
      ['PATCH', '/api/v1/hypervisors', 'GET, POST, HEAD'],
      ['POST', `/api/v1/vlans/${TAG}`, 'GET, PUT, DELETE, HEAD'],
      ['PUT', '/api/v1/jobs', 'GET, HEAD'],
      ['DELETE', '/api/v1/events', 'GET, HEAD'],
      ['GET', `/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel`, 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const before = await jobsSnapshot();
      const r = await rest.problem(method, path, method === 'GET' ? {} : { body: {} });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
      expect(r.body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
      expect(await jobsSnapshot()).toEqual(before);
    }
    // Without a body and without a Content-Length.
    const bare = await rest.problem('PATCH', '/api/v1/hypervisors');
    expect(bare.status).toBe(405);
  });

  it('an unknown query parameter is refused, naming it, not ignored (a dry run that does not exist would act)', async () => {
    const before = await jobsSnapshot();
    const listed = await rest.call('GET', '/api/v1/hypervisors', { query: { nope: '1' } });
    expect(listed.status).toBe(400);
    expect(listed.body.errors).toEqual([expect.objectContaining({ field: ['nope'], in: 'query', code: 'INVALID_INPUT' })]);
    const verify = await rest.call('POST', `/api/v1/vlans/${TAG}/verify`, {
      query: { dryRun: 'true' },
      body: { hypervisors: ['hv1', 'hv2'] },
    });
    expect(verify.status).toBe(400);
    expect(verify.body.errors).toEqual([expect.objectContaining({ field: ['dryRun'], in: 'query' })]);
    expect(await jobsSnapshot()).toEqual(before);
  });

  it('the hosts are as they were', async () => {
    expect(await hostsSnapshot()).toEqual(hostsBefore);
  });
});

describe('coverage', () => {
  it('every documented operation was called', () => {
    const documented = DOCUMENTED_OPERATIONS.filter((o) => !NOT_HERE(o)).map((o) => o.operationId);
    expect(documented.filter((id) => !exercised.has(id))).toEqual([]);
    expect(Object.keys(OPENAPI.paths).length).toBeGreaterThan(20);
  });
});

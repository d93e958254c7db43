import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { changeClient, JOB_FIELDS } from '../support/changes.ts';
import { authorization } from '../support/credentials.ts';
import { freePort } from '../support/free-port.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec, ovsdbPid } from '../support/lab.ts';
import { startProcess } from '../support/processes.ts';
import { startTrunkline, waitForJob, type Trunkline } from '../support/trunkline.ts';

/*
 * Graceful shutdown on SIGTERM (issue 13): a worker stops taking jobs and finishes the host part
 * it runs (one attempt, its own, the host handed over); a gateway ends its event streams with a
 * reconnect hint (REST: `event: reconnect`; WebSocket: close 1012) and exits 0.
 */
const labEnv = inject('labEnv');
const redisUrl = inject('redisUrl');
const inventoryPath = inject('inventoryPath');
const HOST = 'hv2';
const sfx = randomBytes(2).toString('hex');
const BR = `ts${sfx}`;
const PORT = `ts${sfx}p`;

let tl: Trunkline;
const { change, apply } = changeClient(() => tl.url);
const on = async (...argv: string[]) => (await labExec(labEnv, HOST, argv)).stdout.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (child: { once(e: 'exit', f: (code: number | null) => void): void }) =>
  new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl, inventoryPath, env: { TRUNKLINE_JOB_LOCK_MS: '2000' } });
  await gql(tl.url, '{ hypervisors(refresh: true) { name } }');
  expect((await apply('createBridge', { hypervisor: HOST, name: BR })).state).toBe('SUCCEEDED');
  expect((await apply('addPort', { hypervisor: HOST, bridge: BR, name: PORT, type: 'INTERNAL', tag: 1001 })).state).toBe('SUCCEEDED');
});

afterAll(async () => {
  await tl?.stop();
  await labExec(labEnv, HOST, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
});

describe('graceful shutdown', () => {
  it('a worker sent SIGTERM mid-part finishes it (one attempt, its own), hands the host over and exits 0', async () => {
    // Hold the part mid-way: the host's ovsdb-server is frozen while the part reads it.
    const ovsdb = await ovsdbPid(labEnv, HOST);
    process.kill(ovsdb, 'SIGSTOP');
    const worker = tl.worker!;
    let id: string | undefined;
    try {
      const payload = await change('setPortVlans', { hypervisor: HOST, name: PORT, tag: 1005, vlanMode: 'ACCESS' });
      id = payload.job.id;
      const until = Date.now() + 20_000;
      while (
        !(await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { attempts { worker } } } }', { id })).data.job.hosts[0].attempts[0]
      ) {
        if (Date.now() > until) throw new Error('the part did not start');
        await sleep(5);
      }
      worker.child.kill('SIGTERM');
      await sleep(300);
      expect(worker.child.exitCode, 'it waits for the running part').toBeNull();
    } finally {
      process.kill(ovsdb, 'SIGCONT');
    }
    expect(await exited(worker.child)).toBe(0);
    expect(worker.output()).toMatch(/worker stopping/);
    // The part ended before the worker exited; settling the job (the flow's parent) is the next worker's.
    const part = (await gql(tl.url, 'query($id: ID!) { job(id: $id) { hosts { state attempts { outcome } } } }', { id: id! })).data.job
      .hosts[0];
    expect(part).toEqual({ state: 'SUCCEEDED', attempts: [{ outcome: 'SUCCEEDED' }] });
    await tl.startWorker();
    const job = await waitForJob(tl.url, id!, JOB_FIELDS, 60_000);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.hosts[0].attempts.map((a: any) => a.outcome)).toEqual(['SUCCEEDED']);
    expect(await on('ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe('1005');
    // The host was handed over: the next job on it runs at once.
    expect((await apply('setPortVlans', { hypervisor: HOST, name: PORT, tag: 1006, vlanMode: 'ACCESS' })).state).toBe('SUCCEEDED');
  });

  it('a gateway sent SIGTERM ends REST event streams with a reconnect event and closes WebSocket subscriptions with 1012, then exits 0', async () => {
    const port = await freePort();
    const gateway = await startProcess('gateway/main.ts', { ...tl.env, TRUNKLINE_LISTEN_PORT: String(port) }, 'gateway listening');
    const base = `http://127.0.0.1:${port}`;
    const headers = authorization(tl.url);
    const stream = await fetch(`${base}/api/v1/events`, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    const text = stream.text();
    const ws = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: headers.authorization },
    });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('closed', (e) => r(e as { code: number; reason: string })));
    const connected = new Promise<void>((r) => ws.on('connected', () => r()));
    ws.subscribe({ query: 'subscription { jobEvents { type } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    await connected;
    await sleep(200);

    const code = exited(gateway.child);
    gateway.child.kill('SIGTERM');
    const body = await text;
    expect(body).toMatch(
      /event: reconnect\ndata: \{"message":"gateway restarting: reconnect \(any gateway\) with Last-Event-ID to resume","retryMs":1000\}/,
    );
    const close = await closed;
    expect(close.code).toBe(1012);
    expect(close.reason).toMatch(/reconnect/);
    expect(await code).toBe(0);
    expect(gateway.output()).toMatch(/"eventStreams":1/);
    await ws.dispose();
  });
});

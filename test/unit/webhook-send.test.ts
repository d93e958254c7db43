import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../src/webhooks/allow-list.ts';
import { postWebhook } from '../../src/webhooks/send.ts';
import { deliveryHeaders, newSecret } from '../../src/webhooks/signature.ts';

/** One attempt against a real HTTP server on loopback: answers, failures, the deadline, the allow-list at connect time. */
const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
const hanging: ServerResponse[] = [];
let server: Server;
let base: string;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/ok') res.writeHead(204).end();
      else if (req.url === '/fail') res.writeHead(500).end('boom');
      else if (req.url === '/moved') res.writeHead(302, { location: `${base}/ok` }).end();
      else hanging.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const loopback = parseAllowList(['127.0.0.0/8', '::1', 'localhost']);
const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { n: 1 } });
const secret = newSecret();
const send = (url: string, over: Partial<Parameters<typeof postWebhook>[0]> = {}) =>
  postWebhook({
    url,
    body,
    headers: deliveryHeaders(secret, 'msg_test', Math.floor(Date.now() / 1000), body),
    timeoutMs: 2000,
    allowList: loopback,
    ...over,
  });
const countTo = (path: string) => seen.filter((s) => s.path === path).length;

describe('postWebhook', () => {
  it('a 2xx is a delivery; what arrives verifies with standardwebhooks', async () => {
    const r = await send(`${base}/ok`);
    expect(r).toMatchObject({ responseCode: 204, error: null });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    const got = seen.find((s) => s.path === '/ok')!;
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toMatch(/Trunkline/);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('a 500 is a failed attempt with its code', async () => {
    expect(await send(`${base}/fail`)).toMatchObject({
      responseCode: 500,
      error: { code: 'WEBHOOK_DELIVERY_FAILED', message: 'answered 500' },
    });
  });

  it('a redirect is not followed: it fails the attempt', async () => {
    const before = countTo('/ok');
    const r = await send(`${base}/moved`);
    expect(r).toMatchObject({ responseCode: 302, error: { code: 'WEBHOOK_DELIVERY_FAILED' } });
    expect(r.error!.message).toMatch(/redirects are not followed/);
    expect(countTo('/ok')).toBe(before);
  });

  it('an endpoint that never answers times out', async () => {
    const r = await send(`${base}/hang`, { timeoutMs: 300 });
    expect(r).toMatchObject({ responseCode: null, error: { code: 'WEBHOOK_TIMEOUT', message: 'no answer within 300 ms' } });
    expect(countTo('/hang')).toBe(1);
  });

  it('nothing listening: a failed attempt', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await send(`http://127.0.0.1:${freePort}/ok`);
    expect(r).toMatchObject({ responseCode: null, error: { code: 'WEBHOOK_DELIVERY_FAILED' } });
    expect(r.error!.message).toMatch(/ECONNREFUSED/);
  });

  it('an address not on the allow-list is never connected to', async () => {
    const before = countTo('/ok');
    const r = await send(`${base}/ok`, { allowList: parseAllowList(['10.0.0.0/8']) });
    expect(r).toMatchObject({ responseCode: null, error: { code: 'WEBHOOK_URL_NOT_ALLOWED' } });
    expect(countTo('/ok')).toBe(before);
  });

  it('a name is judged on what it resolves to when the socket connects', async () => {
    const before = countTo('/ok');
    const resolve = async (host: string) => (host === 'hooks.test' ? ['127.0.0.1'] : []);
    // Listed by name, but it resolves to an internal address that is not listed itself.
    const byName = await send(`http://hooks.test:${port}/ok`, { allowList: parseAllowList(['hooks.test']), resolve });
    expect(byName).toMatchObject({ responseCode: null, error: { code: 'WEBHOOK_URL_NOT_ALLOWED' } });
    expect(byName.error!.message).toMatch(/internal address 127\.0\.0\.1/);
    expect(countTo('/ok')).toBe(before);
    const allowed = await send(`http://hooks.test:${port}/ok`, { allowList: parseAllowList(['127.0.0.1']), resolve });
    expect(allowed).toMatchObject({ responseCode: 204, error: null });
    expect(seen.at(-1)!.headers.host).toBe(`hooks.test:${port}`);
  });

  it('refuses other schemes without sending', async () => {
    expect(await send('ftp://127.0.0.1/x')).toMatchObject({ error: { code: 'WEBHOOK_URL_NOT_ALLOWED' } });
  });
});

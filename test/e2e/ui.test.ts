import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FLEET, JOB, JOB_PROGRESS, JOBS, VLAN_PAGE } from '../../ui/src/queries.ts';
import { guardedContext, type GuardedContext, launchChromium, screenshot } from '../support/browser.ts';
import { gql } from '../support/graphql-client.ts';
import { labExec } from '../support/lab.ts';
import { buildReference, type ReferenceHost, removeReference } from '../support/reference-setup.ts';
import { startTrunkline, type Trunkline, waitForJob } from '../support/trunkline.ts';

/**
 * The web UI (/ui) in a real browser against a real gateway and worker on the lab: every
 * request that would leave the machine is blocked, so the pages work with the gateway's own
 * assets only. The reference setup is built on both hosts (VMs on VLANs 1001 and 1002) with one
 * drift: hv2's uplink does not trunk 1002. Screenshots of every page go to
 * .trunkline/artifacts/ui/. With TRUNKLINE_UI_CAPTURE_FIXTURES=1 the run also saves the
 * GraphQL answers of the UI's own queries as the unit tests' fixtures (test/fixtures/ui/).
 */
const labEnv = inject('labEnv');
const CAPTURE = process.env.TRUNKLINE_UI_CAPTURE_FIXTURES === '1';
const FIXTURES = new URL('../fixtures/ui/', import.meta.url);
const HOSTS = ['hv1', 'hv2'];
const CHANGE_TAG = 1891;

const HV1: ReferenceHost = {
  host: 'hv1',
  ports: [
    { name: 'mon-1001', tag: 1001 },
    { name: 'lb-trunk', trunks: [1001, 1002] },
  ],
  vms: [
    { name: 'web-1', mac: '52:54:00:91:00:01', portgroup: 'vlan-1001', start: true },
    { name: 'router-1', mac: '52:54:00:91:00:02', portgroup: 'vlan-all', start: true },
    { name: 'db-1', mac: '52:54:00:91:00:03', portgroup: 'vlan-1002', start: false },
  ],
};
const HV2: ReferenceHost = {
  host: 'hv2',
  ports: [],
  vms: [
    { name: 'web-2', mac: '52:54:00:92:00:01', portgroup: 'vlan-1001', start: true },
    { name: 'db-2', mac: '52:54:00:92:00:02', portgroup: 'vlan-1002', start: true },
  ],
};

let tl: Trunkline;
let base: string;
let browser: Browser;
let guarded: GuardedContext;
let verifyJobId: string;
let scopedToken: string;
const cliChildren: ChildProcess[] = [];

function capture(name: string, data: unknown): void {
  if (!CAPTURE) return;
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(new URL(`${name}.json`, FIXTURES), `${JSON.stringify(data, null, 2)}\n`);
}

/** A REST call with the admin token, as any script would make it. */
async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${tl.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** The CLI (bin/trunkline) waiting on a change, as in an operator's terminal: its output and exit code once it ends. */
function runCli(args: string[]): { exited: Promise<{ code: number | null; output: string }> } {
  const child = spawn(
    'bash',
    [fileURLToPath(new URL('../../bin/trunkline', import.meta.url)), ...args, '-o', 'table', '--wait', '--no-color'],
    {
      env: { ...process.env, TRUNKLINE_URL: base, TRUNKLINE_TOKEN: tl.adminToken, XDG_CONFIG_HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  cliChildren.push(child);
  return { exited: new Promise((resolve) => child.once('exit', (code) => resolve({ code, output }))) };
}

/** The REST id of the one job of a ticket, once the gateway accepted it. */
async function jobOfTicket(ticketRef: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const page = await rest('GET', `/api/v1/jobs?ticketRef=${encodeURIComponent(ticketRef)}`);
    if (page.body.items?.length) return page.body.items[0].id;
    await sleep(50);
  }
  throw new Error(`no job of ticket ${ticketRef} was accepted`);
}

/** The GraphQL global id of a job REST names by its uuid. */
async function globalJobId(uuid: string): Promise<string> {
  const res = await gql(tl.url, 'query($id: ID!) { job(id: $id) { id } }', { id: uuid });
  return res.data.job.id;
}

async function signIn(page: Page, hash = '#/topology', token = tl.adminToken): Promise<void> {
  await page.goto(`${base}/ui/${hash}`);
  await page.fill('#token', token);
  await page.click('form[data-testid="signin-form"] button[type="submit"]');
  await page.waitForSelector('[data-testid="caller"]:not(:empty)');
}

beforeAll(async () => {
  for (const spec of [HV1, HV2]) await removeReference(labEnv, spec);
  for (const spec of [HV1, HV2]) await buildReference(labEnv, spec);
  // The drift the pages must show: hv2 has VLAN 1002 portgroups and a VM on it, its uplink does not trunk it.
  const drift = await labExec(labEnv, 'hv2', ['ovs-vsctl', 'set', 'Port', 'enp5s0f0', 'trunks=1001']);
  expect(drift.code, drift.stderr).toBe(0);
  tl = await startTrunkline({
    redisUrl: inject('redisUrl'),
    inventoryPath: inject('inventoryPath'),
    env: { TRUNKLINE_GRAPHQL_INTROSPECTION: 'true' },
  });
  base = tl.url.replace(/\/graphql$/, '');
  const read = await gql(tl.url, 'mutation { refreshHypervisor { job { id } userErrors { message } } }');
  expect((await waitForJob(tl.url, read.data.refreshHypervisor.job.id, '')).state).toBe('SUCCEEDED');
  // A verification on record for the VLAN page's grid, started through the REST API.
  const verify = await rest('POST', '/api/v1/vlans/1001/verify', { hypervisors: HOSTS, isolationFrom: [1002], ticketRef: 'UI-VERIFY' });
  expect(verify.status, JSON.stringify(verify.body)).toBe(202);
  verifyJobId = await globalJobId(verify.body.id);
  expect((await waitForJob(tl.url, verifyJobId, '')).state).toBe('SUCCEEDED');
  browser = await launchChromium();
  guarded = await guardedContext(browser);
});

afterAll(async () => {
  for (const child of cliChildren) child.kill('SIGTERM');
  await browser?.close();
  await tl?.stop();
  for (const spec of [HV1, HV2]) await removeReference(labEnv, spec);
});

describe('the UI assets', () => {
  it('are served without credentials, with a strict Content-Security-Policy; other /ui paths are not', async () => {
    for (const path of ['/ui', '/ui/', '/ui/app.js', '/ui/style.css']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const text = await res.text();
      if (path === '/ui/app.js') expect(text.length).toBeGreaterThan(100_000); // cytoscape is in it
      // No inline script or style, nothing from elsewhere.
      if (path === '/ui') expect(text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|https?:\/\//);
    }
    const again = await fetch(`${base}/ui/app.js`);
    const etag = again.headers.get('etag')!;
    expect((await fetch(`${base}/ui/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // Anything else under /ui is not the UI's: it meets the auth gate like every other path.
    expect((await fetch(`${base}/ui/secret.json`)).status).toBe(401);
  });
});

describe('in the browser', () => {
  it('signs in with a token (refusing a wrong one with the reason), sends it as Bearer on every call, signs out', async () => {
    const page = await guarded.newPage();
    const calls: Array<{ url: string; authorization: string | undefined }> = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/graphql') calls.push({ url: r.url(), authorization: r.headers().authorization });
    });
    await page.goto(`${base}/ui`);
    await screenshot(page, 'signin');
    await page.fill('#token', `tl_0123456789abcdef_${'x'.repeat(43)}`);
    await page.click('form[data-testid="signin-form"] button[type="submit"]');
    const refusal = page.locator('[data-testid="signin-error"]');
    await refusal.waitFor({ state: 'visible' });
    expect(await refusal.textContent()).toMatch(/refused the token \(401\)/);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await page.fill('#token', `  ${tl.adminToken} `);
    await page.click('form[data-testid="signin-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="caller"]:not(:empty)');
    expect(await page.textContent('[data-testid="caller"]')).toBe('test-admin (admin)');
    expect(await page.evaluate("sessionStorage.getItem('trunkline.token')")).toBe(tl.adminToken);
    await page.waitForSelector('[data-testid="topology-graph"][data-hosts]');
    const signedIn = calls.slice(1); // the first call was the wrong token's
    expect(signedIn.length).toBeGreaterThan(1);
    for (const c of signedIn) expect(c.authorization).toBe(`Bearer ${tl.adminToken}`);

    // A reload keeps the session (the tab's sessionStorage); signing out forgets it.
    await page.reload();
    await page.waitForSelector('[data-testid="caller"]:not(:empty)');
    await page.click('[data-testid="sign-out"]');
    await page.waitForSelector('form[data-testid="signin-form"]');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.close();
  });

  it('says so when a token may not see something (403)', async () => {
    const group = await rest('PUT', '/api/v1/host-groups/ui-hv2', { hypervisors: ['hv2'] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    scopedToken = await tl.issueToken({ name: 'ui-hv2-viewer', role: 'viewer', hostGroups: ['ui-hv2'] });
    const page = await guarded.newPage();
    await signIn(page, `#/jobs/${encodeURIComponent(verifyJobId)}`, scopedToken);
    const banner = page.locator('[data-testid="banner"]');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.textContent()).toMatch(/Not allowed for this token \(403\)/);
    // Still signed in: the token works, it may only not see that job (it touches hv1).
    expect(await page.textContent('[data-testid="caller"]')).toBe('ui-hv2-viewer (viewer: ui-hv2)');
    await page.close();
  });

  it('topology: both lab hosts with their uplinks and the reference VLANs as lanes, the drift highlighted; filters', async () => {
    const page = await guarded.newPage();
    await signIn(page);
    const graph = page.locator('[data-testid="topology-graph"][data-hosts]');
    await graph.waitFor();
    expect(await graph.getAttribute('data-hosts')).toBe('hv1 hv2');
    expect((await graph.getAttribute('data-vlans'))!.split(' ')).toEqual(['1001', '1002']);
    expect(
      await page.locator('[data-testid="topology-vlans"] li[data-tag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag'))),
    ).toEqual(['1001', '1002']);
    const hosts = page.locator('[data-testid="topology-hosts"]');
    expect(await hosts.locator('li[data-host="hv1"]').textContent()).toMatch(/reachable.*uplink enp5s0f0: trunk 1001,1002.*3 VMs/);
    expect(await hosts.locator('li[data-host="hv2"]').textContent()).toMatch(/uplink enp5s0f0: trunk 1001 · 2 VMs/);
    const drift = await page.textContent('[data-testid="topology-drift"]');
    expect(drift).toMatch(/UPLINK_MISSING hv2: uplink enp5s0f0 on ovsbr0 does not trunk VLAN 1002/);
    expect(await page.textContent('[data-testid="topology-stats"]')).toBe('2 hosts · 2 VLANs · 5 VMs · 5 NICs · 1 drift');
    await screenshot(page, 'topology');

    await page.selectOption('#filter-vlan', '1002');
    await page.waitForFunction(() => location.hash === '#/topology?vlan=1002');
    await page.waitForSelector('[data-testid="topology-graph"][data-vlans="1002"]');
    await screenshot(page, 'topology-vlan-1002');
    await page.selectOption('#filter-vlan', '');
    await page.selectOption('#filter-host', 'hv1');
    await page.waitForSelector('[data-testid="topology-graph"][data-hosts="hv1"][data-vlans="1001 1002"]');
    await page.close();
  });

  it('VLAN pages: the list, and one VLAN with its carriage, portgroups, VMs, drift and last verification grid', async () => {
    const page = await guarded.newPage();
    await signIn(page, '#/vlans');
    const rows = page.locator('[data-testid="vlan-table"] tbody tr');
    await rows.first().waitFor();
    expect(await rows.allTextContents()).toEqual([
      expect.stringMatching(/^1001.*hv1, hv2.*none/),
      expect.stringMatching(/^1002.*hv1.*hv2.*1 drift/),
    ]);
    await screenshot(page, 'vlans');

    await page.click('a[href="#/vlans/1001"]');
    const grid = page.locator('[data-testid="verification-grid"]');
    await grid.waitFor();
    const carriage = await page.locator('[data-testid="vlan-carriage"] tbody tr').allTextContents();
    expect(carriage).toEqual([expect.stringMatching(/^hv1ovsbr0enp5s0f0trunked/), expect.stringMatching(/^hv2ovsbr0enp5s0f0trunked/)]);
    expect(await page.locator('[data-testid="vlan-portgroups"] tbody tr').allTextContents()).toEqual([
      'hv1ovs-networkvlan-1001access',
      'hv1ovs-networkvlan-alltrunk',
      'hv2ovs-networkvlan-1001access',
      'hv2ovs-networkvlan-alltrunk',
    ]);
    const nics = await page.locator('[data-testid="vlan-nics"] tbody tr').allTextContents();
    expect(nics.map((t) => t.match(/^hv\d(\S+?)running/)?.[1])).toEqual(['router-1', 'web-1', 'web-2']);
    expect(await page.textContent('[data-testid="vlan-drift"]')).toMatch(/None/);
    // 2 member probes reach each other; 2 probes on 1002 stay isolated from both members.
    const states = await grid.locator('td[data-state]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-state')));
    expect(states.filter((s) => s === 'reached')).toHaveLength(2);
    expect(states.filter((s) => s === 'isolated')).toHaveLength(4);
    expect(states.filter((s) => s === 'failed')).toHaveLength(0);
    expect(await grid.locator('thead th').allTextContents()).toEqual(['probe (host · VLAN · address)', '→ hv1', '→ hv2']);
    await screenshot(page, 'vlan-1001');

    await page.goto(`${base}/ui/#/vlans/1002`);
    await page.waitForSelector('[data-testid="vlan-drift"] li');
    expect(await page.textContent('[data-testid="vlan-drift"]')).toMatch(/UPLINK_MISSING.*hv2/);
    await screenshot(page, 'vlan-1002');
    await page.close();
  });

  it('a change started while the jobs page, a job view and the topology are open appears and finishes live on each', async () => {
    const list = await guarded.newPage();
    await signIn(list, '#/jobs');
    await list.waitForSelector('[data-testid="jobs-table"]');
    await list.waitForSelector('[data-testid="live-status"].live-open');
    const topology = await guarded.newPage();
    await signIn(topology, '#/topology');
    await topology.waitForSelector('[data-testid="topology-graph"][data-vlans="1001 1002"]');
    await topology.waitForSelector('[data-testid="live-status"].live-open');
    // Marks on the pages: they must still be there at the end (updated in place, never reloaded).
    for (const p of [list, topology]) await p.evaluate('window.notReloaded = true');

    // No worker for a moment: the job waits QUEUED, so every page sees it before it runs.
    await tl.worker!.stop();
    // The change comes from the CLI, as an operator runs it, waiting in its terminal meanwhile.
    const cli = runCli(['vlan', 'ensure', String(CHANGE_TAG), '--hosts', HOSTS.join(','), '--name', 'ui-live', '--ticket', 'UI-1891']);
    const id = await globalJobId(await jobOfTicket('UI-1891'));
    const row = list.locator(`tr[data-job-id="${id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('QUEUED');
    expect(await row.textContent()).toMatch(/ensureVlan.*hv1.*hv2.*UI-1891.*test-admin/);

    // The job view, opened from its row, follows it.
    const view = await guarded.newPage();
    await signIn(view, '#/jobs');
    await view.click(`tr[data-job-id="${id}"] a`);
    await view.waitForSelector('[data-testid="job-summary"][data-state="QUEUED"]');
    await view.waitForSelector('[data-testid="job-live"]');
    await view.evaluate('window.notReloaded = true');

    await tl.startWorker();
    await row.and(list.locator('[data-state="SUCCEEDED"]')).waitFor();
    // The terminal saw the same job through to the end: step lines of both hosts, then the outcome.
    const done = await cli.exited;
    expect(done.code, done.output).toBe(0);
    for (const h of HOSTS) expect(done.output).toMatch(new RegExp(`${h}.*vlan-${CHANGE_TAG}`));
    expect(done.output).toMatch(/SUCCEEDED/);
    await view.waitForSelector('[data-testid="job-summary"][data-state="SUCCEEDED"]');
    await view.waitForSelector('[data-testid="job-live"]', { state: 'detached' }); // the stream ended with the job
    for (const h of HOSTS) {
      const card = view.locator(`section.host-card[data-host="${h}"]`);
      expect(await card.getAttribute('data-state')).toBe('SUCCEEDED');
      const commands = await card.locator('.step-cmd code').allTextContents();
      expect(commands.join('\n')).toMatch(new RegExp(`ovs-vsctl.*trunks.*${CHANGE_TAG}`));
      expect(commands.join('\n')).toMatch(/virsh.*net-update.*vlan-1891/);
    }
    expect(await view.textContent('[data-testid="job-events"]')).toMatch(/QUEUED[\s\S]*STARTED[\s\S]*STEP_FINISHED[\s\S]*SUCCEEDED/);
    // The topology read the fleet again when the job ended: the new VLAN's lane is there.
    await topology.waitForSelector(`[data-testid="topology-graph"][data-vlans="1001 1002 ${CHANGE_TAG}"]`);
    for (const p of [list, view, topology]) expect(await p.evaluate('window.notReloaded')).toBe(true);
    await screenshot(list, 'jobs');
    await screenshot(view, 'job');
    await screenshot(topology, 'topology-after-change');

    // The list's filters are the API's: by kind, by ticket.
    await list.selectOption('#filter-kind', 'verifyVlan');
    await list.waitForSelector(`[data-testid="jobs-table"]:not(:has(tr[data-job-id="${id}"]))`);
    expect(await list.locator('[data-testid="jobs-table"] tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/verifyVlan.*UI-VERIFY/),
    ]);
    await list.click('button:text("Clear")');
    // The cleared route is applied on hashchange (a task after the click): typing before it lands would be cleared too.
    await list.waitForFunction(() => (document.querySelector('#filter-kind') as HTMLSelectElement).value === '');
    await list.fill('#filter-ticket', 'UI-1891');
    await list.press('#filter-ticket', 'Enter');
    await list.waitForFunction(() => location.hash === '#/jobs?ticket=UI-1891');
    await list.waitForSelector(`[data-testid="jobs-table"] tr[data-job-id="${id}"]`);
    expect(await list.locator('[data-testid="jobs-table"] tbody tr').count()).toBe(1);

    if (CAPTURE) {
      capture('fleet', (await gql(tl.url, FLEET)).data);
      capture('vlan-1001', (await gql(tl.url, VLAN_PAGE, { tag: 1001 })).data);
      capture('vlan-1002', (await gql(tl.url, VLAN_PAGE, { tag: 1002 })).data);
      capture('jobs', (await gql(tl.url, JOBS, { first: 50, filter: {} })).data);
      capture('job-ensure-vlan', (await gql(tl.url, JOB, { id })).data);
      capture('job-verify-vlan', (await gql(tl.url, JOB, { id: verifyJobId })).data);
      // A verification that fails: VLAN 1899 is carried nowhere.
      const failing = await rest('POST', '/api/v1/vlans/1899/verify', { hypervisors: HOSTS });
      const failingId = await globalJobId(failing.body.id);
      expect((await waitForJob(tl.url, failingId, '')).state).toBe('FAILED');
      capture('job-verify-vlan-failed', (await gql(tl.url, JOB, { id: failingId })).data);
      // The wire: jobProgress of the ended job over SSE (replayed, then completed), and refusals.
      const post = (token: string, query: string, variables: object, accept = 'application/graphql-response+json') =>
        fetch(tl.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept },
          body: JSON.stringify({ query, variables }),
        });
      const sse = await post(tl.adminToken, JOB_PROGRESS, { id }, 'text/event-stream');
      if (CAPTURE) writeFileSync(new URL('job-progress.sse.txt', FIXTURES), await sse.text());
      const refused = await post(`tl_0123456789abcdef_${'x'.repeat(43)}`, JOB, { id });
      capture('graphql-401', { status: refused.status, body: await refused.json() });
      const forbidden = await post(scopedToken, JOB, { id: verifyJobId });
      capture('graphql-403', { status: forbidden.status, body: await forbidden.json() });
    }

    // The VLAN goes again (forced: ensureVlan put it into vlan-all, which router-1 is on), and the topology sees that too.
    const removed = await rest('DELETE', `/api/v1/vlans/${CHANGE_TAG}?hypervisors=hv1,hv2&force=true`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(202);
    expect((await waitForJob(tl.url, await globalJobId(removed.body.id), '')).state).toBe('SUCCEEDED');
    await topology.waitForSelector('[data-testid="topology-graph"][data-vlans="1001 1002"]');
    for (const p of [list, view, topology]) await p.close();
  });

  it('GraphiQL at /graphql renders its editor from the gateway’s own assets (HTTP Basic: the token as password)', async () => {
    const g = await guardedContext(browser, { httpCredentials: { username: 'operator', password: tl.adminToken } });
    const page = await g.newPage();
    const res = await page.goto(tl.url);
    expect(res!.status()).toBe(200);
    await page.waitForSelector('.graphiql-container');
    await page.waitForSelector('.graphiql-query-editor .monaco-editor, .graphiql-query-editor .CodeMirror');
    await screenshot(page, 'graphiql');
    expect(g.blocked).toEqual([]);
    await g.context.close();
  });

  it('the API reference at /api/docs renders (Swagger UI from swagger-ui-dist)', async () => {
    const g = await guardedContext(browser, { httpCredentials: { username: 'operator', password: tl.adminToken } });
    const page = await g.newPage();
    await page.goto(`${base}/api/docs`);
    await page.waitForSelector('.swagger-ui .info .title');
    await page.waitForSelector('.swagger-ui .opblock-tag');
    expect(await page.textContent('.swagger-ui .info .title')).toMatch(/Trunkline/);
    await screenshot(page, 'api-docs', { fullPage: false }); // the page is some 7,000 px long
    expect(g.blocked).toEqual([]);
    await g.context.close();
  });

  it('no page asked for anything beyond the loopback, and none complained (console errors, CSP violations)', () => {
    expect(guarded.blocked).toEqual([]);
    expect(guarded.problems.filter((p) => !/status of 40[13]/.test(p))).toEqual([]);
  });
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../support/free-port.ts';
import { labExec } from '../support/lab.ts';
import { startTrunkline, type Trunkline } from '../support/trunkline.ts';
import { type Receiver, startReceiver } from '../support/webhook-receiver.ts';

/**
 * The `trunkline` CLI as operators and scripts run it: the real launcher (bin/trunkline, bash)
 * as a child process, against one real gateway and worker (a private Redis, the lab's hv1 and
 * hv2 over SSH) shared by the whole file. Every command group against the lab, in table and
 * JSON output, changes checked inside the hosts, and every exit code: 0 done, 1 a job that
 * fails on the host, 2 bad input (naming the field; nothing queued), 3 no gateway, 4 a bad or
 * too weak token, 5 --timeout shorter than the job. What it makes on the hosts it removes.
 */
const labEnv = inject('labEnv');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/trunkline');
const sfx = randomBytes(2).toString('hex');
const HOSTS = ['hv1', 'hv2'];
const TAG = 1881; // ensured, verified, removed
const TAG_PTY = 1882; // ensured on a terminal
const TAG_REFUSED = 1883; // never made
const TAG_PORT = 1884;
const TAG_PG = 1886;
const TAG_PG2 = 1887;
const TICKET = `CHG-CLI-${sfx}`;
const BR = `cb${sfx}`;
const PORT = `cp${sfx}`;
const NODEV = `cx${sfx}`; // a system port whose device does not exist: the job fails
const NET = `cnet-${sfx}`;
const VM = `cvm-${sfx}`;
const MAC1 = '52:54:00:18:81:01';
const MAC2 = '52:54:00:18:81:02';
const TMP_HOST = `tmp-${sfx}`;

let tl: Trunkline;
let base: string;
let receiver: Receiver | undefined;
let ownsDefaults = false; // ovsbr0 and ovs-network were absent at the start: remove them at the end
const work = mkdtempSync(join(tmpdir(), 'tl-cli-e2e-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/trunkline with the gateway's URL and admin token in the environment (unless `env` overrides them). */
function trunkline(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; bin?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    TRUNKLINE_URL: tl.url,
    TRUNKLINE_TOKEN: tl.adminToken,
    XDG_CONFIG_HOME: join(work, 'xdg'), // no operator's config file
    TRUNKLINE_CONFIG: undefined,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A command that must exit 0; its stdout parsed when it printed JSON. */
async function ok(args: string[], opts: Parameters<typeof trunkline>[1] = {}): Promise<Run & { json: any }> {
  const r = await trunkline(args, opts);
  expect(r.code, `trunkline ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  const json = args.includes('json') ? JSON.parse(r.stdout) : undefined;
  return { ...r, json };
}

const on = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).stdout.trim();
const status = async (host: string, ...argv: string[]) => (await labExec(labEnv, host, argv)).code;

/** Everything that says whether a job was queued: the newest job and BullMQ's counts. */
async function queued() {
  const page = (await (
    await fetch(`${base}/api/v1/jobs?limit=1`, { headers: { authorization: `Bearer ${tl.adminToken}` } })
  ).json()) as any;
  const counts = await tl.queue.getJobCounts();
  return { newest: page.items[0]?.id ?? null, queue: Object.values(counts).reduce((a, b) => a + b, 0) };
}

async function cleanHosts(): Promise<void> {
  await labExec(labEnv, 'hv1', ['virsh', 'destroy', VM]);
  await labExec(labEnv, 'hv1', ['virsh', 'undefine', VM]);
  await labExec(labEnv, 'hv1', ['virsh', 'net-destroy', NET]);
  await labExec(labEnv, 'hv1', ['virsh', 'net-undefine', NET]);
  for (const h of HOSTS) {
    await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', BR]);
    if (ownsDefaults) {
      await labExec(labEnv, h, ['virsh', 'net-destroy', 'ovs-network']);
      await labExec(labEnv, h, ['virsh', 'net-undefine', 'ovs-network']);
      await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'del-br', 'ovsbr0']);
    } else
      for (const tag of [TAG, TAG_PTY]) {
        await labExec(labEnv, h, ['ovs-vsctl', '--if-exists', 'remove', 'Port', 'enp5s0f0', 'trunks', String(tag)]);
        await labExec(labEnv, h, [
          'virsh',
          'net-update',
          'ovs-network',
          'delete',
          'portgroup',
          `<portgroup name='vlan-${tag}'/>`,
          '--live',
          '--config',
        ]);
      }
  }
}

beforeAll(async () => {
  tl = await startTrunkline({ redisUrl: inject('redisUrl'), inventoryPath: inject('inventoryPath') });
  base = tl.url.replace(/\/graphql$/, '');
  ownsDefaults =
    (await status('hv1', 'ovs-vsctl', 'br-exists', 'ovsbr0')) === 2 && (await status('hv2', 'ovs-vsctl', 'br-exists', 'ovsbr0')) === 2;
});

afterAll(async () => {
  await receiver?.close();
  await tl?.stop();
  await cleanHosts();
  rmSync(work, { recursive: true, force: true });
});

describe('trunkline', () => {
  it('--help lists the command groups (snapshot); the launcher works through a symlink from anywhere', async () => {
    const help = await ok(['--help']);
    await expect(help.stdout).toMatchFileSnapshot('__snapshots__/cli-help.txt');
    // As `npm install -g /path/to/checkout` links it: a symlink elsewhere, run from another directory.
    mkdirSync(join(work, 'bin'));
    symlinkSync(BIN, join(work, 'bin', 'trunkline'));
    const version = await ok(['--version'], { bin: join(work, 'bin', 'trunkline'), cwd: tmpdir() });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('hosts: ls (table, read first), show (json), value columns, refresh as a job, register and remove', async () => {
    const table = await ok(['hosts', 'ls', '--refresh', '-o', 'table']);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'ADDRESS', 'STATUS', 'STALE', 'OBSERVED_AT', 'BRIDGES', 'PORTS', 'NETWORKS', 'VMS']);
    expect(
      rows.map((r) =>
        r
          .split(/\s+/)
          .slice(0, 4)
          .filter((_, i) => i !== 1),
      ),
    ).toEqual([
      ['hv1', 'REACHABLE', 'false'],
      ['hv2', 'REACHABLE', 'false'],
    ]);
    expect((await ok(['hosts', 'show', 'hv1', '-o', 'json'])).json).toMatchObject({
      name: 'hv1',
      status: 'REACHABLE',
      defaults: { uplink: 'enp5s0f0' },
    });
    // The default subcommand is ls; the default output off a terminal is json.
    expect((await ok(['hosts'])).stdout.startsWith('[')).toBe(true);
    expect((await ok(['hosts', '-o', 'value', '-c', 'name', '-c', 'status'])).stdout).toBe('hv1 REACHABLE\nhv2 REACHABLE\n');
    const refresh = await ok(['hosts', 'refresh', 'hv1', '--wait', '-o', 'json']);
    expect(refresh.json).toMatchObject({ kind: 'refreshHypervisor', state: 'SUCCEEDED', hypervisors: ['hv1'] });
    expect(refresh.stderr).toMatch(/hv1 +\[1\/1\] ok +read the state of hv1/);

    const inv = JSON.parse(readFileSync(inject('inventoryPath'), 'utf8')).hypervisors.find((h: any) => h.name === 'hv2');
    const reg = await ok([
      'hosts',
      'register',
      TMP_HOST,
      '--address',
      inv.address,
      '--user',
      inv.user,
      '--key',
      inv.privateKeyPath,
      '--fingerprint',
      inv.hostKeyFingerprint,
      '--wait',
      '-o',
      'json',
    ]);
    expect(reg.json).toMatchObject({ kind: 'refreshHypervisor', state: 'SUCCEEDED', hypervisors: [TMP_HOST] });
    expect(reg.stderr).toContain(`registered ${TMP_HOST}`);
    await ok(['hosts', 'rm', TMP_HOST]);
    const gone = await trunkline(['hosts', 'show', TMP_HOST]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`field name (path): UNKNOWN_HYPERVISOR: no hypervisor named "${TMP_HOST}"`);
  });

  it('webhook: create (json, the secret once), ls, show', async () => {
    receiver = await startReceiver(204);
    const made = await ok([
      'webhook',
      'create',
      receiver.url,
      '--events',
      'SUCCEEDED',
      '--ticket-prefix',
      TICKET,
      '--description',
      `cli ${sfx}`,
      '-o',
      'json',
    ]);
    expect(made.json.secret).toMatch(/^whsec_/);
    expect(made.json.endpoint).toMatchObject({
      url: receiver.url,
      enabled: true,
      filter: { eventTypes: ['SUCCEEDED'], ticketRefPrefix: TICKET },
    });
    const id = made.json.endpoint.id;
    expect((await ok(['webhook', 'ls', '-o', 'table'])).stdout).toMatch(
      new RegExp(`${id} +${receiver.url.replace(/[/.]/g, '\\$&')} +true +SUCCEEDED`),
    );
    expect((await ok(['webhook', 'show', id, '-o', 'yaml'])).stdout).toContain(`ticketRefPrefix: ${TICKET}`);
  });

  it('vlan ensure --dry-run prints the plan with its exact commands and queues nothing', async () => {
    const before = await queued();
    const dry = await ok(['vlan', 'ensure', String(TAG), '--hosts', 'hv1,hv2', '--dry-run', '-o', 'table']);
    expect(dry.stdout).toMatch(/^Plan: ensureVlan on hv1, hv2 \(dry run: nothing was queued\)\n/);
    expect(dry.stdout).toContain(`$ ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 enp5s0f0 -- add Port enp5s0f0 trunks ${TAG}`);
    expect(dry.stdout).toMatch(/\nhv2\n {2}1\. /);
    const plan = (await ok(['vlan', 'ensure', String(TAG), '--hosts', 'hv1,hv2', '--dry-run', '-o', 'json'])).json;
    expect(plan).toMatchObject({ kind: 'ensureVlan', hypervisors: HOSTS });
    expect(plan.steps.every((s: any) => typeof s.command === 'string')).toBe(true);
    expect(await queued()).toEqual(before);
    for (const h of HOSTS) expect(await on(h, 'ovs-vsctl', '--if-exists', 'get', 'Port', 'enp5s0f0', 'trunks')).not.toContain(String(TAG));
  });

  it('vlan ensure --wait: step lines per host, the outcome, exit 0; on both hosts; idempotent retries answer one job', async () => {
    const r = await ok([
      'vlan',
      'ensure',
      String(TAG),
      '--hosts',
      'hv1,hv2',
      '--name',
      `cli-${sfx}`,
      '--ticket',
      TICKET,
      '--wait',
      '-o',
      'table',
    ]);
    expect(r.stdout).toMatch(/^Accepted: job [0-9a-f-]{36} \(ensureVlan on hv1, hv2, ticket CHG-CLI-/);
    for (const h of HOSTS)
      expect(r.stdout).toMatch(new RegExp(`\\n${h} +\\[\\d/\\d\\] changed +ensure uplink enp5s0f0 on ovsbr0 trunks VLAN ${TAG}`));
    expect(r.stdout).toMatch(/\nJob [0-9a-f-]{36} SUCCEEDED in \d+\.\d s \(ensureVlan on hv1, hv2, ticket CHG-CLI-/);
    for (const h of HOSTS) {
      expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toContain(String(TAG));
      expect(await on(h, 'virsh', 'net-dumpxml', 'ovs-network')).toContain(`<portgroup name='vlan-${TAG}'>`);
    }
    const jobs = (await ok(['job', 'ls', '--ticket', TICKET, '-o', 'json'])).json;
    expect(jobs.map((j: any) => [j.kind, j.state])).toEqual([['ensureVlan', 'SUCCEEDED']]);

    const key = ['--idempotency-key', `cli-${sfx}`, '--no-wait', '-o', 'json'];
    const first = await ok(['vlan', 'ensure', String(TAG), '--hosts', 'hv1,hv2', ...key]);
    const again = await ok(['vlan', 'ensure', String(TAG), '--hosts', 'hv1,hv2', ...key]);
    expect(again.json.id).toBe(first.json.id);
    expect(again.stderr).toContain(`Idempotency-Key cli-${sfx}: already accepted; this is the first request's job ${first.json.id}`);
    const reused = await trunkline(['vlan', 'ensure', String(TAG), '--hosts', 'hv1', ...key]);
    expect(reused.code).toBe(2);
    expect(reused.stderr).toContain('IDEMPOTENCY_KEY_REUSED');
    await ok(['job', 'watch', first.json.id, '-o', 'json']);
  });

  it('vlan ls, show (table and json); the webhook got the ticket’s job, deliveries and redeliver', async () => {
    const list = (await ok(['vlan', 'ls', '-o', 'json'])).json;
    expect(list.find((v: any) => v.tag === TAG)).toMatchObject({ name: `cli-${sfx}`, carriedBy: HOSTS, missingOn: [] });
    const show = await ok(['vlan', 'show', String(TAG), '-o', 'table']);
    expect(show.stdout).toMatch(/^tag +1881\nname +cli-/);
    expect(show.stdout).toMatch(/\nhv1 +ovsbr0 +enp5s0f0 +TRUNKED +true\nhv2 +ovsbr0 +enp5s0f0 +TRUNKED +true\n/);
    expect(show.stdout).toMatch(/\nDrift\nnone\n/);

    const id = (await ok(['webhook', 'ls', '-o', 'value', '-c', 'id'])).stdout.trim();
    await receiver!.waitFor((rs) => rs.some((r) => r.json?.data?.ticketRef === TICKET), 'the ensureVlan job.succeeded');
    let deliveries: any[] = [];
    for (let i = 0; i < 100 && !deliveries.some((d) => d.status === 'SUCCEEDED'); i++) {
      deliveries = (await ok(['webhook', 'deliveries', id, '-o', 'json'])).json;
      if (!deliveries.some((d) => d.status === 'SUCCEEDED')) await new Promise((r) => setTimeout(r, 100));
    }
    const delivery = deliveries.find((d) => d.status === 'SUCCEEDED');
    expect(delivery).toMatchObject({ jobEventType: 'SUCCEEDED', type: 'job.succeeded', lastResponseCode: 204 });
    const shown = await ok(['webhook', 'delivery', id, delivery.id, '-o', 'table']);
    expect(shown.stdout).toMatch(/\nstatus +SUCCEEDED\n/);
    expect(shown.stdout).toMatch(/\nATTEMPT +AT +MS +CODE +ERROR +REDELIVERY\n1 +\S+ +\d+ +204 +false\n/);
    const again = await ok(['webhook', 'redeliver', id, delivery.id, '-o', 'json']);
    expect(again.json).toMatchObject({ id: delivery.id, redeliveries: 1 });
    await receiver!.waitFor((rs) => rs.filter((r) => r.headers['webhook-id'] === delivery.id).length === 2, 'the redelivery');
    expect((await ok(['webhook', 'update', id, '--disable', '-o', 'json'])).json).toMatchObject({ enabled: false });
    await ok(['webhook', 'rm', id]);
    expect((await ok(['webhook', 'ls', '-o', 'json'])).json).toEqual([]);
  });

  it('vlan verify with --timeout shorter than the job: exit 5, the job goes on; job watch follows it to the matrix', async () => {
    const r = await trunkline([
      'vlan',
      'verify',
      String(TAG),
      '--hosts',
      'hv1,hv2',
      '--isolation-from',
      '1002',
      '--ticket',
      TICKET,
      '--wait',
      '--timeout',
      '0.3',
      '-o',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(5);
    const job = JSON.parse(r.stdout);
    expect(['QUEUED', 'RUNNING']).toContain(job.state);
    expect(r.stderr).toContain(`error: WAIT_TIMEOUT: timed out after 0.3 s waiting for job ${job.id}`);
    expect(r.stderr).toContain(`hint: follow it: trunkline job watch ${job.id}`);
    const watched = await ok(['job', 'watch', job.id, '-o', 'table']);
    expect(watched.stdout).toMatch(new RegExp(`\\nJob ${job.id} SUCCEEDED in \\d+\\.\\d s \\(verifyVlan on hv1, hv2, ticket CHG-CLI-`));
    expect(watched.stdout).toContain(`VLAN ${TAG} works (isolated from 1002)`);
    expect(watched.stdout).toMatch(/\nhv1 +1881 +hv2 +REACH +3\/3 +[\d.]+ +ok\n/);
    expect(watched.stdout).toMatch(/\nhv2 +1002 +hv1 +ISOLATED +0\/3 +ok\n/);
    // The VLAN now shows it as its last verification, matrix included.
    const vlanShown = await ok(['vlan', 'show', String(TAG), '-o', 'table']);
    expect(vlanShown.stdout).toContain(`\nLast verification\njob ${job.id} SUCCEEDED, ended `);
    expect(vlanShown.stdout).toMatch(/\nhv1 +1881 +hv2 +REACH +3\/3 +[\d.]+ +ok\n/);
    // job show: every step with its command; job events; cancelling an ended job is refused (exit 2).
    const shown = await ok(['job', 'show', job.id, '-o', 'table']);
    expect(shown.stdout).toMatch(/\nSteps\n {2}hv1 1\. changed {2}create probes on hv1/);
    expect((await ok(['job', 'events', job.id, '-o', 'value', '-c', 'type'])).stdout.trim().split('\n').at(-1)).toBe('SUCCEEDED');
    const cancel = await trunkline(['job', 'cancel', job.id]);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toContain('JOB_FINISHED');
  });

  it('on a terminal: waits by default, per-host progress bars, coloured states (a pty via script)', async () => {
    const cmd = `bash ${BIN} vlan ensure ${TAG_PTY} --hosts hv1,hv2 --ticket ${TICKET}`;
    const r = await new Promise<Run>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, TRUNKLINE_URL: tl.url, TRUNKLINE_TOKEN: tl.adminToken, TERM: 'xterm-256color' };
      delete env.NO_COLOR;
      delete env.FORCE_COLOR;
      // An operator's terminal, not CI's: Node counts a terminal under CI=… as colourless (tty.getColorDepth).
      delete env.CI;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(r.code, r.stdout).toBe(0);
    const screen = stripVTControlCharacters(r.stdout);
    for (const h of HOSTS) expect(screen).toMatch(new RegExp(`${h} [░█]+ (\\d+)/\\1 SUCCEEDED`));
    expect(r.stdout).toContain('\u001b[32mSUCCEEDED\u001b[39m');
    expect(screen).toMatch(/Job [0-9a-f-]{36} SUCCEEDED/);
    for (const h of HOSTS) expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).toContain(String(TAG_PTY));
  });

  it('exit 2: a refused input names the field and its flag, and nothing is queued or changed', async () => {
    const before = await queued();
    const r = await trunkline(['vlan', 'ensure', String(TAG_REFUSED), '--hosts', 'hv1,nosuch', '--wait']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: UNKNOWN_HYPERVISOR: hypervisors.1: no hypervisor named "nosuch"');
    expect(r.stderr).toContain('field hypervisors.1 (body, --hosts): UNKNOWN_HYPERVISOR: no hypervisor named "nosuch"');
    const name = await trunkline(['vlan', 'ensure', String(TAG_REFUSED), '--hosts', 'hv1', '--name', '!bad', '--no-wait']);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/field name \(body, --name\): INVALID_INPUT: /);
    const usage = await trunkline(['vlan', 'ensure', '5000', '--hosts', 'hv1']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: command-argument value '5000' is invalid for argument 'tag'. a VLAN id is 1..4094");
    expect(await queued()).toEqual(before);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).not.toContain(String(TAG_REFUSED));
  });

  it('bridge and port: create, ls, show, add, set-vlans; a port add that fails on the host is exit 1 with its rollback', async () => {
    const made = await ok(['bridge', 'create', 'hv1', BR, '--ticket', TICKET, '--wait', '-o', 'json']);
    expect(made.json).toMatchObject({ kind: 'createBridge', state: 'SUCCEEDED' });
    expect(await status('hv1', 'ovs-vsctl', 'br-exists', BR)).toBe(0);
    expect((await ok(['bridge', 'ls', 'hv1', '-o', 'table'])).stdout).toMatch(new RegExp(`\\nhv1 +${BR} +\\w+ +${BR}\\n`));
    expect((await ok(['bridge', 'show', 'hv1', BR, '-o', 'json'])).json).toMatchObject({ hypervisor: 'hv1', name: BR });

    await ok(['port', 'add', 'hv1', BR, PORT, '--type', 'internal', '--tag', String(TAG_PORT), '--wait', '-o', 'json']);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'tag')).toBe(String(TAG_PORT));
    expect((await ok(['port', 'ls', 'hv1', BR, '-o', 'value', '-c', 'name', '-c', 'tag'])).stdout).toContain(`${PORT} ${TAG_PORT}\n`);
    await ok(['port', 'set-vlans', 'hv1', PORT, '--trunks', `${TAG_PORT},${TAG_PORT + 1}`, '--wait', '-o', 'json']);
    expect(await on('hv1', 'ovs-vsctl', 'get', 'Port', PORT, 'trunks')).toBe(`[${TAG_PORT}, ${TAG_PORT + 1}]`);
    expect(parse((await ok(['port', 'show', 'hv1', PORT, '-o', 'yaml'])).stdout)).toMatchObject({
      name: PORT,
      tag: null,
      trunks: [TAG_PORT, TAG_PORT + 1],
    });

    const failed = await trunkline(['port', 'add', 'hv1', BR, NODEV, '--tag', String(TAG_PORT), '--wait', '-o', 'table']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`\\nhv1 +\\[1/1\\] FAILED +ensure port ${NODEV} on ${BR}`));
    expect(failed.stdout).toContain(`could not open network device ${NODEV} (No such device)`);
    expect(failed.stdout).toMatch(/\nJob [0-9a-f-]{36} FAILED in /);
    expect(failed.stdout).toContain('error: OVS_INTERFACE_ERROR: ');
    expect(failed.stdout).toContain(`rollback on hv1: SUCCEEDED: ensure port ${NODEV}`);
    expect(await status('hv1', 'ovs-vsctl', 'port-to-br', NODEV)).not.toBe(0);
  });

  it('network and portgroup: define, ls, show, add, rm; vm: define, nic attach/set-portgroup/detach, start, stop, undefine', async () => {
    await ok([
      'network',
      'define',
      'hv1',
      NET,
      '--bridge',
      BR,
      '--portgroup',
      'vlan-0001:default',
      '--portgroup',
      `vlan-${TAG_PG}=${TAG_PG}`,
      '--wait',
      '-o',
      'json',
    ]);
    expect(await on('hv1', 'virsh', 'net-dumpxml', NET)).toContain(`<portgroup name='vlan-${TAG_PG}'>`);
    expect((await ok(['network', 'ls', 'hv1', '-o', 'table'])).stdout).toMatch(
      new RegExp(`\\nhv1 +${NET} +true +true +${BR} +bridge +openvswitch +vlan-0001,vlan-${TAG_PG}\\n`),
    );
    expect(
      (await ok(['network', 'show', 'hv1', NET, '-o', 'json'])).json.portgroups.map((p: any) => [p.name, p.isDefault, p.vlanTags]),
    ).toEqual([
      ['vlan-0001', true, []],
      [`vlan-${TAG_PG}`, false, [TAG_PG]],
    ]);
    await ok(['network', 'portgroup', 'add', 'hv1', NET, `vlan-${TAG_PG2}`, '--vlans', String(TAG_PG2), '--wait', '-o', 'json']);
    expect((await ok(['network', 'pg', 'ls', 'hv1', NET, '-o', 'value', '-c', 'name'])).stdout).toBe(
      `vlan-0001\nvlan-${TAG_PG}\nvlan-${TAG_PG2}\n`,
    );

    await ok([
      'vm',
      'define',
      'hv1',
      VM,
      '--memory',
      '32',
      '--nic',
      `network=${NET},portgroup=vlan-${TAG_PG},mac=${MAC1}`,
      '--wait',
      '-o',
      'json',
    ]);
    expect((await ok(['vm', 'ls', 'hv1', '-o', 'table'])).stdout).toMatch(
      new RegExp(`\\nhv1 +${VM} +shut off +1 +32 +${MAC1}@vlan-${TAG_PG}\\n`),
    );
    await ok([
      'vm',
      'interface',
      'attach',
      'hv1',
      VM,
      '--network',
      NET,
      '--portgroup',
      `vlan-${TAG_PG2}`,
      '--mac',
      MAC2,
      '--wait',
      '-o',
      'json',
    ]);
    await ok(['vm', 'interface', 'set-portgroup', 'hv1', VM, MAC2, `vlan-${TAG_PG}`, '--wait', '-o', 'json']);
    expect((await ok(['vm', 'nic', 'ls', 'hv1', VM, '-o', 'value', '-c', 'mac', '-c', 'portgroup'])).stdout).toBe(
      `${MAC1} vlan-${TAG_PG}\n${MAC2} vlan-${TAG_PG}\n`,
    );
    await ok(['vm', 'interface', 'detach', 'hv1', VM, MAC2, '--wait', '-o', 'json']);
    expect(await on('hv1', 'virsh', 'domiflist', VM)).not.toContain(MAC2);
    await ok(['network', 'portgroup', 'rm', 'hv1', NET, `vlan-${TAG_PG2}`, '--wait', '-o', 'json']);
    await ok(['vm', 'start', 'hv1', VM, '--wait', '-o', 'json']);
    expect((await ok(['vm', 'show', 'hv1', VM, '-o', 'json'])).json).toMatchObject({
      state: 'running',
      interfaces: [{ mac: MAC1, vlanTags: [TAG_PG] }],
    });
    await ok(['vm', 'stop', 'hv1', VM, '--force', '--shutdown-timeout', '1', '--wait', '-o', 'json']);
    await ok(['vm', 'undefine', 'hv1', VM, '--wait', '-o', 'json']);
    expect(await status('hv1', 'virsh', 'dominfo', VM)).not.toBe(0);
    await ok(['network', 'delete', 'hv1', NET, '--wait', '-o', 'json']);
    expect(await status('hv1', 'virsh', 'net-info', NET)).not.toBe(0);
    await ok(['port', 'rm', 'hv1', PORT, '--wait', '-o', 'json']);
    await ok(['bridge', 'delete', 'hv1', BR, '--wait', '-o', 'json']);
    expect(await status('hv1', 'ovs-vsctl', 'br-exists', BR)).toBe(2);
  });

  it('vlan remove --wait takes a VLAN off both hosts; the last VLAN of an uplink is refused (exit 2), an empty trunk carries every VLAN', async () => {
    const r = await ok(['vlan', 'remove', String(TAG), '--hosts', 'hv1,hv2', '--ticket', TICKET, '--wait', '-o', 'json']);
    expect(r.json).toMatchObject({ kind: 'removeVlan', state: 'SUCCEEDED' });
    for (const h of HOSTS) expect(await on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')).not.toContain(String(TAG));
    const last = (await Promise.all(HOSTS.map((h) => on(h, 'ovs-vsctl', 'get', 'Port', 'enp5s0f0', 'trunks')))).every(
      (t) => t === `[${TAG_PTY}]`,
    );
    const rm = await trunkline(['vlan', 'remove', String(TAG_PTY), '--hosts', 'hv1,hv2', '--wait', '-o', 'json']);
    if (last) {
      expect(rm.code).toBe(2);
      expect(rm.stderr).toMatch(/field tag \(path, <tag>\): WOULD_TRUNK_ALL_VLANS: VLAN 1882 is the last VLAN on uplink enp5s0f0 of hv1/);
    } else expect(rm.code, rm.stderr).toBe(0);
  });

  it('token: whoami, create, ls, show, host groups, revoke; a viewer token changing something and a revoked one are exit 4', async () => {
    expect((await ok(['token', 'whoami', '-o', 'json'])).json).toMatchObject({ name: 'test-admin', role: 'admin', hostGroups: null });
    const made = await ok(['token', 'create', `cli-${sfx}`, '--role', 'viewer', '--expires', '1d', '-o', 'json']);
    const { secret, token } = made.json;
    expect(secret).toMatch(/^tl_[0-9a-f]+_/);
    expect((await ok(['token', 'ls', '-o', 'value', '-c', 'name', '-c', 'role'])).stdout).toContain(`cli-${sfx} viewer\n`);
    expect((await ok(['token', 'show', token.id, '-o', 'table'])).stdout).toMatch(
      new RegExp(`^id +${token.id}\\nname +cli-${sfx}\\nrole +viewer\\n`),
    );
    const viewer = { env: { TRUNKLINE_TOKEN: secret } };
    expect((await ok(['token', 'whoami', '-o', 'json'], viewer)).json).toMatchObject({ name: `cli-${sfx}`, role: 'viewer' });
    const forbidden = await trunkline(['bridge', 'create', 'hv1', BR, '--no-wait'], viewer);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toContain('error: FORBIDDEN: ');

    await ok(['token', 'group', 'set', `cli-${sfx}`, '--hosts', 'hv1', '--description', 'the CLI test', '-o', 'json']);
    expect((await ok(['token', 'group', 'ls', '-o', 'table'])).stdout).toMatch(new RegExp(`\\ncli-${sfx} +hv1 +the CLI test +`));
    expect((await ok(['token', 'group', 'show', `cli-${sfx}`, '-o', 'json'])).json).toMatchObject({ hypervisors: ['hv1'] });
    await ok(['token', 'group', 'rm', `cli-${sfx}`]);

    expect((await ok(['token', 'revoke', token.id, '-o', 'json'])).json.revokedAt).not.toBeNull();
    let revoked: Run | undefined;
    for (let i = 0; i < 30 && revoked?.code !== 4; i++) {
      revoked = await trunkline(['token', 'whoami'], viewer);
      if (revoked.code !== 4) await new Promise((r) => setTimeout(r, 200));
    }
    expect(revoked!.code).toBe(4);
    expect(revoked!.stderr).toContain('UNAUTHENTICATED');
  });

  it('exit 3 where nothing listens, 4 with a bad token or none; the URL may be given as …/graphql or …/api/v1', async () => {
    const port = await freePort();
    const down = await trunkline(['hosts'], { env: { TRUNKLINE_URL: `http://127.0.0.1:${port}` } });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`error: GATEWAY_UNREACHABLE: cannot reach the gateway at http://127.0.0.1:${port}: ECONNREFUSED`);
    const bad = await trunkline(['hosts'], { env: { TRUNKLINE_TOKEN: 'tl_0000000000000000_bad' } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('error: UNAUTHENTICATED: ');
    expect((await trunkline(['hosts'], { env: { TRUNKLINE_TOKEN: undefined } })).code).toBe(4);
    for (const url of [tl.url, `${base}/api/v1/`, `${base}/`])
      expect((await ok(['hosts', '-o', 'value', '-c', 'name'], { env: { TRUNKLINE_URL: url } })).stdout).toBe('hv1\nhv2\n');
  });

  it('configuration: a config file with url and tokenFile; flag > env > file', async () => {
    writeFileSync(join(work, 'token'), `${tl.adminToken}\n`);
    writeFileSync(join(work, 'config.yaml'), `url: ${tl.url}\ntokenFile: token\n`);
    const fromFile = { TRUNKLINE_URL: undefined, TRUNKLINE_TOKEN: undefined, TRUNKLINE_CONFIG: join(work, 'config.yaml') };
    expect((await ok(['token', 'whoami', '-o', 'value', '-c', 'name'], { env: fromFile })).stdout).toBe('test-admin\n');
    // The default place: $XDG_CONFIG_HOME/trunkline/config.yaml.
    mkdirSync(join(work, 'xdg2', 'trunkline'), { recursive: true });
    writeFileSync(join(work, 'xdg2', 'trunkline', 'config.yaml'), `url: ${base}\ntoken: ${tl.adminToken}\n`);
    const xdg = { TRUNKLINE_URL: undefined, TRUNKLINE_TOKEN: undefined, XDG_CONFIG_HOME: join(work, 'xdg2') };
    expect((await ok(['token', 'whoami', '-o', 'value', '-c', 'role'], { env: xdg })).stdout).toBe('admin\n');
    // env beats the file, the flag beats env.
    const envBad = { ...fromFile, TRUNKLINE_TOKEN: 'tl_0000000000000000_bad' };
    expect((await trunkline(['token', 'whoami'], { env: envBad })).code).toBe(4);
    expect((await ok(['--token', tl.adminToken, 'token', 'whoami', '-o', 'json'], { env: envBad })).json.name).toBe('test-admin');
    const port = await freePort();
    expect((await trunkline(['--url', `http://127.0.0.1:${port}`, 'token', 'whoami'], { env: fromFile })).code).toBe(3);
  });

  it('completion bash completes from the command tree', async () => {
    const script = (await ok(['completion', 'bash'])).stdout;
    writeFileSync(join(work, 'completion.bash'), script);
    const complete = await new Promise<string>((resolve) => {
      const child = spawn('bash', [
        '-c',
        `source ${join(work, 'completion.bash')}; COMP_WORDS=(trunkline vlan ensure 1003 --h); COMP_CWORD=4; _trunkline; echo "\${COMPREPLY[*]}"`,
      ]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', () => resolve(out.trim()));
    });
    expect(complete).toBe('--hosts --help');
    expect((await ok(['completion', 'zsh'])).stdout).toMatch(/^#compdef trunkline\n/);
  });
});

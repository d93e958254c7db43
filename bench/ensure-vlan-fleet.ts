/**
 * Benchmark: ensureVlan for one new VLAN across 1, 2, 4 and 8 lab hypervisors, against the same
 * change made by an Ansible playbook (Debian 12's ansible 7.7: openvswitch.openvswitch and
 * community.libvirt collections) and by a plain parallel shell loop of `ssh host 'sudo ...'`.
 *
 *   node bench/ensure-vlan-fleet.ts       (npm run bench:vlan-fleet; root, like the lab)
 *
 * Brings up its own lab (LAB_NAME=tle, LAB_NET=6 = 198.18.6.0/24, 8 hosts), a private
 * redis-server on loopback, the REAL gateway and TWO REAL workers (NODE_ENV=production, log level
 * warn, no scheduled refresh) on a private key prefix.
 *   prepare   (untimed, through the API) hypervisors(refresh: true); ensureVlan 1001 on hv1..hv8
 *             (bridge ovsbr0, uplink enp5s0f0 trunking 1001, network ovs-network with vlan-0001
 *             default + vlan-1001); addPortgroup vlan-all (trunk [1001]) on each host.
 *   ansible   (untimed set-up) a temporary account `tlansible` (NOPASSWD: ALL in
 *             /etc/sudoers.d/trunkline-bench-ansible: Ansible's `become` runs `sudo /bin/sh -c
 *             python3 ...`, which the lab's `trunkline` account may not) reached through a SECOND
 *             sshd per host on port 2222 inside the host's namespaces (the lab's sshd allows only
 *             `trunkline`; infra/lab.sh is not touched), with the lab's client key and host key.
 *             bench/ansible/ensure-vlan.yml; pipelining on, forks 8, gather_facts off, Python
 *             interpreter given (no discovery), strict host key checking against a known_hosts
 *             made from the lab's, SSH ControlPersist (Ansible's default) so reruns reuse
 *             connections.
 *   timed     for N = 1, 2, 4, 8 (hv1..hvN), each run on a NEW tag so that it really changes
 *             the hosts (Trunkline 1101.., Ansible 1201.., loop 1301..), checked on the hosts
 *             afterwards (uplink trunks, portgroup vlan-T, vlan-all includes T):
 *               Trunkline  ensureVlan(input: {tag, hypervisors}) from sending the mutation to the
 *                          job's SUCCEEDED on jobProgress (SSE); changedSteps > 0; then the same
 *                          input again (rerun: changed steps must be 0). The cache is refreshed
 *                          (untimed) before each first run: the other methods change the hosts
 *                          behind Trunkline's back, and trunk portgroups are planned from the cache.
 *               Ansible    ansible-playbook --limit hv1..hvN -e tag=T, then a rerun (recap changed=).
 *               loop       one `ssh -i KEY trunkline@HOST 'sudo -n ovs-vsctl ...; sudo -n virsh
 *                          net-update ... add ...; sudo -n virsh net-update ... modify vlan-all'`
 *                          per host, all at once, fresh ssh processes, wait for all. The loop
 *                          knows vlan-all's current tags (the benchmark tracks them): it reads nothing.
 *   teardown  everything it created, also after a failure or Ctrl-C: Ansible's SSH control
 *             masters, the extra sshds, the account and its sudoers file, temp files, the
 *             processes, Redis keys and server, the lab.
 * All traffic goes to 127.0.0.1 and the lab's namespaces. Prints tables and writes JSON to
 * .trunkline/bench/ensure-vlan-fleet.json. Figures only: nothing here fails on timing.
 *
 * Env: BENCH_RUNS (3) Trunkline and loop runs per N (median reported), BENCH_ANSIBLE_RUNS (1)
 *      Ansible runs per N (each followed by one rerun), BENCH_SKIP_ANSIBLE=1 leaves Ansible out.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Host } from '../src/inventory/host-registry.ts';
import { InventoryFileSource } from '../src/inventory/inventory-file.ts';
import { gql, subscribeSse } from '../test/support/graphql-client.ts';
import { mutate } from './support/mutate.ts';
import { labSshArgs } from '../test/support/ssh-args.ts';
import { labExec, type LabEnv } from '../test/support/lab.ts';
import { onCleanup, runBenchmark } from './support/cleanup.ts';
import { measureCpu, type CpuSplit } from './support/cpu.ts';
import { freshLab } from './support/fresh-lab.ts';
import { startRedisServer } from './support/redis-server.ts';
import { describeGit, machine, ROOT, writeResults } from './support/results.ts';
import { fmt, percentile, round, table } from './support/stats.ts';
import { startBenchDeployment } from './support/trunkline-process.ts';
import { envInt } from './support/env.ts';

const RUNS = envInt('BENCH_RUNS', 3);
const ANSIBLE_RUNS = envInt('BENCH_ANSIBLE_RUNS', 1);
const SKIP_ANSIBLE = process.env.BENCH_SKIP_ANSIBLE === '1';
const SIZES = [1, 2, 4, 8] as const;
const TARGET_ANSIBLE_RATIO = 8;
const TARGET_LOOP_RATIO = 1.5;
const JOB_DEADLINE_MS = 120_000;
const ANSIBLE_DEADLINE_MS = 300_000;
const SSH_DEADLINE_MS = 60_000;

const LAB: LabEnv = { LAB_NAME: 'tle', LAB_NET: '6', LAB_HOSTS: '8' };
const LAB_DIR = `/run/trunkline/lab-${LAB.LAB_NAME}`;
const INVENTORY_PATH = `${LAB_DIR}/inventory.json`;
const KNOWN_HOSTS = `${LAB_DIR}/known_hosts`;
const HOSTS = Array.from({ length: 8 }, (_, i) => `hv${i + 1}`);
const BASE_TAG = 1001;
const TAG_BASE = { trunkline: 1101, ansible: 1201, loop: 1301 } as const;

const ANSIBLE_USER = 'tlansible';
const ANSIBLE_GECOS = 'trunkline bench ensure-vlan-fleet (temporary)';
const ANSIBLE_SUDOERS = '/etc/sudoers.d/trunkline-bench-ansible';
const ANSIBLE_PORT = 2222;
const PLAYBOOK = join(ROOT, 'bench', 'ansible', 'ensure-vlan.yml');
const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';

const log = (s = '') => console.log(s);
const step = (s: string) => console.error(`[vlan-fleet] ${s}`);
const execFileP = promisify(execFile);
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);
const median = (xs: number[]) => percentile(xs.filter(Number.isFinite), 50);
const pgName = (tag: number) => `vlan-${String(tag).padStart(4, '0')}`;

// ---- GraphQL (the public API, as a script would use it) -------------------------------------------

interface ProgressEvent {
  type: string;
  at: string;
  receivedAt: number;
}

/** Follows a job with jobProgress until the server completes the stream. */
async function follow(url: string, jobId: string, onTerminal?: () => void): Promise<ProgressEvent[]> {
  const events: ProgressEvent[] = [];
  const q = 'subscription($id: ID!) { jobProgress(id: $id) { type at } }';
  for await (const msg of subscribeSse<{ jobProgress: { type: string; at: string } }>(
    url,
    q,
    { id: jobId },
    AbortSignal.timeout(JOB_DEADLINE_MS),
  )) {
    if (msg.errors || !msg.data) throw new Error(`jobProgress ${jobId}: ${JSON.stringify(msg.errors)}`);
    events.push({ ...msg.data.jobProgress, receivedAt: Date.now() });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(msg.data.jobProgress.type)) onTerminal?.();
  }
  return events;
}

interface JobRecord {
  id: string;
  state: string;
  changedSteps: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  hosts: Array<{ host: string; startedAt: string | null; finishedAt: string | null }>;
  steps: Array<{
    host: string;
    description: string;
    changed: boolean | null;
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
  }>;
}

async function jobRecord(url: string, id: string): Promise<JobRecord> {
  const res = await gql(
    url,
    'query($id: ID!) { job(id: $id) { id state changedSteps createdAt startedAt finishedAt error { code message } hosts { host: hypervisor startedAt finishedAt } steps { host description changed startedAt finishedAt durationMs } } }',
    { id },
  );
  if (res.errors || !res.data?.job) throw new Error(`job ${id}: ${JSON.stringify(res.errors)}`);
  return res.data.job as JobRecord;
}

interface TrunklineRun {
  tag: number;
  n: number;
  totalMs: number;
  sentAt: number;
  job: JobRecord;
  events: ProgressEvent[];
}

/** One change through Trunkline, timed from sending the mutation to receiving SUCCEEDED. */
async function trunklineRun(
  url: string,
  name: string,
  input: Record<string, unknown>,
): Promise<{ totalMs: number; sentAt: number; job: JobRecord; events: ProgressEvent[] }> {
  const sentAt = Date.now();
  const t0 = performance.now();
  let t1 = NaN;
  const id = await mutate(url, name, input);
  const events = await follow(url, id, () => (t1 = performance.now()));
  const job = await jobRecord(url, id);
  if (job.state !== 'SUCCEEDED')
    throw new Error(`${name} ${JSON.stringify(input)}: job ${id} ended ${job.state}: ${JSON.stringify(job.error)}`);
  return { totalMs: t1 - t0, sentAt, job, events };
}

async function refreshAll(url: string): Promise<void> {
  const res = await gql(url, '{ hypervisors(refresh: true) { name status } }');
  if (res.errors) throw new Error(`hypervisors(refresh: true): ${JSON.stringify(res.errors)}`);
  const bad = (res.data.hypervisors as Array<{ name: string; status: string }>).filter((h) => h.status !== 'REACHABLE');
  if (bad.length) throw new Error(`hypervisors(refresh: true): not REACHABLE: ${JSON.stringify(bad)}`);
}

// ---- checking the hosts (untimed, as root inside each host) ---------------------------------------
/** What a host has for VLAN handling: the uplink's trunks, portgroups (live and persistent). */
async function hostVlanState(host: string): Promise<{ trunks: number[]; live: Map<string, number[]>; config: Map<string, number[]> }> {
  const r = await labExec(LAB, host, [
    'sh',
    '-c',
    'ovs-vsctl --timeout=10 get Port enp5s0f0 trunks; echo ===; virsh -q net-dumpxml ovs-network; echo ===; virsh -q net-dumpxml --inactive ovs-network',
  ]);
  if (r.code !== 0) throw new Error(`${host}: reading VLAN state failed: ${r.stderr}`);
  const [trunks, live, config] = r.stdout.split('===\n');
  const pgs = (xml: string) =>
    new Map(
      [...xml.matchAll(/<portgroup name='([^']+)'[^>]*>([\s\S]*?)<\/portgroup>|<portgroup name='([^']+)'[^>]*\/>/g)].map((m) => [
        m[1] ?? m[3]!,
        [...(m[2] ?? '').matchAll(/<tag id='(\d+)'/g)].map((t) => Number(t[1])),
      ]),
    );
  return {
    trunks: (trunks ?? '')
      .replace(/[[\]\s]/g, '')
      .split(',')
      .filter(Boolean)
      .map(Number),
    live: pgs(live ?? ''),
    config: pgs(config ?? ''),
  };
}

/** Throws unless every host carries the tag: uplink trunk, portgroup vlan-T, vlan-all (live and persistent). */
async function checkHosts(hosts: string[], tag: number, method: string): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      const s = await hostVlanState(h);
      if (!s.trunks.includes(tag)) problems.push(`${h}: uplink trunks ${s.trunks.join(',')} lack ${tag}`);
      for (const [which, pgs] of [
        ['live', s.live],
        ['persistent', s.config],
      ] as const) {
        if (JSON.stringify(pgs.get(pgName(tag))) !== JSON.stringify([tag]))
          problems.push(`${h}: ${which} portgroup ${pgName(tag)} = ${JSON.stringify(pgs.get(pgName(tag)))}`);
        if (!pgs.get('vlan-all')?.includes(tag))
          problems.push(`${h}: ${which} vlan-all = ${JSON.stringify(pgs.get('vlan-all'))} lacks ${tag}`);
      }
    }),
  );
  if (problems.length) throw new Error(`${method}, tag ${tag}: hosts not as wanted:\n  ${problems.join('\n  ')}`);
}

// ---- the plain loop --------------------------------------------------------------------------------
function sshArgs(host: Host): string[] {
  return labSshArgs({ identity: host.privateKeyPath, knownHosts: KNOWN_HOSTS, user: host.user, address: host.address, port: host.port });
}

/** The floor: what an operator types, one fresh ssh per host, all at once. */
function loopCommand(tag: number, vlanAllTags: number[]): string {
  const pg = `<portgroup name='${pgName(tag)}'><vlan><tag id='${tag}'/></vlan></portgroup>`;
  const all = `<portgroup name='vlan-all'><vlan trunk='yes'>${vlanAllTags.map((t) => `<tag id='${t}'/>`).join('')}</vlan></portgroup>`;
  return [
    `sudo -n ovs-vsctl --may-exist add-br ovsbr0 -- add Port enp5s0f0 trunks ${tag}`,
    `sudo -n virsh -q net-update ovs-network add portgroup "${pg}" --live --config`,
    `sudo -n virsh -q net-update ovs-network modify portgroup "${all}" --live --config`,
  ].join(' && ');
}

async function loopRun(hosts: Host[], tag: number, vlanAll: Map<string, Set<number>>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    hosts.map((h) =>
      execFileP(
        'ssh',
        [
          ...sshArgs(h),
          loopCommand(
            tag,
            [...vlanAll.get(h.name)!, tag].sort((a, b) => a - b),
          ),
        ],
        { timeout: SSH_DEADLINE_MS },
      ),
    ),
  );
  return performance.now() - t0;
}

// ---- Ansible ---------------------------------------------------------------------------------------
interface AnsibleEnv {
  dir: string;
  env: Record<string, string>;
}

async function run(argv: string[], opts: { input?: string; timeout?: number; env?: Record<string, string> } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = opts.env ? { ...process.env, ...opts.env } : process.env;
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: opts.timeout ?? 60_000, env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${argv.join(' ').slice(0, 200)}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** The temporary account, its sudoers file, a second sshd per host and Ansible's config files. */
async function setUpAnsible(hosts: Host[]): Promise<AnsibleEnv> {
  for (const bin of [ANSIBLE_PLAYBOOK, '/usr/bin/ansible-doc'])
    if (!existsSync(bin)) throw new Error(`${bin} missing: apt-get install -y ansible python3-libvirt python3-lxml`);
  // Everything Ansible writes on this machine (its home, local temp, SSH control sockets) goes here.
  const dir = mkdtempSync(join(tmpdir(), 'tle-ansible-'));
  onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const env = {
    ANSIBLE_CONFIG: join(dir, 'ansible.cfg'),
    ANSIBLE_HOME: join(dir, 'home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'local-tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
  };
  const docEnv = { ANSIBLE_HOME: env.ANSIBLE_HOME, ANSIBLE_LOCAL_TEMP: env.ANSIBLE_LOCAL_TEMP };
  const modules = await run(['/usr/bin/ansible-doc', '-l', 'openvswitch.openvswitch'], { timeout: 120_000, env: docEnv }).catch(() => '');
  const libvirtModules = await run(['/usr/bin/ansible-doc', '-l', 'community.libvirt'], { timeout: 120_000, env: docEnv }).catch(() => '');
  for (const m of ['openvswitch_bridge', 'openvswitch_port', 'openvswitch_db'])
    if (!modules.includes(`openvswitch.openvswitch.${m}`)) throw new Error(`Ansible module openvswitch.openvswitch.${m} not found`);
  if (!libvirtModules.includes('community.libvirt.virt_net')) throw new Error('Ansible module community.libvirt.virt_net not found');
  await run(['/usr/bin/python3', '-c', 'import libvirt, lxml']).catch(() => {
    throw new Error('python3-libvirt / python3-lxml missing: apt-get install -y python3-libvirt python3-lxml');
  });

  // The account: refuse to touch one that is not ours (a leftover of ours is removed first).
  const existing = await run(['getent', 'passwd', ANSIBLE_USER]).catch(() => '');
  if (existing) {
    if (!existing.includes(ANSIBLE_GECOS))
      throw new Error(`account ${ANSIBLE_USER} exists and is not this benchmark's: refusing to use or remove it`);
    step(`removing a leftover ${ANSIBLE_USER} account of an earlier run`);
    await run(['userdel', '-r', ANSIBLE_USER]).catch(() => {});
  }
  onCleanup(`remove account ${ANSIBLE_USER}`, async () => {
    const now = await run(['getent', 'passwd', ANSIBLE_USER]).catch(() => '');
    if (now.includes(ANSIBLE_GECOS))
      await run(['userdel', '-r', ANSIBLE_USER]).catch((e) =>
        run(['userdel', '-f', '-r', ANSIBLE_USER]).catch(() => {
          throw e;
        }),
      );
    step(`account ${ANSIBLE_USER} removed`);
  });
  await run(['useradd', '--create-home', '--shell', '/bin/sh', '--comment', ANSIBLE_GECOS, ANSIBLE_USER]);
  await run(['usermod', '-p', '*', ANSIBLE_USER]); // a usable password field, or sshd says "account is locked"

  const sudoersTmp = join(dir, 'sudoers');
  writeFileSync(sudoersTmp, `# ${ANSIBLE_GECOS}: Ansible's become runs sudo /bin/sh -c ...\n${ANSIBLE_USER} ALL=(ALL) NOPASSWD: ALL\n`, {
    mode: 0o440,
  });
  await run(['visudo', '-cf', sudoersTmp]);
  onCleanup(`remove ${ANSIBLE_SUDOERS}`, () => rmSync(ANSIBLE_SUDOERS, { force: true }));
  writeFileSync(ANSIBLE_SUDOERS, readFileSync(sudoersTmp), { mode: 0o440 });
  await run(['visudo', '-c']);

  // A second sshd per host, inside the host's namespaces, for the account only.
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${hosts[0]!.privateKeyPath}.pub`), { mode: 0o644 });
  const knownHosts: string[] = [];
  const labKnown = readFileSync(KNOWN_HOSTS, 'utf8').split('\n').filter(Boolean);
  for (const h of hosts) {
    const cfg = join(dir, `sshd-${h.name}.conf`);
    writeFileSync(
      cfg,
      [
        `# ${ANSIBLE_GECOS}`,
        `ListenAddress ${h.address}:${ANSIBLE_PORT}`,
        `HostKey ${LAB_DIR}/${h.name}/ssh/ssh_host_ed25519_key`,
        `PidFile ${join(dir, `sshd-${h.name}.pid`)}`,
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin no',
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `AllowUsers ${ANSIBLE_USER}`,
        'MaxSessions 10',
        'StrictModes no',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        'X11Forwarding no',
        '',
      ].join('\n'),
    );
    onCleanup(`stop bench sshd on ${h.name}`, () => stopSshd(join(dir, `sshd-${h.name}.pid`)));
    const r = await labExec(LAB, h.name, ['/usr/sbin/sshd', '-f', cfg, '-E', join(dir, `sshd-${h.name}.log`)]);
    if (r.code !== 0) throw new Error(`${h.name}: bench sshd did not start: ${r.stderr}`);
    const line = labKnown.find((l) => l.startsWith(`${h.address} `));
    if (!line) throw new Error(`${KNOWN_HOSTS}: no key for ${h.address}`);
    knownHosts.push(`[${h.address}]:${ANSIBLE_PORT} ${line.slice(h.address.length + 1)}`);
  }
  writeFileSync(join(dir, 'known_hosts'), `${knownHosts.join('\n')}\n`);

  writeFileSync(
    join(dir, 'inventory.ini'),
    `[all]\n${hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${ANSIBLE_PORT}`).join('\n')}\n\n[all:vars]\nansible_user=${ANSIBLE_USER}\nansible_python_interpreter=/usr/bin/python3\nansible_ssh_private_key_file=${hosts[0]!.privateKeyPath}\n`,
  );
  writeFileSync(
    join(dir, 'ansible.cfg'),
    [
      '[defaults]',
      `inventory = ${join(dir, 'inventory.ini')}`,
      'forks = 8',
      'host_key_checking = True',
      'gathering = explicit',
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      `local_tmp = ${join(dir, 'local-tmp')}`,
      'nocolor = True',
      '',
      '[ssh_connection]',
      'pipelining = True',
      `control_path_dir = ${join(dir, 'cp')}`,
      `ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${join(dir, 'known_hosts')} -o GlobalKnownHostsFile=/dev/null`,
      '',
    ].join('\n'),
  );
  onCleanup('close Ansible SSH control masters', () => closeControlMasters(join(dir, 'cp')));
  return { dir, env };
}

async function closeControlMasters(cpDir: string): Promise<void> {
  if (!existsSync(cpDir)) return;
  for (const s of readdirSync(cpDir))
    await run(['ssh', '-F', '/dev/null', '-o', `ControlPath=${join(cpDir, s)}`, '-O', 'exit', 'bench'], { timeout: 10_000 }).catch(
      () => {},
    );
}

/** Stops a bench sshd by its pid file, and the sessions it spawned (found by parent links). */
async function stopSshd(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  let comm = '';
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return; // already gone
  }
  if (comm !== 'sshd') return;
  const ps = await run(['ps', '-e', '-o', 'pid=,ppid=']);
  const kids = new Map<number, number[]>();
  for (const line of ps.split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    if (p && pp) kids.set(pp, [...(kids.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    all.push(p);
    queue.push(...(kids.get(p) ?? []));
  }
  for (const p of all) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && all.some((p) => existsSync(`/proc/${p}`))) await new Promise((r) => setTimeout(r, 50));
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

interface AnsibleRun {
  totalMs: number;
  changed: Record<string, number>;
  ok: boolean;
  output: string;
}

/** ansible-playbook in its own process group (stopped as a group on Ctrl-C), timed to its exit. */
async function ansibleRun(a: AnsibleEnv, hosts: string[], tag: number): Promise<AnsibleRun> {
  const t0 = performance.now();
  const child = spawn(ANSIBLE_PLAYBOOK, [PLAYBOOK, '--limit', hosts.join(','), '-e', `tag=${tag}`], {
    env: { ...process.env, ...a.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  };
  const unregister = onCleanup(`kill ansible-playbook (pgid ${child.pid})`, kill);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(kill, ANSIBLE_DEADLINE_MS);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  const totalMs = performance.now() - t0;
  clearTimeout(timer);
  unregister();
  const changed: Record<string, number> = {};
  for (const m of out.matchAll(/^(hv\d+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm))
    changed[m[1]!] = Number(m[3]);
  const ok = code === 0 && hosts.every((h) => h in changed);
  if (!ok) throw new Error(`ansible-playbook (tag ${tag}, ${hosts.join(',')}) exited ${code}:\n${out.slice(-6000)}`);
  return { totalMs, changed, ok, output: out };
}

// ---- main --------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  log(
    `# ensure-vlan-fleet: one new VLAN on 1/2/4/8 hosts: Trunkline ensureVlan vs Ansible vs a plain ssh loop (${new Date().toISOString()})`,
  );
  log(
    `lab ${LAB.LAB_NAME} (198.18.${LAB.LAB_NET}.0/24, ${LAB.LAB_HOSTS} hosts); real gateway + 2 real workers, NODE_ENV=production, log level warn`,
  );
  log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} CPUs; other work on the machine shows up in the figures)`,
  );
  log(describeGit());
  log(`Trunkline and loop: ${RUNS} run(s) per N (median); Ansible: ${SKIP_ANSIBLE ? 'skipped' : `${ANSIBLE_RUNS} run(s) + rerun per N`}`);
  log();

  step('lab down (leftovers), lab up (8 hosts)');
  await freshLab(LAB, step);
  const inventory = new Map((await new InventoryFileSource(INVENTORY_PATH).load()).hypervisors.map((h) => [h.name, h as Host]));
  const hosts = HOSTS.map((n) => {
    const h = inventory.get(n);
    if (!h) throw new Error(`${INVENTORY_PATH}: no ${n}`);
    return h;
  });

  step('private redis-server, gateway and two workers');
  const redisServer = await startRedisServer();
  const { url, gateway, workers } = await startBenchDeployment({ redisUrl: redisServer.url, inventoryPath: INVENTORY_PATH });

  // ---- prepare every host the same way (untimed) --------------------------------------------------------
  step(`prepare: ensureVlan ${BASE_TAG} on hv1..hv8, addPortgroup vlan-all [${BASE_TAG}] on each, refresh`);
  await refreshAll(url);
  const prep = await trunklineRun(url, 'ensureVlan', { tag: BASE_TAG, hypervisors: HOSTS });
  await Promise.all(
    HOSTS.map((h) =>
      trunklineRun(url, 'addPortgroup', { hypervisor: h, portgroup: { name: 'vlan-all', trunk: true, vlanTags: [BASE_TAG] } }),
    ),
  );
  await refreshAll(url);
  await checkHosts(HOSTS, BASE_TAG, 'prepare');
  log(
    `prepared: ensureVlan ${BASE_TAG} on 8 hosts (${prep.job.steps.length} steps, ${prep.job.changedSteps} changed, ${fmt(prep.totalMs)} ms incl. connecting to every host), vlan-all on each`,
  );
  /** vlan-all's tags per host, kept up to date for the loop (which reads nothing). */
  const vlanAll = new Map(HOSTS.map((h) => [h, new Set([BASE_TAG])]));
  const applied = (hs: string[], tag: number) => {
    for (const h of hs) vlanAll.get(h)!.add(tag);
  };

  let ansible: AnsibleEnv | null = null;
  let ansibleError: string | null = null;
  if (!SKIP_ANSIBLE) {
    step('Ansible: temporary account, sudoers, second sshd per host on port 2222');
    try {
      ansible = await setUpAnsible(hosts);
    } catch (err) {
      ansibleError = err instanceof Error ? err.message : String(err);
      step(`Ansible set-up failed, going on without it: ${ansibleError}`);
    }
  }

  // ---- timed runs -------------------------------------------------------------------------------------
  const next = { trunkline: TAG_BASE.trunkline, ansible: TAG_BASE.ansible, loop: TAG_BASE.loop };
  const tl: Array<TrunklineRun & { rerunMs: number; rerunChanged: number; rerunJob: JobRecord; cpu: CpuSplit }> = [];
  const ans: Array<{ n: number; tag: number; run: AnsibleRun; rerun: AnsibleRun }> = [];
  const loop: Array<{ n: number; tag: number; ms: number; cpu: CpuSplit }> = [];
  // Trunkline's own processes, to split each run's CPU time between them and the hosts' daemons.
  const trunklinePids = [gateway, ...workers].map((p) => p.child.pid!).concat(redisServer.proc.pid!);
  for (const n of SIZES) {
    const names = HOSTS.slice(0, n);
    const subset = hosts.slice(0, n);
    for (let r = 0; r < RUNS; r++) {
      const tag = next.trunkline++;
      step(`N=${n} run ${r + 1}/${RUNS}: Trunkline ensureVlan ${tag}`);
      await refreshAll(url); // the other methods changed the hosts behind Trunkline's back
      const { result: first, cpu } = await measureCpu(trunklinePids, () => trunklineRun(url, 'ensureVlan', { tag, hypervisors: names }));
      if (first.job.changedSteps <= 0) throw new Error(`ensureVlan ${tag}: changedSteps ${first.job.changedSteps}, expected > 0`);
      const again = await trunklineRun(url, 'ensureVlan', { tag, hypervisors: names });
      applied(names, tag);
      await checkHosts(names, tag, 'Trunkline');
      tl.push({ tag, n, ...first, rerunMs: again.totalMs, rerunChanged: again.job.changedSteps, rerunJob: again.job, cpu });

      const ltag = next.loop++;
      step(`N=${n} run ${r + 1}/${RUNS}: plain ssh loop ${ltag}`);
      const { result: lms, cpu: lcpu } = await measureCpu([], () => loopRun(subset, ltag, vlanAll));
      applied(names, ltag);
      await checkHosts(names, ltag, 'loop');
      loop.push({ n, tag: ltag, ms: lms, cpu: lcpu });
    }
    if (ansible) {
      for (let r = 0; r < ANSIBLE_RUNS; r++) {
        const tag = next.ansible++;
        step(`N=${n} run ${r + 1}/${ANSIBLE_RUNS}: ansible-playbook ${tag} and its rerun`);
        try {
          const first = await ansibleRun(ansible, names, tag);
          const rerun = await ansibleRun(ansible, names, tag);
          applied(names, tag);
          await checkHosts(names, tag, 'Ansible');
          ans.push({ n, tag, run: first, rerun });
        } catch (err) {
          ansibleError = err instanceof Error ? err.message : String(err);
          step(`Ansible failed, going on without it: ${ansibleError.slice(0, 2000)}`);
          ansible = null;
          break;
        }
      }
    }
  }

  // ---- output -----------------------------------------------------------------------------------------
  const byN = <T extends { n: number }>(xs: T[], n: number) => xs.filter((x) => x.n === n);
  const rows = SIZES.map((n) => {
    const t = byN(tl, n);
    const a = byN(ans, n);
    return {
      n,
      trunkline: median(t.map((x) => x.totalMs)),
      trunklineAll: t.map((x) => round(x.totalMs, 0)),
      trunklineChanged: t.map((x) => x.job.changedSteps),
      rerun: median(t.map((x) => x.rerunMs)),
      rerunChanged: t.map((x) => x.rerunChanged),
      ansible: median(a.map((x) => x.run.totalMs)),
      ansibleChanged: a.map((x) => Object.values(x.run.changed).reduce((s, v) => s + v, 0)),
      ansibleRerun: median(a.map((x) => x.rerun.totalMs)),
      ansibleRerunChanged: a.map((x) => x.rerun.changed),
      loop: median(byN(loop, n).map((x) => x.ms)),
      loopAll: byN(loop, n).map((x) => round(x.ms, 0)),
    };
  });
  const sumChanged = (c: Record<string, number>) => Object.values(c).reduce((s, v) => s + v, 0);
  log(
    `## Wall time for one new VLAN on N hosts (ms; Trunkline and loop: median of ${RUNS}; every first run changed every host, checked on the hosts)`,
  );
  log(
    table(
      [
        'N',
        'Trunkline',
        'runs',
        'changed steps',
        'Trunkline rerun',
        'rerun changed steps',
        'Ansible',
        'changed=',
        'Ansible rerun',
        'rerun changed= (per host)',
        'plain loop',
        'loop runs',
      ],
      rows.map((r) => [
        r.n,
        fmt(r.trunkline),
        r.trunklineAll.join(' / '),
        r.trunklineChanged.join('/'),
        fmt(r.rerun),
        r.rerunChanged.join('/'),
        fmt(r.ansible),
        r.ansibleChanged.join('/') || '-',
        fmt(r.ansibleRerun),
        r.ansibleRerunChanged.map((c) => `${sumChanged(c)} (${[...new Set(Object.values(c))].join(',')})`).join('; ') || '-',
        fmt(r.loop),
        r.loopAll.join(' / '),
      ]),
    ),
  );
  const r1 = rows[0]!;
  const r8 = rows.at(-1)!;
  log();
  log(
    table(
      ['growth vs N=1', 'N=2', 'N=4', 'N=8'],
      [
        ['Trunkline', ...rows.slice(1).map((r) => `${(r.trunkline / r1.trunkline).toFixed(2)}x`)],
        ['Ansible', ...rows.slice(1).map((r) => `${(r.ansible / r1.ansible).toFixed(2)}x`)],
        ['plain loop', ...rows.slice(1).map((r) => `${(r.loop / r1.loop).toFixed(2)}x`)],
      ],
    ),
  );
  const ansibleRatio = r8.ansible / r8.trunkline;
  const loopRatio = r8.trunkline / r8.loop;
  const reruns0 = tl.every((x) => x.rerunChanged === 0);
  log();
  log(
    `At N=8: Ansible / Trunkline = ${fmt(r8.ansible)} / ${fmt(r8.trunkline)} ms = ${Number.isFinite(ansibleRatio) ? `${ansibleRatio.toFixed(1)}x` : '-'} (target >= ${TARGET_ANSIBLE_RATIO}x) -> ${Number.isFinite(ansibleRatio) ? (ansibleRatio >= TARGET_ANSIBLE_RATIO ? 'MET' : 'NOT MET') : 'not measured'}`,
  );
  log(
    `At N=8: Trunkline / plain loop = ${fmt(r8.trunkline)} / ${fmt(r8.loop)} ms = ${loopRatio.toFixed(2)}x (target <= ${TARGET_LOOP_RATIO}x) -> ${loopRatio <= TARGET_LOOP_RATIO ? 'MET' : 'NOT MET'}`,
  );
  const growth = r8.trunkline / r1.trunkline;
  const perExtraHost = (r8.trunkline - r1.trunkline) / 7;
  log(
    `Trunkline growth N=8 vs N=1: ${growth.toFixed(2)}x for 8x the hosts (linear: 8x; each host beyond the first adds ~${fmt(perExtraHost)} ms against ${fmt(r1.trunkline)} ms for one host) -> ${growth <= 4 ? 'far slower than linear (under half of it)' : 'NOT far below linear'}`,
  );
  log(`Trunkline reruns: changed steps ${tl.map((x) => x.rerunChanged).join(', ')} -> ${reruns0 ? 'zero everywhere (MET)' : 'NOT zero'}`);
  if (ans.length)
    log(
      `Ansible reruns report changed=${[...new Set(ans.flatMap((a) => Object.values(a.rerun.changed)))].join('/')} per host: openvswitch_db compares the column's text ("[1001, ...]" from ovs-vsctl list) with the value it is given ("1001,..."), so the trunks task reports a change every time`,
    );
  if (ansibleError) log(`Ansible: ${ansibleError.split('\n').slice(0, 12).join('\n  ')}`);
  log();

  // Where Trunkline's time goes at N=8 (job records and event timestamps).
  const phases = (x: TrunklineRun) => {
    const at: Record<string, number> = {};
    for (const e of x.events) at[e.type] ??= ms(e.at);
    const hostSpans = new Map<string, { start: number; end: number; steps: number; changed: number }>();
    for (const s of x.job.steps) {
      const h = hostSpans.get(s.host) ?? { start: Infinity, end: -Infinity, steps: 0, changed: 0 };
      h.start = Math.min(h.start, ms(s.startedAt));
      h.end = Math.max(h.end, ms(s.finishedAt));
      h.steps++;
      if (s.changed) h.changed++;
      hostSpans.set(s.host, h);
    }
    const spans = [...hostSpans.values()];
    const firstStep = Math.min(...spans.map((h) => h.start));
    const lastStep = Math.max(...spans.map((h) => h.end));
    // Host parts (BullMQ children): from taking the child to its cache refreshed and reported.
    const parts = (x.job.hosts ?? []).map((h) => ({ start: ms(h.startedAt), end: ms(h.finishedAt) }));
    const lastPart = Math.max(...parts.map((p) => p.end));
    const terminal = x.events.at(-1);
    return {
      gateway: ms(x.job.createdAt) - x.sentAt,
      queue: ms(x.job.startedAt) - ms(x.job.createdAt),
      toFirstStep: firstStep - ms(x.job.startedAt),
      steps: lastStep - firstStep,
      hostMin: Math.min(...parts.map((p) => p.end - p.start)),
      hostMax: Math.max(...parts.map((p) => p.end - p.start)),
      hostStartSpread: Math.max(...parts.map((p) => p.start)) - Math.min(...parts.map((p) => p.start)),
      afterSteps: lastPart - lastStep,
      settle: ms(x.job.finishedAt) - lastPart,
      delivery: terminal ? terminal.receivedAt - ms(x.job.finishedAt) : NaN,
      waits: x.events.filter((e) => e.type === 'WAITING').length,
      stepsPerHost: spans.map((h) => h.steps).join('/'),
      stepMs: median(x.job.steps.map((s) => s.durationMs ?? NaN)),
    };
  };
  log("## Where Trunkline's time goes (job record and event timestamps, ms resolution; medians over the runs)");
  log(
    table(
      [
        'N',
        'gateway: sent -> created',
        'queue: created -> STARTED',
        'STARTED -> first step',
        'steps (first start -> last end)',
        'host part: min / max',
        'host parts start spread',
        'steps/host',
        'step p50',
        'last step -> last host part done',
        'parent: last part -> SUCCEEDED',
        'SSE delivery',
        'WAITING events',
      ],
      SIZES.map((n) => {
        const ps = byN(tl, n).map(phases);
        const m = (k: keyof ReturnType<typeof phases>) => fmt(median(ps.map((p) => p[k] as number)));
        return [
          n,
          m('gateway'),
          m('queue'),
          m('toFirstStep'),
          m('steps'),
          `${m('hostMin')} / ${m('hostMax')}`,
          m('hostStartSpread'),
          ps[0]?.stepsPerHost ?? '-',
          m('stepMs'),
          m('afterSteps'),
          m('settle'),
          m('delivery'),
          ps.map((p) => p.waits).join('/'),
        ];
      }),
    ),
  );
  log(
    'Steps per host: bridge present, uplink carries the tag, portgroup vlan-T, trunk portgroup vlan-all. The job is a BullMQ flow: one child per host (any worker), the parent settles the job. ' +
      'A host part takes its lock and runs its steps in 3 round trips: one batch of probes, one batch of the changes that do not depend on each other, one batch of verifying probes that also re-reads the host into the cache. ' +
      'A step starts when its change is chosen (after the probe round) and finishes when verified, so "step p50" spans the change and verify rounds.',
  );
  const cpuNote =
    "On 2 cores the N=8 runs are CPU-bound: per host Trunkline runs 8 sudo'd processes (probe round: the OVS snapshot + one virsh; 3 changes; last round: the OVS snapshot, one virsh probe, the virsh re-read of known objects) where the loop runs 3 plus an SSH handshake.";
  log(cpuNote);
  const cores = cpus().length;
  log(`## Where the CPU goes during a first run (ms of CPU time over all ${cores} cores, from /proc; medians over the runs)`);
  const cpuRows = SIZES.map((n) => {
    const t = byN(tl, n);
    const l = byN(loop, n);
    const med = (xs: number[]) => median(xs);
    const machine = med(t.map((x) => x.cpu.machineMs));
    const own = med(t.map((x) => x.cpu.processesMs));
    const client = med(t.map((x) => x.cpu.selfMs));
    const rest = med(t.map((x) => x.cpu.machineMs - x.cpu.processesMs - x.cpu.selfMs));
    const wall = med(t.map((x) => x.totalMs));
    const lMachine = med(l.map((x) => x.cpu.machineMs));
    const lWall = med(l.map((x) => x.ms));
    return { n, wall, machine, own, client, rest, busy: machine / (cores * wall), lWall, lMachine, lBusy: lMachine / (cores * lWall) };
  });
  log(
    table(
      [
        'N',
        'Trunkline wall',
        'machine CPU',
        'busy',
        'Trunkline processes (gateway, workers, Redis)',
        'per host',
        'benchmark client',
        'the rest (hosts: sshd, sudo, ovs-vsctl, virsh, libvirtd, ...)',
        'per host',
        'loop wall',
        'loop machine CPU',
        'busy',
        'per host',
      ],
      cpuRows.map((c) => [
        c.n,
        fmt(c.wall),
        fmt(c.machine),
        `${Math.round(100 * c.busy)}%`,
        fmt(c.own),
        fmt(c.own / c.n),
        fmt(c.client),
        fmt(c.rest),
        fmt(c.rest / c.n),
        fmt(c.lWall),
        fmt(c.lMachine),
        `${Math.round(100 * c.lBusy)}%`,
        fmt(c.lMachine / c.n),
      ]),
    ),
  );
  const c8 = cpuRows.at(-1)!;
  log(
    `busy = machine CPU / (${cores} cores x wall). At N=8 the machine is ${Math.round(100 * c8.busy)}% busy during a Trunkline run: the simulated hypervisors share this machine's cores, so their work ` +
      `(${fmt(c8.rest / 8)} ms of CPU per host) queues up; Trunkline's own processes use ${fmt(c8.own / 8)} ms per host. On separate hypervisors each host's part would run on its own CPU.`,
  );
  const rr = byN(tl, 8).map((x) => ({ ...phases({ ...x, job: x.rerunJob, events: [], sentAt: NaN } as TrunklineRun) }));
  log(
    `rerun at N=8 (nothing to change: one probe round per host, no refresh when the cache agrees): ${fmt(r8.rerun)} ms end to end; steps ${fmt(median(rr.map((p) => p.steps)))} ms`,
  );

  const path = writeResults('ensure-vlan-fleet.json', {
    benchmark: 'ensure-vlan-fleet',
    machine: await machine(),
    settings: { runs: RUNS, ansibleRuns: ANSIBLE_RUNS, lab: LAB, workers: 2, sizes: SIZES },
    rows: rows.map((r) => ({
      ...r,
      trunkline: round(r.trunkline),
      rerun: round(r.rerun),
      ansible: round(r.ansible),
      ansibleRerun: round(r.ansibleRerun),
      loop: round(r.loop),
    })),
    cpu: cpuRows,
    atN8: {
      ansibleOverTrunkline: round(ansibleRatio),
      trunklineOverLoop: round(loopRatio),
      targets: { ansible: TARGET_ANSIBLE_RATIO, loop: TARGET_LOOP_RATIO },
    },
    trunklineRuns: tl.map((x) => ({
      n: x.n,
      tag: x.tag,
      totalMs: round(x.totalMs),
      changedSteps: x.job.changedSteps,
      rerunMs: round(x.rerunMs),
      rerunChanged: x.rerunChanged,
      phases: phases(x),
    })),
    ansibleRuns: ans.map((a) => ({
      n: a.n,
      tag: a.tag,
      ms: round(a.run.totalMs),
      changed: a.run.changed,
      rerunMs: round(a.rerun.totalMs),
      rerunChanged: a.rerun.changed,
    })),
    loopRuns: loop.map((l) => ({ ...l, ms: round(l.ms) })),
    ansibleError,
  });
  log();
  log(`results: ${path}`);
}

runBenchmark('ensure-vlan-fleet', main);

/**
 * The hypervisor lab itself (infra/lab.sh), tested on its own lab `tll` (198.18.9.0/24) so that it
 * can run next to the integration tests' lab. Everything runs as root on this machine; traffic
 * goes only to addresses inside the namespaces this lab creates.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labSshArgs } from '../support/ssh-args.ts';

const LAB_SH = fileURLToPath(new URL('../../infra/lab.sh', import.meta.url));
const NAME = 'tll';
const STATE = `/run/trunkline/lab-${NAME}`;
const ENV: NodeJS.ProcessEnv = { ...process.env, LAB_NAME: NAME, LAB_NET: '9', LAB_HOSTS: '2' };
delete ENV.LAB_STATE_DIR;
delete ENV.LAB_PC_VLAN;
const HOSTS = [
  { name: 'hv1', address: '198.18.9.6' },
  { name: 'hv2', address: '198.18.9.10' },
] as const;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command with a hard timeout; never throws, so assertions can show its output. */
function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: opts.env ?? ENV, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string }) | null;
        const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - t0 });
      },
    );
  });
}

const lab = (...args: string[]) => run('bash', [LAB_SH, ...args]);
const labExec = (host: string, ...argv: string[]) => run('bash', [LAB_SH, 'exec', host, '--', ...argv], { timeoutMs: 30_000 });

/** ssh exactly as the gateway does: lab key, strict host key checking, bounded. */
function ssh(address: string, command: string): Promise<Run> {
  return run(
    'ssh',
    [...labSshArgs({ identity: `${STATE}/id_ed25519`, knownHosts: `${STATE}/known_hosts`, user: 'trunkline', address }), command],
    {
      timeoutMs: 20_000,
    },
  );
}

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** "NODE DAEMON up PID" lines of `lab.sh status` -> { "hv1 sshd": 123, ... } */
function statusPids(out: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+up\s+(\d+)$/.exec(line.trim());
    if (m) pids[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return pids;
}

async function labNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${NAME}-`));
}

async function rootLabLinks(): Promise<string[]> {
  const r = await run('ip', ['-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => n.startsWith(`${NAME}-`));
}

/** Every pid currently inside one of the lab's namespaces. */
async function pidsInLab(): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of await labNamespaces()) {
    const r = await run('ip', ['netns', 'pids', ns]);
    pids.push(...r.stdout.split('\n').filter(Boolean).map(Number));
  }
  return pids;
}

/** A pid counts as gone once it no longer exists or is a zombie awaiting init's reaping. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function expectLabGone(formerPids: number[]): Promise<void> {
  expect(await labNamespaces()).toEqual([]);
  expect(await rootLabLinks()).toEqual([]);
  expect(existsSync(STATE)).toBe(false);
  expect(formerPids.filter(alive)).toEqual([]);
}

describe.skipIf(process.getuid?.() !== 0)('hypervisor lab (infra/lab.sh)', () => {
  let coldUp: Run;

  beforeAll(async () => {
    await lab('down');
    coldUp = await lab('up');
    console.log(`lab up (cold): ${coldUp.ms} ms`);
  }, 180_000);

  afterAll(async () => {
    const r = await lab('down');
    if (r.code !== 0) console.error(`lab down failed:\n${show(r)}`);
    rmSync('/tmp/tll-probe-net.xml', { force: true });
  }, 180_000);

  it('up builds the lab from nothing', () => {
    expect(coldUp.code, show(coldUp)).toBe(0);
    expect(coldUp.stdout).toContain(`${STATE}/inventory.json`);
    expect(coldUp.ms).toBeLessThan(20_000);
  });

  it('writes inventory.json in the gateway contract shape, with host key fingerprints', async () => {
    const inv = JSON.parse(readFileSync(`${STATE}/inventory.json`, 'utf8'));
    expect(inv.version).toBe(1);
    expect(inv.lab).toBe(NAME);
    expect(inv.switch).toEqual({ namespace: `${NAME}-sw`, bridge: 'sw0' });
    expect(inv.testPcs).toEqual([{ name: 'pc1', namespace: `${NAME}-pc1`, interface: 'eth0', vlan: 1002 }]);
    expect(inv.hypervisors).toHaveLength(2);
    // The fingerprints must be the keys the hosts present: compare with known_hosts, which
    // strict host key checking (next test) proves correct.
    const kh = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${STATE}/known_hosts`]);
    HOSTS.forEach((h, i) => {
      const hv = inv.hypervisors[i];
      expect(hv).toEqual({
        name: h.name,
        address: h.address,
        port: 22,
        user: 'trunkline',
        privateKeyPath: `${STATE}/id_ed25519`,
        hostKeyFingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
        namespace: `${NAME}-${h.name}`,
        defaults: { bridge: 'ovsbr0', uplink: 'enp5s0f0', network: 'ovs-network' },
      });
      expect(kh.stdout).toContain(`${hv.hostKeyFingerprint} ${h.address}`);
    });
    expect(inv.hypervisors[0].hostKeyFingerprint).not.toBe(inv.hypervisors[1].hostKeyFingerprint);
    const key = statSync(`${STATE}/id_ed25519`);
    expect([key.mode & 0o777, key.uid]).toEqual([0o600, 0]);
  });

  it('each host answers SSH as trunkline with strict host key checking and runs sudo ovs-vsctl / virsh', async () => {
    for (const h of HOSTS) {
      const r = await ssh(h.address, 'hostname; sudo ovs-vsctl show; sudo virsh -c qemu:///system list --all');
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(h.name);
      expect(r.stderr).not.toContain('unable to resolve host');
    }
    // The machine itself keeps its hostname.
    expect((await run('hostname', [])).stdout.trim()).not.toMatch(/^hv\d+$/);
  });

  it('hosts have separate Open vSwitch databases', async () => {
    const add = await labExec('hv1', 'ovs-vsctl', 'add-br', 'tllprobe0', '--', 'set', 'Bridge', 'tllprobe0', 'datapath_type=netdev');
    expect(add.code, show(add)).toBe(0);
    expect((await labExec('hv1', 'ovs-vsctl', 'br-exists', 'tllprobe0')).code).toBe(0);
    expect((await labExec('hv2', 'ovs-vsctl', 'br-exists', 'tllprobe0')).code).toBe(2);
    // Over SSH, the same views.
    expect((await ssh(HOSTS[0].address, 'sudo ovs-vsctl list-br')).stdout).toContain('tllprobe0');
    expect((await ssh(HOSTS[1].address, 'sudo ovs-vsctl list-br')).stdout).not.toContain('tllprobe0');
    expect((await labExec('hv1', 'ovs-vsctl', 'del-br', 'tllprobe0')).code).toBe(0);
  });

  it('hosts have separate libvirt daemons (a network defined over SSH on hv1 is not on hv2)', async () => {
    writeFileSync(
      '/tmp/tll-probe-net.xml',
      "<network><name>tll-probe</name><forward mode='bridge'/><bridge name='tllprobe0'/><virtualport type='openvswitch'/></network>\n",
    );
    const def = await ssh(HOSTS[0].address, 'sudo virsh -c qemu:///system net-define /tmp/tll-probe-net.xml');
    expect(def.code, show(def)).toBe(0);
    const on1 = await ssh(HOSTS[0].address, 'sudo virsh -c qemu:///system net-list --all --name');
    const on2 = await ssh(HOSTS[1].address, 'sudo virsh -c qemu:///system net-list --all --name');
    expect(on1.stdout).toContain('tll-probe');
    expect(on2.code, show(on2)).toBe(0);
    expect(on2.stdout).not.toContain('tll-probe');
    expect((await ssh(HOSTS[0].address, 'sudo virsh -c qemu:///system net-undefine tll-probe')).code).toBe(0);
  });

  it('hosts have their own hostname and their own /run/netns', async () => {
    expect((await labExec('hv2', 'hostname')).stdout.trim()).toBe('hv2');
    expect((await labExec('hv1', 'ip', 'netns', 'add', 'tllprobe')).code).toBe(0);
    try {
      expect((await labExec('hv1', 'ip', 'netns', 'list')).stdout).toContain('tllprobe');
      expect((await labExec('hv2', 'ip', 'netns', 'list')).stdout).not.toContain('tllprobe');
      expect((await run('ip', ['netns', 'list'])).stdout).not.toContain('tllprobe');
    } finally {
      await labExec('hv1', 'ip', 'netns', 'del', 'tllprobe');
    }
  });

  it('switch: host ports trunk all VLANs, the test PC port is an access port on VLAN 1002', async () => {
    const cols = await labExec(
      'sw',
      'ovs-vsctl',
      '-f',
      'csv',
      '--no-headings',
      '--data=bare',
      '--columns=name,vlan_mode,tag,trunks',
      'list',
      'Port',
    );
    expect(cols.code, show(cols)).toBe(0);
    const rows = cols.stdout.trim().split('\n').sort();
    expect(rows).toEqual(['p-hv1,trunk,,', 'p-hv2,trunk,,', 'p-pc1,access,1002,', 'sw0,,,']);
    expect((await labExec('sw', 'ovs-vsctl', 'get', 'Bridge', 'sw0', 'datapath_type')).stdout.trim()).toBe('netdev');
    const pcIf = await labExec('pc1', 'ip', '-o', 'addr', 'show', 'dev', 'eth0');
    expect(pcIf.code, show(pcIf)).toBe(0);
    expect(pcIf.stdout).not.toContain('inet ');
  });

  it('L2 path: the test PC reaches a VLAN 1002 port on hv1 over the switch (ping and TCP), not a VLAN 1001 one', async () => {
    // On hv1: ovsbr0 with the uplink as trunk and two probe namespaces on access VLANs 1002
    // and 1001 (what the product would do with VMs). Addresses stay inside 198.18.0.0/15.
    const setup = [
      'set -e',
      'ovs-vsctl --may-exist add-br ovsbr0 -- set Bridge ovsbr0 datapath_type=netdev -- --may-exist add-port ovsbr0 enp5s0f0',
      'for v in 1002 1001; do',
      '  ip netns add tllv$v',
      '  ip link add tllp$v type veth peer name eth0 netns tllv$v',
      '  ip link set tllp$v up',
      '  ovs-vsctl add-port ovsbr0 tllp$v tag=$v',
      '  ip -n tllv$v link set lo up; ip -n tllv$v link set eth0 up',
      'done',
      'ip -n tllv1002 addr add 198.19.9.2/24 dev eth0',
      'ip -n tllv1001 addr add 198.19.9.3/24 dev eth0',
    ].join('\n');
    const s = await labExec('hv1', 'sh', '-c', setup);
    expect(s.code, show(s)).toBe(0);
    expect((await labExec('pc1', 'ip', 'addr', 'add', '198.19.9.1/24', 'dev', 'eth0')).code).toBe(0);
    try {
      const ping = await labExec('pc1', 'ping', '-c', '2', '-W', '2', '198.19.9.2');
      expect(ping.code, show(ping)).toBe(0);
      const other = await labExec('pc1', 'ping', '-c', '1', '-W', '1', '198.19.9.3');
      expect(other.code, 'VLAN 1001 must not be reachable from an access port on 1002').not.toBe(0);
      // TCP needs correct checksums end to end (see userspace-tso-enable in lab.sh).
      const server = labExec(
        'hv1',
        'ip',
        'netns',
        'exec',
        'tllv1002',
        'timeout',
        '10',
        process.execPath,
        '-e',
        "const s=require('net').createServer(c=>c.pipe(c)).listen(7007,'198.19.9.2',()=>console.log('listening'));setTimeout(()=>s.close(),8000).unref();s.on('connection',()=>s.close())",
      );
      // The client retries while the server is not listening yet (connection refused).
      const client = await labExec(
        'pc1',
        'timeout',
        '8',
        process.execPath,
        '-e',
        "const net=require('net');(function go(){const c=net.connect(7007,'198.19.9.2',()=>c.end('x'.repeat(100000)));let n=0;c.on('data',d=>n+=d.length);c.on('end',()=>{console.log(n);process.exit(n===100000?0:1)});c.on('error',e=>{if(e.code==='ECONNREFUSED')return setTimeout(go,100);console.error(e.message);process.exit(2)})})()",
      );
      expect(client.code, show(client)).toBe(0);
      expect(client.stdout.trim()).toBe('100000');
      await server;
    } finally {
      await labExec('pc1', 'ip', 'addr', 'flush', 'dev', 'eth0');
      await labExec(
        'hv1',
        'sh',
        '-c',
        'for v in 1002 1001; do ip netns del tllv$v; ovs-vsctl --if-exists del-port ovsbr0 tllp$v; done; ovs-vsctl --if-exists del-br ovsbr0',
      );
    }
  });

  it('a second up is a no-op: same daemon pids, nothing changed', async () => {
    const before = await lab('status');
    expect(before.code, show(before)).toBe(0);
    const warm = await lab('up');
    console.log(`lab up (warm): ${warm.ms} ms`);
    expect(warm.code, show(warm)).toBe(0);
    expect(warm.stdout).toContain('no changes');
    const after = await lab('status');
    expect(after.code, show(after)).toBe(0);
    const pids = statusPids(before.stdout);
    expect(Object.keys(pids)).toHaveLength(3 + 2 * 6); // sw: keeper+2 daemons; hosts: keeper+5
    expect(statusPids(after.stdout)).toEqual(pids);
  });

  it('kill-sshd makes a host unreachable and up brings back only its sshd', async () => {
    const before = statusPids((await lab('status')).stdout);
    const k = await lab('kill-sshd', 'hv2');
    expect(k.code, show(k)).toBe(0);
    const dead = await ssh(HOSTS[1].address, 'true');
    expect(dead.code).not.toBe(0);
    expect((await ssh(HOSTS[0].address, 'true')).code).toBe(0);
    const st = await lab('status');
    expect(st.code).not.toBe(0);
    expect(st.stdout).toMatch(/^hv2\s+sshd\s+down/m);

    const up = await lab('up');
    expect(up.code, show(up)).toBe(0);
    expect(up.stdout).toMatch(/hv2: started sshd/);
    const back = await ssh(HOSTS[1].address, 'sudo ovs-vsctl show >/dev/null && hostname');
    expect(back.code, show(back)).toBe(0);
    expect(back.stdout.trim()).toBe('hv2');
    const after = statusPids((await lab('status')).stdout);
    const { 'hv2 sshd': oldSshd, ...rest } = before;
    const { 'hv2 sshd': newSshd, ...restAfter } = after;
    expect(newSshd).toBeDefined();
    expect(newSshd).not.toBe(oldSshd);
    expect(restAfter).toEqual(rest);
  });

  it('restart HOST DAEMON kills the daemon and starts it again: it serves with a new pid, nothing else changes', async () => {
    const before = statusPids((await lab('status')).stdout);
    for (const daemon of ['ovsdb-server', 'libvirtd']) {
      const r = await lab('restart', 'hv1', daemon);
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`hv1: restarted ${daemon} \\(was pid \\d+, now pid \\d+\\)`));
    }
    const back = await ssh(
      HOSTS[0].address,
      'sudo ovs-vsctl show >/dev/null && sudo virsh -c qemu:///system list --all >/dev/null && hostname',
    );
    expect(back.code, show(back)).toBe(0);
    const after = statusPids((await lab('status')).stdout);
    const { 'hv1 ovsdb-server': o1, 'hv1 libvirtd': l1, ...rest } = before;
    const { 'hv1 ovsdb-server': o2, 'hv1 libvirtd': l2, ...restAfter } = after;
    expect([o2, l2].every(Boolean)).toBe(true);
    expect(o2).not.toBe(o1);
    expect(l2).not.toBe(l1);
    expect(restAfter).toEqual(rest);
    const bad = await lab('restart', 'hv1', 'bash');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/DAEMON must be one of/);
  });

  it('down removes namespaces, root-side veths, processes and the state dir; a second down is a no-op', async () => {
    const pids = await pidsInLab();
    expect(pids.length).toBeGreaterThan(10);
    const d = await lab('down');
    console.log(`lab down: ${d.ms} ms`);
    expect(d.code, show(d)).toBe(0);
    await expectLabGone(pids);
    const again = await lab('down');
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain('nothing to remove');
  });

  it('down cleans up after a crash: every lab process killed with -9', async () => {
    const up = await lab('up');
    expect(up.code, show(up)).toBe(0);
    const pids = await pidsInLab();
    expect(pids.length).toBeGreaterThan(10);
    await run('kill', ['-9', ...pids.map(String)]);
    const d = await lab('down');
    expect(d.code, show(d)).toBe(0);
    await expectLabGone(pids);
  });

  it('down cleans up a half-created lab (namespace, veth and a process, no state)', async () => {
    expect((await run('ip', ['netns', 'add', `${NAME}-hv1`])).code).toBe(0);
    expect((await run('ip', ['link', 'add', `${NAME}-m1`, 'type', 'veth', 'peer', 'name', 'mgmt0', 'netns', `${NAME}-hv1`])).code).toBe(0);
    // A detached process inside the namespace (would keep running after its caller is gone).
    await run('sh', ['-c', `setsid ip netns exec ${NAME}-hv1 sleep 300 </dev/null >/dev/null 2>&1 &`]);
    let pids: number[] = [];
    for (let i = 0; i < 50 && pids.length === 0; i++) {
      pids = await pidsInLab();
      if (pids.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids.length).toBe(1);
    const d = await lab('down');
    expect(d.code, show(d)).toBe(0);
    await expectLabGone(pids);
  });
});

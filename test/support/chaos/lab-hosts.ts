/**
 * The runner's hands on its own lab (infra/lab.sh): up/down, root commands inside a host, and
 * the daemon-level operations the faults need. Daemons are restarted by `lab.sh restart HOST
 * DAEMON` (SIGKILL, then started as `up` starts them; `up` itself would also verify every host
 * over SSH, which fails while another host is frozen or cut off).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const LAB_SCRIPT = fileURLToPath(new URL('../../../infra/lab.sh', import.meta.url));

export type HostDaemon = 'ovsdb-server' | 'ovs-vswitchd' | 'virtlogd' | 'libvirtd' | 'sshd';

export interface Lab {
  name: string;
  net: number;
  hosts: string[];
  stateDir: string;
  inventoryPath: string;
  up(): Promise<string>;
  down(): Promise<string>;
  exec(host: string, argv: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `exec` that throws on a non-zero exit. */
  must(host: string, argv: string[]): Promise<string>;
  daemonPid(host: string, daemon: HostDaemon): number | null;
  /** SIGKILL the daemon and start it again (`lab.sh restart`); resolves when it is ready. */
  restartDaemon(host: string, daemon: HostDaemon): Promise<void>;
  /** Starts the daemon if it does not run (e.g. sshd after kill-sshd). */
  ensureDaemon(host: string, daemon: HostDaemon): Promise<void>;
  killSshd(host: string): Promise<string>;
  /** SIGKILLs the trunkline user's sshd session processes on the host (the connection drops); returns their pids. */
  cutSessions(host: string): number[];
  /** Every process in the host's netns but its keeper. */
  hostPids(host: string): number[];
  signalHost(host: string, signal: 'SIGSTOP' | 'SIGCONT'): number[];
  /** The root-namespace end of host i's management veth. */
  mgmtLink(host: string): string;
  setLink(host: string, up: boolean): Promise<void>;
}

function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

function netOf(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

function uidOf(pid: number): number | null {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}

export function createLab(opts: { name: string; net: number; hosts: number }): Lab {
  const stateDir = `/run/trunkline/lab-${opts.name}`;
  const env = { ...process.env, LAB_NAME: opts.name, LAB_NET: String(opts.net), LAB_HOSTS: String(opts.hosts) };
  const hosts = Array.from({ length: opts.hosts }, (_, i) => `hv${i + 1}`);
  const nodeDir = (h: string) => `${stateDir}/${h}`;
  const pidFile = (h: string, d: HostDaemon) =>
    d === 'sshd'
      ? `${nodeDir(h)}/ssh/sshd.pid`
      : d.startsWith('ovs')
        ? `${nodeDir(h)}/root/run/openvswitch/${d}.pid`
        : `${nodeDir(h)}/root/run/libvirt/${d}.pid`;
  const netnsLink = (h: string): string | null => {
    try {
      return `net:[${statSync(`/run/netns/${opts.name}-${h}`).ino}]`;
    } catch {
      return null;
    }
  };
  const daemonPid = (h: string, d: HostDaemon): number | null => {
    const pid = readPid(pidFile(h, d));
    if (!pid || commOf(pid) !== d || netOf(pid) !== netnsLink(h)) return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return null;
    } catch {
      return null;
    }
    return pid;
  };
  const restart = async (h: string, d: HostDaemon): Promise<void> => {
    await run('bash', [LAB_SCRIPT, 'restart', h, d], { env, timeout: 60_000 });
  };
  const hostPids = (h: string): number[] => {
    const link = netnsLink(h);
    if (!link) return [];
    const k = readPid(`${nodeDir(h)}/keeper.pid`);
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      const pid = Number(e);
      if (pid === k || pid === process.pid) continue;
      if (netOf(pid) === link) out.push(pid);
    }
    return out;
  };
  const lab: Lab = {
    name: opts.name,
    net: opts.net,
    hosts,
    stateDir,
    inventoryPath: `${stateDir}/inventory.json`,
    async up() {
      const { stdout } = await run(
        'bash',
        [LAB_SCRIPT, 'up', '--hosts', String(opts.hosts), '--name', opts.name, '--net', String(opts.net)],
        {
          env,
          timeout: 300_000,
          maxBuffer: 16 << 20,
        },
      );
      return stdout;
    },
    async down() {
      const { stdout } = await run('bash', [LAB_SCRIPT, 'down', '--name', opts.name], { env, timeout: 300_000, maxBuffer: 16 << 20 });
      return stdout;
    },
    async exec(host, argv, timeoutMs = 30_000) {
      try {
        const { stdout, stderr } = await run('bash', [LAB_SCRIPT, 'exec', host, '--', ...argv], {
          env,
          timeout: timeoutMs,
          maxBuffer: 64 << 20,
        });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
      }
    },
    async must(host, argv) {
      const r = await lab.exec(host, argv);
      if (r.code !== 0) throw new Error(`${host}: ${argv.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      return r.stdout;
    },
    daemonPid,
    async restartDaemon(host, daemon) {
      await restart(host, daemon);
    },
    async ensureDaemon(host, daemon) {
      if (!daemonPid(host, daemon)) await restart(host, daemon);
    },
    async killSshd(host) {
      const { stdout } = await run('bash', [LAB_SCRIPT, 'kill-sshd', host], { env, timeout: 60_000 });
      return stdout.trim();
    },
    cutSessions(host) {
      const uid = Number(
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('trunkline:'))
          ?.split(':')[2] ?? NaN,
      );
      const pids = hostPids(host).filter((p) => commOf(p) === 'sshd' && uidOf(p) === uid);
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      return pids;
    },
    hostPids,
    signalHost(host, signal) {
      const pids = hostPids(host);
      for (const p of pids) {
        try {
          process.kill(p, signal);
        } catch {
          // gone
        }
      }
      return pids;
    },
    mgmtLink: (host) => `${opts.name}-m${Number(host.slice(2))}`,
    async setLink(host, up) {
      await run('ip', ['link', 'set', lab.mgmtLink(host), up ? 'up' : 'down']);
    },
  };
  return lab;
}

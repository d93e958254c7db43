import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const LAB_SCRIPT = fileURLToPath(new URL('../../infra/lab.sh', import.meta.url));

export interface LabEnv {
  LAB_NAME: string;
  LAB_NET: string;
  LAB_HOSTS: string;
}

/** Runs `infra/lab.sh <args>` for the given lab; resolves with stdout, rejects with its output. */
export async function lab(env: LabEnv, ...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [LAB_SCRIPT, ...args], {
    env: { ...process.env, ...env },
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Runs a command as root inside a lab host's namespaces; returns exit code and output. */
export async function labExec(env: LabEnv, host: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [LAB_SCRIPT, 'exec', host, '--', ...argv], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The pid of a lab host's own ovsdb-server (each host has its /run/openvswitch), e.g. to freeze it mid-job. */
export async function ovsdbPid(env: LabEnv, host: string): Promise<number> {
  const pid = Number((await labExec(env, host, ['cat', '/run/openvswitch/ovsdb-server.pid'])).stdout.trim());
  if (!(pid > 1)) throw new Error(`${host}: no ovsdb-server pid`);
  return pid;
}

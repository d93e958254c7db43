import { afterAll, describe, expect, inject, it } from 'vitest';
import { InventoryFileSource } from '../../src/inventory/inventory-file.ts';
import { createLogger } from '../../src/log/logger.ts';
import { SshPool } from '../../src/ssh/ssh-pool.ts';

/** The SSH layer against the lab's real sshd: pinning, sudo, quoting, limits, timeouts. */
const inventory = await new InventoryFileSource(inject('inventoryPath')).load();
const hv1 = inventory.hypervisors.find((h) => h.name === 'hv1')!;
const logger = createLogger('test', 'silent');
const pool = new SshPool({ connectTimeoutMs: 3000, commandTimeoutMs: 10_000, maxChannels: 2, keepaliveMs: 0, sudo: true, logger });
afterAll(() => pool.close());

describe('SshPool on the lab', () => {
  it('keeps every word intact through the remote shell', async () => {
    const res = await pool.exec(hv1, ['printf', '%s|', 'a b', "it's", '$(id)', ';rm -rf /', ''], { sudo: false });
    expect(res).toMatchObject({ exitCode: 0, stdout: "a b|it's|$(id)|;rm -rf /||" });
    expect((await pool.exec(hv1, ['id', '-un'], { sudo: false })).stdout.trim()).toBe('trunkline');
  });

  it('runs the allowed tools through sudo -n, and sudo -n refuses others instead of prompting', async () => {
    expect((await pool.exec(hv1, ['ovs-vsctl', '--version'])).exitCode).toBe(0);
    const denied = await pool.exec(hv1, ['id', '-u']);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/sudo/);
  });

  it('reports exit codes and stderr of failing commands', async () => {
    const res = await pool.exec(hv1, ['ovs-vsctl', 'br-exists', 'no-such-br']);
    expect(res.exitCode).toBe(2);
    const bad = await pool.exec(hv1, ['ovs-vsctl', 'get', 'Bridge', 'no-such-br', 'name']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/no row "no-such-br"/);
  });

  it('caps concurrent channels on one connection and still runs everything', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.exec(hv1, ['echo', String(i)], { sudo: false })));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('refuses a host whose key does not match the pinned fingerprint', async () => {
    const impostor = { ...hv1, name: 'hv1-wrong-key', hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    await expect(pool.exec(impostor, ['true'])).rejects.toMatchObject({ code: 'SSH_HOST_KEY_MISMATCH' });
  });

  it('times out a command that does not finish', async () => {
    await expect(pool.exec(hv1, ['sleep', '5'], { sudo: false, timeoutMs: 300 })).rejects.toMatchObject({ code: 'COMMAND_TIMEOUT' });
    // The connection is still usable afterwards.
    expect((await pool.exec(hv1, ['true'], { sudo: false })).exitCode).toBe(0);
  });

  it('fails fast when nothing listens (connection refused)', async () => {
    const closed = { ...hv1, name: 'hv1-port-closed', port: 2 };
    await expect(pool.exec(closed, ['true'])).rejects.toMatchObject({ code: 'SSH_CONNECT_FAILED' });
  });
});

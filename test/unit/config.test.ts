import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';

describe('loadConfig', () => {
  it('has defaults that work on the lab and listen on loopback only', () => {
    const c = loadConfig({});
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 4000, tls: null });
    expect(loadConfig({ TRUNKLINE_TLS_CERT_FILE: '/c.pem', TRUNKLINE_TLS_KEY_FILE: '/k.pem' }).listen.tls).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
    expect(() => loadConfig({ TRUNKLINE_TLS_CERT_FILE: '/c.pem' })).toThrow(
      /TRUNKLINE_TLS_CERT_FILE and TRUNKLINE_TLS_KEY_FILE go together/,
    );
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.inventoryPath).toBe('/run/trunkline/lab-tl/inventory.json');
    expect(c.ssh.sudo).toBe(true);
    expect(c.ssh.maxChannels).toBe(4);
  });

  it('an SSH command timeout must outlast the host tools’ own (a command given up on must not change the host later)', () => {
    expect(() => loadConfig({ TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: '4000' })).toThrow(
      /TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: at least 11000: above ovs-vsctl's own --timeout=10 s/,
    );
    expect(loadConfig({ TRUNKLINE_SSH_COMMAND_TIMEOUT_MS: '11000' }).ssh.commandTimeoutMs).toBe(11_000);
  });

  it('parses numbers and booleans from strings', () => {
    const c = loadConfig({ TRUNKLINE_LISTEN_PORT: '4100', TRUNKLINE_SUDO: 'false', TRUNKLINE_SSH_MAX_CHANNELS: '2' });
    expect(c.listen.port).toBe(4100);
    expect(c.ssh.sudo).toBe(false);
    expect(c.ssh.maxChannels).toBe(2);
  });

  it.each([
    ['TRUNKLINE_LISTEN_PORT', '70000'],
    ['TRUNKLINE_SSH_MAX_CHANNELS', '11'],
    ['TRUNKLINE_PREFIX', 'a b'],
    ['TRUNKLINE_REDIS_URL', 'not a url'],
    ['TRUNKLINE_SUDO', 'maybe'],
    ['TRUNKLINE_SSH_COMMAND_TIMEOUT_MS', '4000'],
  ])('names the variable when %s=%s is bad', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`CONFIG|${name}`));
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      expect((err as Error).message).toContain(name);
      expect((err as { code: string }).code).toBe('CONFIG_INVALID');
    }
  });
});

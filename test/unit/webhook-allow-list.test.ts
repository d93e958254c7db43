import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import {
  allowListErrors,
  checkHost,
  isInternalAddress,
  judgeAddresses,
  parseAllowList,
  type Resolve,
} from '../../src/webhooks/allow-list.ts';

const LAB_DEFAULT = ['127.0.0.0/8', '::1', 'localhost'];
const dns =
  (table: Record<string, string[]>): Resolve =>
  async (host) => {
    const found = table[host];
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return found;
  };

describe('webhook allow-list (SSRF guard)', () => {
  it('webhook settings: defaults and their variables', () => {
    expect(loadConfig({}).webhooks).toEqual({
      timeoutMs: 5000,
      maxAttempts: 6,
      backoffMs: 10_000,
      allowedHosts: LAB_DEFAULT,
      concurrency: 16,
      endpointConcurrency: 4,
      lingerMs: 20,
      nice: 19,
      process: 'child',
      historyLength: 1000,
      historyTtlSeconds: 7 * 24 * 3600,
    });
    const c = loadConfig({
      TRUNKLINE_WEBHOOK_TIMEOUT_MS: '250',
      TRUNKLINE_WEBHOOK_MAX_ATTEMPTS: '3',
      TRUNKLINE_WEBHOOK_PROCESS: 'none',
      TRUNKLINE_WEBHOOK_LINGER_MS: '0',
    }).webhooks;
    expect([c.timeoutMs, c.maxAttempts, c.process, c.lingerMs]).toEqual([250, 3, 'none', 0]);
    expect(() => loadConfig({ TRUNKLINE_WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(/TRUNKLINE_WEBHOOK_MAX_ATTEMPTS/);
  });

  it('the default is loopback only', () => {
    expect(loadConfig({}).webhooks.allowedHosts).toEqual(LAB_DEFAULT);
    const list = parseAllowList(LAB_DEFAULT);
    expect(judgeAddresses(list, '127.0.0.1', []).allowed).toBe(true);
    expect(judgeAddresses(list, '127.255.0.9', []).allowed).toBe(true);
    expect(judgeAddresses(list, '[::1]', []).allowed).toBe(true);
    expect(judgeAddresses(list, '10.0.0.1', []).allowed).toBe(false);
    expect(judgeAddresses(list, '169.254.169.254', []).allowed).toBe(false);
    expect(judgeAddresses(list, '[::2]', []).allowed).toBe(false);
    expect(judgeAddresses(list, 'localhost', ['127.0.0.1', '::1']).allowed).toBe(true);
  });

  it('CIDRs: IPv4 and IPv6, with their prefix length', () => {
    const list = parseAllowList(['10.20.0.0/16', '2001:db8:1::/48', '192.0.2.7']);
    expect(judgeAddresses(list, '10.20.255.1', []).allowed).toBe(true);
    expect(judgeAddresses(list, '10.21.0.1', []).allowed).toBe(false);
    expect(judgeAddresses(list, '[2001:db8:1:ffff::1]', []).allowed).toBe(true);
    expect(judgeAddresses(list, '[2001:db8:2::1]', []).allowed).toBe(false);
    expect(judgeAddresses(list, '192.0.2.7', []).allowed).toBe(true);
    expect(judgeAddresses(list, '192.0.2.8', []).allowed).toBe(false);
    // IPv4-mapped IPv6 is the IPv4 address.
    expect(judgeAddresses(list, '[::ffff:10.20.0.1]', []).allowed).toBe(true);
    expect(judgeAddresses(parseAllowList(LAB_DEFAULT), '[::ffff:127.0.0.1]', []).allowed).toBe(true);
    expect(judgeAddresses(parseAllowList(['::/0']), '[fe80::1]', []).allowed).toBe(true);
  });

  it('addresses spelled otherwise are the same address (the URL parser normalises them)', () => {
    const list = parseAllowList(['10.0.0.0/8']);
    for (const spelling of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1/', 'http://[::ffff:7f00:1]/'])
      expect(judgeAddresses(list, new URL(spelling).hostname, []).allowed, spelling).toBe(false);
    expect(judgeAddresses(parseAllowList(LAB_DEFAULT), new URL('http://0x7f.1/').hostname, []).allowed).toBe(true);
    expect(judgeAddresses(parseAllowList(LAB_DEFAULT), new URL('http://[::ffff:127.0.0.1]/').hostname, [])).toEqual({
      allowed: true,
      addresses: ['127.0.0.1'],
    });
  });

  it('an unlisted name is allowed only when every address it resolves to is listed', async () => {
    const list = parseAllowList(['10.1.0.0/16']);
    const resolve = dns({ 'inside.example': ['10.1.2.3'], 'split.example': ['10.1.2.3', '10.9.9.9'], 'out.example': ['93.184.216.34'] });
    expect((await checkHost(list, 'inside.example', resolve)).allowed).toBe(true);
    const split = await checkHost(list, 'split.example', resolve);
    expect(split).toMatchObject({ allowed: false, reason: expect.stringContaining('10.9.9.9') });
    expect((await checkHost(list, 'out.example', resolve)).allowed).toBe(false);
    expect(await checkHost(list, 'nowhere.example', resolve)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/does not resolve/),
    });
  });

  it('a listed name may resolve to public addresses, but to an internal one only if that is listed too (DNS rebinding)', async () => {
    const list = parseAllowList(['hooks.example.com', '*.notify.example', '10.5.0.0/16']);
    const resolve = dns({
      'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
      'a.b.notify.example': ['93.184.216.35'],
      'notify.example': ['93.184.216.36'],
      'rebound.notify.example': ['169.254.169.254'],
      'inside.notify.example': ['10.5.0.1'],
      'HOOKS.EXAMPLE.COM.': ['93.184.216.34'],
    });
    expect((await checkHost(list, 'hooks.example.com', resolve)).allowed).toBe(true);
    expect((await checkHost(list, 'HOOKS.EXAMPLE.COM.', resolve)).allowed).toBe(true);
    expect((await checkHost(list, 'a.b.notify.example', resolve)).allowed).toBe(true);
    // `*.x` is below x, not x itself.
    expect((await checkHost(list, 'notify.example', resolve)).allowed).toBe(false);
    expect(await checkHost(list, 'rebound.notify.example', resolve)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/internal address 169\.254\.169\.254/),
    });
    expect((await checkHost(list, 'inside.notify.example', resolve)).allowed).toBe(true);
  });

  it('knows the internal ranges', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.1.1',
      '172.31.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '198.18.0.6',
    ])
      expect(isInternalAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:2800:220:1::1', '172.32.0.1']) expect(isInternalAddress(a), a).toBe(false);
  });

  it('bad entries are named, and stop the configuration', () => {
    expect(allowListErrors(['10.0.0.0/33', 'fe80::/129', 'not a host', '1.2.3.4/x', 'ok.example', '::1'])).toEqual([
      '"10.0.0.0/33": the prefix length must be 0..32',
      '"fe80::/129": the prefix length must be 0..128',
      '"not a host": not a host name, address or CIDR',
      '"1.2.3.4/x": the prefix length must be 0..32',
    ]);
    expect(() => loadConfig({ TRUNKLINE_WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/40' })).toThrow(/TRUNKLINE_WEBHOOK_ALLOWED_HOSTS.*prefix length/);
    expect(loadConfig({ TRUNKLINE_WEBHOOK_ALLOWED_HOSTS: ' hooks.example.com , 10.0.0.0/8 ,' }).webhooks.allowedHosts).toEqual([
      'hooks.example.com',
      '10.0.0.0/8',
    ]);
  });
});

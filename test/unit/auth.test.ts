import { describe, expect, it } from 'vitest';
import { hashesEqual, newToken, parseToken, TOKEN_PATTERN, tokenHash } from '../../src/auth/api-token.ts';
import { hostDenials, roleDenials } from '../../src/auth/authorize.ts';
import { ANONYMOUS, type Caller } from '../../src/auth/caller.ts';
import { credentialOf } from '../../src/auth/credentials.ts';
import { looksLikeJwt, roleOfClaim } from '../../src/auth/oidc.ts';
import { loadPepper } from '../../src/auth/pepper.ts';
import { roleAllows, ROLES } from '../../src/auth/roles.ts';
import { EVERY_HOST, inScope, outOfScope, scopeOf } from '../../src/auth/scope.ts';
import { isLoopback, loadConfig } from '../../src/config/config.ts';
import { expiryOf } from '../../gateway/token-command.ts';

const caller = (role: Caller['role'], hostGroups: string[] | null = null): Caller => ({
  kind: 'token',
  id: '0123456789abcdef',
  name: 't',
  role,
  hostGroups,
});

describe('API tokens', () => {
  it('are tl_<16 hex>_<43 base64url>: 64-bit id, 256-bit secret, new each time', () => {
    const a = newToken();
    const b = newToken();
    expect(a.token).toMatch(TOKEN_PATTERN);
    expect(a.token).toBe(`tl_${a.id}_${a.secret}`);
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
    expect(a.id).not.toBe(b.id);
    expect(a.secret).not.toBe(b.secret);
    expect(parseToken(a.token)).toEqual({ id: a.id, secret: a.secret });
  });

  it('parse refuses anything else', () => {
    const { id, secret } = newToken();
    for (const bad of [
      '',
      'tl_',
      `tl_${id}`,
      `tl_${id}_${secret}x`,
      `tl_${id.toUpperCase()}_${secret}`,
      `ghp_${secret}`,
      ` tl_${id}_${secret}`,
      `tl_${id}_${secret.slice(1)}`,
    ])
      expect(parseToken(bad), bad).toBeNull();
  });

  it('the stored hash is keyed by the pepper and binds the id', () => {
    const { id, secret } = newToken();
    const pepper = Buffer.from('p'.repeat(32));
    const h = tokenHash(pepper, id, secret);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain(secret);
    expect(hashesEqual(h, tokenHash(pepper, id, secret))).toBe(true);
    expect(hashesEqual(h, tokenHash(Buffer.from('q'.repeat(32)), id, secret))).toBe(false);
    expect(hashesEqual(h, tokenHash(pepper, '0000000000000000', secret))).toBe(false);
    expect(hashesEqual(h, '')).toBe(false);
  });
});

describe('credentials', () => {
  it('Bearer, or Basic with the token as the password (browsers)', () => {
    const { token } = newToken();
    expect(credentialOf(`Bearer ${token}`)).toBe(token);
    expect(credentialOf(`bearer ${token}`)).toBe(token);
    expect(credentialOf(`Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`)).toBe(token);
    expect(credentialOf(`Basic ${Buffer.from(`:${token}`).toString('base64')}`)).toBe(token);
    for (const none of [null, undefined, '', 'Bearer', `Token ${token}`, `Basic ${Buffer.from('user:').toString('base64')}`, `Bearer a b`])
      expect(credentialOf(none), String(none)).toBeNull();
  });
});

describe('roles and scope', () => {
  it('viewer < operator < admin', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'admin']);
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleDenials(caller('viewer'), 'operator', 'createBridge')).toEqual([
      { field: [], code: 'FORBIDDEN', message: "createBridge needs the operator role; this token's is viewer" },
    ]);
    expect(roleDenials(caller('admin'), 'operator', 'createBridge')).toEqual([]);
  });

  it("a caller's scope is its groups' hypervisors; a group gone adds nothing; no groups: every host", async () => {
    const groups = {
      many: async (names: readonly string[]) =>
        [
          { name: 'a', description: null, hypervisors: ['hv1', 'hv3'], createdAt: '', updatedAt: '' },
          { name: 'b', description: null, hypervisors: ['hv2'], createdAt: '', updatedAt: '' },
        ].filter((g) => names.includes(g.name)),
    };
    expect(await scopeOf(caller('operator'), groups)).toBe(EVERY_HOST);
    expect(await scopeOf(ANONYMOUS, groups)).toBe(EVERY_HOST);
    const a = await scopeOf(caller('operator', ['a', 'gone']), groups);
    expect([inScope(a, 'hv1'), inScope(a, 'hv3'), inScope(a, 'hv2')]).toEqual([true, true, false]);
    expect(outOfScope(a, ['hv1', 'hv2', 'hv9', 'hv2'])).toEqual(['hv2', 'hv9']);
    expect(outOfScope(EVERY_HOST, ['hv9'])).toEqual([]);
    const none = await scopeOf(caller('operator', ['gone']), groups);
    expect(inScope(none, 'hv1')).toBe(false);
    // Denials name the field and do not say whether the host exists.
    expect(
      hostDenials(a, [
        { field: ['hypervisors', '1'], host: 'hv2' },
        { field: ['hypervisors', '0'], host: 'hv1' },
      ]),
    ).toEqual([
      {
        field: ['input', 'hypervisors', '1'],
        code: 'FORBIDDEN',
        message: 'hypervisors.1: hypervisor hv2 does not exist or is not allowed to this token',
      },
    ]);
  });
});

describe('authentication settings', () => {
  it('tokens by default; off is refused unless the gateway listens on loopback', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'tokens', oidc: null, pepper: null, pepperFile: null, healthzPublic: false });
    expect(loadConfig({ TRUNKLINE_AUTH_MODE: 'off' }).auth.mode).toBe('off');
    expect(() => loadConfig({ TRUNKLINE_AUTH_MODE: 'off', TRUNKLINE_LISTEN_HOST: '0.0.0.0' })).toThrow(
      /TRUNKLINE_AUTH_MODE=off is only allowed when the gateway listens on loopback, not on 0\.0\.0\.0/,
    );
    expect(() => loadConfig({ TRUNKLINE_AUTH_PEPPER: 'short' })).toThrow(/TRUNKLINE_AUTH_PEPPER: must be at least 32 characters/);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '198.18.40.1', '127.0.0.1.example.com'].some(isLoopback)).toBe(false);
  });

  it('the pepper: required for tokens, from its file or the variable, at least 32 characters', () => {
    const auth = loadConfig({}).auth;
    expect(() => loadPepper(auth)).toThrow(/TRUNKLINE_AUTH_PEPPER_FILE/);
    expect(loadPepper({ ...auth, mode: 'off' })).toBeNull();
    expect(loadPepper({ ...auth, pepper: 'x'.repeat(32) })).toEqual(Buffer.from('x'.repeat(32)));
    expect(() => loadPepper({ ...auth, pepperFile: '/nonexistent/pepper' })).toThrow(/cannot read \/nonexistent\/pepper/);
  });

  it('OIDC: issuer, audience and JWKS URL together; claims with defaults; the highest role a claim names', () => {
    const oidc = loadConfig({
      TRUNKLINE_OIDC_ISSUER: 'https://idp.example.com/',
      TRUNKLINE_OIDC_AUDIENCE: 'trunkline',
      TRUNKLINE_OIDC_JWKS_URL: 'https://idp.example.com/jwks',
    }).auth.oidc;
    expect(oidc).toEqual({
      issuer: 'https://idp.example.com/',
      audience: 'trunkline',
      jwksUrl: 'https://idp.example.com/jwks',
      algorithms: ['RS256', 'ES256'],
      nameClaim: 'preferred_username',
      roleClaim: 'trunkline_role',
      hostGroupsClaim: 'trunkline_host_groups',
    });
    expect(() => loadConfig({ TRUNKLINE_OIDC_ISSUER: 'https://idp.example.com/' })).toThrow(/go together/);
    expect(roleOfClaim('operator')).toBe('operator');
    expect(roleOfClaim(['viewer', 'admin', 'operator'])).toBe('admin');
    expect(roleOfClaim(['root', 'Admin'])).toBeNull();
    expect(roleOfClaim(undefined)).toBeNull();
    expect(looksLikeJwt('eyJh.eyJz.c2ln')).toBe(true);
    expect(looksLikeJwt('tl_0123456789abcdef_x')).toBe(false);
  });

  it('the token command reads --expires as a timestamp or a duration', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(expiryOf('30d', now)).toBe('2026-12-31T00:00:00.000Z');
    expect(expiryOf('12h', now)).toBe('2026-12-01T12:00:00.000Z');
    expect(expiryOf('2027-01-01T00:00:00Z', now)).toBe('2027-01-01T00:00:00.000Z');
    expect(() => expiryOf('soon', now)).toThrow(/duration/);
  });
});

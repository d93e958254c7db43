import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Authentication } from './authenticator.ts';
import type { Caller } from './caller.ts';
import { ROLES, type Role, roleAllows } from './roles.ts';

/*
 * Callers of an organisation's identity provider (OIDC): a JWT as the bearer credential, signed
 * by a key of the provider's JWKS (fetched and cached by jose; an unknown `kid` fetches it again,
 * at most every 30 s), from the configured issuer, for the configured audience, with one of the
 * configured algorithms, not expired. Its claims say who and what: the name claim, the role claim
 * (a role name, or a list: the highest counts) and the host-groups claim (a list; absent: every host).
 */

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  algorithms: string[];
  nameClaim: string;
  roleClaim: string;
  hostGroupsClaim: string;
}

/** A compact JWS: three base64url parts. */
export const looksLikeJwt = (s: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(s);

/** The highest Trunkline role a claim names (a string or a list), or null. */
export function roleOfClaim(value: unknown): Role | null {
  const names = Array.isArray(value) ? value : [value];
  let best: Role | null = null;
  for (const n of names) if ((ROLES as readonly unknown[]).includes(n) && (best === null || roleAllows(n as Role, best))) best = n as Role;
  return best;
}

export class OidcVerifier {
  private readonly config: OidcConfig;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: OidcConfig) {
    this.config = config;
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 });
  }

  async verify(jwt: string): Promise<Authentication> {
    const c = this.config;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(jwt, this.jwks, { issuer: c.issuer, audience: c.audience, algorithms: c.algorithms }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired', message: 'the identity token expired' };
      const why = err instanceof errors.JOSEError ? err.code : (err as Error).message;
      return { ok: false, reason: 'unknown', message: `the identity token was not accepted (${why})` };
    }
    const role = roleOfClaim(payload[c.roleClaim]);
    if (!role) return { ok: false, reason: 'unknown', message: `the identity token names no Trunkline role in its ${c.roleClaim} claim` };
    const groups = payload[c.hostGroupsClaim];
    if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string')))
      return { ok: false, reason: 'unknown', message: `the identity token's ${c.hostGroupsClaim} claim is not a list of host group names` };
    const sub = String(payload.sub ?? '');
    const name = typeof payload[c.nameClaim] === 'string' ? (payload[c.nameClaim] as string) : sub;
    if (!sub) return { ok: false, reason: 'unknown', message: 'the identity token has no subject (sub)' };
    const caller: Caller = { kind: 'oidc', id: `oidc:${sub}`, name, role, hostGroups: (groups as string[] | undefined) ?? null };
    return { ok: true, caller };
  }
}

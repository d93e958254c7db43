import { ANONYMOUS, type Caller } from './caller.ts';
import { hashesEqual, parseToken, tokenHash } from './api-token.ts';
import { credentialOf } from './credentials.ts';
import { looksLikeJwt, type OidcVerifier } from './oidc.ts';
import type { StoredToken, TokenStore } from './token-store.ts';

/*
 * Turns a request's Authorization header into a Caller, or says why not. Token records are
 * cached per gateway for a second at most, so a revoked or expired token is refused everywhere
 * within about a second without a Redis read per request; a token's last use is written at most
 * once a minute per gateway.
 */

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: AuthFailure; message: string };

export interface AuthenticatorOptions {
  mode: 'tokens' | 'off';
  store: TokenStore;
  /** The server pepper of the token hashes; required in tokens mode. */
  pepper: Buffer | null;
  /** An identity provider's JWTs, accepted as well as API tokens (optional). */
  oidc?: OidcVerifier | null;
  cacheMs?: number;
  touchEveryMs?: number;
  now?: () => number;
  /** Told when recording a token's last use failed (it does not fail the request). */
  onTouchError?: (err: Error) => void;
}

const CACHE_LIMIT = 10_000;

export class Authenticator {
  private readonly options: Required<Omit<AuthenticatorOptions, 'pepper' | 'oidc'>> & { pepper: Buffer | null; oidc: OidcVerifier | null };
  private readonly cache = new Map<string, { token: StoredToken | null; at: number }>();
  private readonly touched = new Map<string, number>();

  constructor(options: AuthenticatorOptions) {
    if (options.mode === 'tokens' && !options.pepper) throw new Error('tokens mode needs the pepper');
    this.options = {
      cacheMs: 1000,
      touchEveryMs: 60_000,
      now: Date.now,
      onTouchError: () => {},
      ...options,
      pepper: options.pepper,
      oidc: options.oidc ?? null,
    };
  }

  get mode(): 'tokens' | 'off' {
    return this.options.mode;
  }

  /** The caller of a request with this Authorization header. */
  async authenticate(authorization: string | null | undefined): Promise<Authentication> {
    if (this.options.mode === 'off') return { ok: true, caller: ANONYMOUS };
    const credential = credentialOf(authorization);
    if (credential === null)
      return {
        ok: false,
        reason: authorization ? 'malformed' : 'missing',
        message: authorization
          ? 'the Authorization header is neither Bearer <token> nor Basic <user:token>'
          : 'authentication required: send Authorization: Bearer tl_<id>_<secret>',
      };
    const parsed = parseToken(credential);
    if (!parsed && this.options.oidc && looksLikeJwt(credential)) return this.options.oidc.verify(credential);
    if (!parsed)
      return {
        ok: false,
        reason: 'malformed',
        message: `not a Trunkline API token (tl_<id>_<secret>)${this.options.oidc ? ' nor an identity token' : ''}`,
      };
    const token = await this.token(parsed.id);
    if (!token || !hashesEqual(token.hash, tokenHash(this.options.pepper!, parsed.id, parsed.secret)))
      return { ok: false, reason: 'unknown', message: 'unknown or wrong API token' };
    const now = this.options.now();
    if (token.revokedAt) return { ok: false, reason: 'revoked', message: `API token tl_${token.id} was revoked at ${token.revokedAt}` };
    if (token.expiresAt && Date.parse(token.expiresAt) <= now)
      return { ok: false, reason: 'expired', message: `API token tl_${token.id} expired at ${token.expiresAt}` };
    this.touch(token.id, now);
    return { ok: true, caller: { kind: 'token', id: token.id, name: token.name, role: token.role, hostGroups: token.hostGroups } };
  }

  /** Forgets a token's cached record (this gateway revoked it: refuse it here at once). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async token(id: string): Promise<StoredToken | null> {
    const now = this.options.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < this.options.cacheMs) return hit.token;
    const token = await this.options.store.get(id);
    // Unknown ids are cached too, so random guesses do not each cost a Redis read.
    this.cache.delete(id);
    this.cache.set(id, { token, at: now });
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    return token;
  }

  private touch(id: string, now: number): void {
    const last = this.touched.get(id) ?? 0;
    if (now - last < this.options.touchEveryMs) return;
    this.touched.set(id, now);
    this.options.store.touch(id, new Date(now).toISOString()).catch((err: Error) => this.options.onTouchError(err));
  }
}

import { inputError, type UserError, userErrorsFromZod } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import { newToken, tokenHash, TOKEN_ID_PATTERN } from './api-token.ts';
import { isScoped, manages, notVisible, roleDenials } from './authorize.ts';
import type { Caller } from './caller.ts';
import type { HostGroupStore } from './host-group-store.ts';
import { CreateApiTokenInput } from './inputs.ts';
import type { Authenticator } from './authenticator.ts';
import { type ApiToken, publicToken, type StoredToken, type TokenStore } from './token-store.ts';

/*
 * Token administration as both APIs (and the token command) take it: admins only. An admin
 * limited to host groups manages only tokens limited to some of its own groups (it cannot make
 * a token that reaches further than itself), and the others are "not found or not allowed".
 */

export interface TokenRequestDeps {
  auth: { tokens: TokenStore; hostGroups: HostGroupStore; authenticator: Authenticator; pepper: Buffer | null };
}

export interface CreatedToken {
  token: ApiToken | null;
  /** tl_<id>_<secret>: answered here once, never again. */
  secret: string | null;
  userErrors: UserError[];
}

export async function createApiToken(deps: TokenRequestDeps, caller: Caller, input: unknown): Promise<CreatedToken> {
  const refused = (userErrors: UserError[]): CreatedToken => ({ token: null, secret: null, userErrors });
  const denied = roleDenials(caller, 'admin', 'creating API tokens');
  if (denied.length) return refused(denied);
  const parsed = CreateApiTokenInput.safeParse(input);
  if (!parsed.success) return refused(userErrorsFromZod(parsed.error));
  const { pepper } = deps.auth;
  if (!pepper)
    return refused([{ field: [], code: ErrorCode.FORBIDDEN, message: 'API tokens are off on this gateway (TRUNKLINE_AUTH_MODE=off)' }]);
  const { name, role, hostGroups, expiresAt } = parsed.data;
  if (isScoped(caller)) {
    if (hostGroups === null)
      return refused([inputError('hostGroups', ErrorCode.FORBIDDEN, 'this token is limited to host groups: name some of its own')]);
    const foreign = hostGroups.flatMap((g, i) =>
      caller.hostGroups!.includes(g) ? [] : [inputError(['hostGroups', String(i)], ErrorCode.FORBIDDEN, notVisible('host group', g))],
    );
    if (foreign.length) return refused(foreign);
  }
  if (hostGroups) {
    const found = new Set((await deps.auth.hostGroups.many(hostGroups)).map((g) => g.name));
    const missing = hostGroups.flatMap((g, i) =>
      found.has(g) ? [] : [inputError(['hostGroups', String(i)], ErrorCode.NOT_FOUND, `no host group ${g}`)],
    );
    if (missing.length) return refused(missing);
  }
  const fresh = newToken();
  const stored: StoredToken = {
    id: fresh.id,
    name,
    role,
    hostGroups,
    hash: tokenHash(pepper, fresh.id, fresh.secret),
    createdAt: new Date().toISOString(),
    createdBy: caller.name,
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    revokedAt: null,
  };
  await deps.auth.tokens.create(stored);
  return { token: publicToken(stored, null), secret: fresh.token, userErrors: [] };
}

/** The tokens the caller may manage (admins only), oldest first, or why not. */
export async function listApiTokens(deps: TokenRequestDeps, caller: Caller): Promise<{ tokens: ApiToken[]; userErrors: UserError[] }> {
  const denied = roleDenials(caller, 'admin', 'listing API tokens');
  if (denied.length) return { tokens: [], userErrors: denied };
  return { tokens: (await deps.auth.tokens.list()).filter((t) => manages(caller, t.hostGroups)), userErrors: [] };
}

/** One token by id (tl_<id> or the bare id), or why not. */
export async function getApiToken(
  deps: TokenRequestDeps,
  caller: Caller,
  id: string,
): Promise<{ token: ApiToken | null; userErrors: UserError[] }> {
  const denied = roleDenials(caller, 'admin', 'reading API tokens');
  if (denied.length) return { token: null, userErrors: denied };
  const key = id.replace(/^tl_/, '');
  const token = TOKEN_ID_PATTERN.test(key) ? await deps.auth.tokens.get(key) : null;
  if (!token || !manages(caller, token.hostGroups))
    return {
      token: null,
      userErrors: [inputError('id', isScoped(caller) ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND, notVisible('API token', id))],
    };
  return { token: publicToken(token, await deps.auth.tokens.lastUsed(token.id)), userErrors: [] };
}

/** Revokes a token: refused on every gateway within about a second (at once on this one). */
export async function revokeApiToken(
  deps: TokenRequestDeps,
  caller: Caller,
  id: string,
): Promise<{ token: ApiToken | null; userErrors: UserError[] }> {
  const found = await getApiToken(deps, caller, id);
  if (!found.token) return found;
  const revoked = await deps.auth.tokens.revoke(found.token.id, new Date().toISOString());
  deps.auth.authenticator.forget(found.token.id);
  return { token: publicToken(revoked!, found.token.lastUsedAt), userErrors: [] };
}

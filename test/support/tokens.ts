import type { Redis } from 'ioredis';
import { Authenticator } from '../../src/auth/authenticator.ts';
import { SYSTEM } from '../../src/auth/caller.ts';
import { HostGroupStore } from '../../src/auth/host-group-store.ts';
import type { Role } from '../../src/auth/roles.ts';
import { createApiToken } from '../../src/auth/token-requests.ts';
import { TokenStore } from '../../src/auth/token-store.ts';

export interface TokenInput {
  name: string;
  role: Role;
  hostGroups?: string[] | null;
  expiresAt?: string | null;
}

/**
 * Creates API tokens on a prefix as `npm run token -- create` does (the product's own request,
 * as Trunkline itself): for tests and benchmarks that start a gateway with this pepper.
 */
export function tokenIssuer(redis: Redis, prefix: string, pepper: string): (input: TokenInput) => Promise<string> {
  const tokens = new TokenStore(redis, prefix);
  const key = Buffer.from(pepper, 'utf8');
  const deps = {
    auth: {
      tokens,
      hostGroups: new HostGroupStore(redis, prefix),
      authenticator: new Authenticator({ mode: 'tokens', store: tokens, pepper: key }),
      pepper: key,
    },
  };
  return async (input) => {
    const r = await createApiToken(deps, SYSTEM, input);
    if (!r.secret) throw new Error(`could not create token ${input.name}: ${JSON.stringify(r.userErrors)}`);
    return r.secret;
  };
}

import { hostname, userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { actorOf } from '../src/audit/audit-entry.ts';
import { AuditLog } from '../src/audit/audit-log.ts';
import type { ErrorCode } from '../src/errors/codes.ts';
import { SYSTEM } from '../src/auth/caller.ts';
import { Authenticator } from '../src/auth/authenticator.ts';
import { HostGroupStore } from '../src/auth/host-group-store.ts';
import { loadPepper } from '../src/auth/pepper.ts';
import { ROLES, type Role } from '../src/auth/roles.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../src/auth/token-requests.ts';
import { TokenStore } from '../src/auth/token-store.ts';
import { loadConfig } from '../src/config/config.ts';
import { connectRedis } from '../src/redis/connect.ts';

/*
 * API tokens from the machine Trunkline runs on, with its configuration (TRUNKLINE_REDIS_URL,
 * TRUNKLINE_PREFIX, TRUNKLINE_AUTH_PEPPER_FILE): the way to the first admin token of a fresh
 * install, and a way back in when every admin token is lost. Anyone who can run this can read
 * the pepper: it is root's tool, not the API's.
 *
 *   npm run -s token -- create --name first-admin --role admin      prints tl_<id>_<secret> (only that, on stdout)
 *   npm run -s token -- create --name team-a --role operator --host-groups rack-12 --expires 90d
 *   npm run -s token -- list
 *   npm run -s token -- revoke tl_0123456789abcdef
 */

/** `--expires`: an ISO timestamp, or a duration from now (30d, 12h, 90m). */
export function expiryOf(text: string, now = Date.now()): string {
  const m = /^(\d+)([dhm])$/.exec(text);
  if (m) return new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']).toISOString();
  if (Number.isNaN(Date.parse(text)))
    throw new InvalidArgumentError('an ISO timestamp (2027-01-01T00:00:00Z) or a duration (30d, 12h, 90m)');
  return new Date(text).toISOString();
}

function role(text: string): Role {
  if (!(ROLES as readonly string[]).includes(text)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return text as Role;
}

type Deps = Parameters<typeof createApiToken>[0] & { audit: AuditLog };

async function withStores<T>(run: (deps: Deps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const pepper = loadPepper(config.auth);
  const redis = connectRedis(config.redisUrl, 'trunkline-token-command');
  try {
    const tokens = new TokenStore(redis, config.prefix);
    const authenticator = new Authenticator({ mode: config.auth.mode, store: tokens, pepper });
    const audit = new AuditLog(redis, config.prefix, config.audit);
    return await run({ auth: { tokens, hostGroups: new HostGroupStore(redis, config.prefix), authenticator, pepper }, audit });
  } finally {
    redis.disconnect();
  }
}

/** The audit record of what the command did (it bypasses the APIs, not the log). */
function audited(deps: Deps, operation: string, input: unknown, errors: { code: ErrorCode; message: string }[]) {
  return deps.audit.record({
    api: 'command',
    operation,
    outcome: errors.length ? 'REFUSED' : 'DONE',
    code: errors[0]?.code ?? null,
    message: errors.map((e) => e.message).join('; ') || null,
    actor: actorOf(SYSTEM),
    source: `${userInfo().username}@${hostname()}`,
    input,
    ticketRef: null,
    idempotencyKey: null,
    jobId: null,
  });
}

function fail(errors: { message: string }[]): never {
  for (const e of errors) console.error(`error: ${e.message}`);
  process.exit(2);
}

const program = new Command('token').description('Trunkline API tokens, from the machine it runs on').showHelpAfterError();

program
  .command('create')
  .description('creates a token and prints it (tl_<id>_<secret>), the one time it is shown')
  .requiredOption('--name <name>', 'what the token is for; its jobs record it as requestedBy')
  .requiredOption('--role <role>', `${ROLES.join(' | ')}`, role)
  .option('--host-groups <groups>', 'limit it to these host groups (comma-separated)', (v: string) => v.split(',').map((s) => s.trim()))
  .option('--expires <when>', 'when it stops working: ISO timestamp or 30d / 12h / 90m', (v: string) => expiryOf(v))
  .action(async (o: { name: string; role: Role; hostGroups?: string[]; expires?: string }) => {
    const input = { name: o.name, role: o.role, hostGroups: o.hostGroups ?? null, expiresAt: o.expires ?? null };
    const r = await withStores(async (deps) => {
      const created = await createApiToken(deps, SYSTEM, input);
      await audited(deps, 'createApiToken', { ...input, tokenId: created.token ? `tl_${created.token.id}` : null }, created.userErrors);
      return created;
    });
    if (r.userErrors.length) fail(r.userErrors);
    console.error(
      `created tl_${r.token!.id} (${r.token!.name}, ${r.token!.role}${r.token!.hostGroups ? `, host groups ${r.token!.hostGroups.join(', ')}` : ''}${r.token!.expiresAt ? `, expires ${r.token!.expiresAt}` : ''}); the secret is not shown again:`,
    );
    console.log(r.secret);
  });

program
  .command('list')
  .description('lists the tokens (never their secrets)')
  .action(async () => {
    const { tokens } = await withStores((deps) => listApiTokens(deps, SYSTEM));
    for (const t of tokens)
      console.log(
        [
          `tl_${t.id}`,
          t.name,
          t.role,
          t.hostGroups?.join(',') ?? '*',
          t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt ? `expires ${t.expiresAt}` : 'active',
          `last used ${t.lastUsedAt ?? 'never'}`,
        ].join('\t'),
      );
  });

program
  .command('revoke <id>')
  .description('revokes a token (tl_<id> or its id): refused everywhere within about a second')
  .action(async (id: string) => {
    const r = await withStores(async (deps) => {
      const revoked = await revokeApiToken(deps, SYSTEM, id);
      await audited(deps, 'revokeApiToken', { id }, revoked.userErrors);
      return revoked;
    });
    if (r.userErrors.length) fail(r.userErrors);
    console.error(`revoked tl_${r.token!.id} (${r.token!.name}) at ${r.token!.revokedAt}`);
  });

if (import.meta.main) {
  try {
    await program.parseAsync();
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  }
}

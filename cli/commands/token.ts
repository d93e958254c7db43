import { type Command, Option } from 'commander';
import type { ApiToken, CreatedApiToken, HostGroup } from '../api.ts';
import { parseExpiry, parseList } from '../args.ts';
import { path } from '../client.ts';
import { CALLER_FIELDS, HOST_GROUP_COLUMNS, HOST_GROUP_FIELDS, TOKEN_COLUMNS, TOKEN_FIELDS } from '../output/columns.ts';
import { renderFields } from '../output/table.ts';
import { type Cli, group, printList, printOne, withFlags } from './shared.ts';

/** `trunkline token`: who is calling, API tokens and host groups (REST /me, /tokens, /host-groups). */

const ROLES = ['viewer', 'operator', 'admin'];

export function tokenCommands(program: Command, cli: Cli): void {
  const token = group(
    program,
    'token',
    'who am I, API tokens and host groups',
    'API tokens (tl_<id>_<secret>, sent as Authorization: Bearer) with a role (viewer, operator, admin), limited to host groups or not.',
  );

  token
    .command('whoami')
    .description("the caller: the token's name, role and host groups")
    .action(cli.action(async (ctx) => printOne(ctx, '/me', CALLER_FIELDS)));

  token
    .command('ls')
    .alias('list')
    .description('the API tokens (admins), revoked ones too; never their secrets')
    .action(cli.action(async (ctx) => printList(ctx, '/tokens', TOKEN_COLUMNS)));

  token
    .command('show')
    .description('one API token (admins)')
    .argument('<id>', 'tl_<id> (the start of the token) or the bare id')
    .action(cli.action(async (ctx, [id]) => printOne(ctx, path`/tokens/${id!}`, TOKEN_FIELDS)));

  token
    .command('create')
    .description('create an API token (admins); prints the token once: keep it')
    .argument('<name>', 'its name (what its jobs record as requestedBy), e.g. ci-bot')
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory())
    .addOption(
      new Option('--host-groups <names>', 'limit it to these host groups (comma-separated; default: every host)').argParser(parseList),
    )
    .addOption(
      new Option('--expires <when>', 'when it stops working: a duration from now (90d, 12h) or an ISO date-time').argParser((v) =>
        parseExpiry(v),
      ),
    )
    .action(
      cli.action(async (ctx, [name], opts) => {
        const { body } = await withFlags({ name: '<name>', role: '--role', hostGroups: '--host-groups', expiresAt: '--expires' }, () =>
          ctx.client.request<CreatedApiToken>('POST', '/tokens', {
            body: {
              name,
              role: opts.role,
              ...(opts.hostGroups ? { hostGroups: opts.hostGroups } : {}),
              ...(opts.expires ? { expiresAt: opts.expires } : {}),
            },
          }),
        );
        const text = (paint: Parameters<typeof renderFields>[2]) =>
          `${renderFields(TOKEN_FIELDS, body.token, paint)}\n${paint('bold', 'token')}  ${body.secret}\n(shown this once: send it as Authorization: Bearer, or put it in TRUNKLINE_TOKEN)\n`;
        ctx.print({
          data: body,
          row: { ...body.token, secret: body.secret },
          columns: [...TOKEN_FIELDS, { key: 'secret', header: 'SECRET' }],
          text,
        });
      }),
    );

  token
    .command('revoke')
    .description('revoke an API token (admins): refused on every gateway within about a second')
    .argument('<id>', 'tl_<id> or the bare id')
    .action(
      cli.action(async (ctx, [id]) => {
        const { body } = await ctx.client.request<ApiToken>('DELETE', path`/tokens/${id!}`);
        ctx.print({ data: body, row: body, columns: TOKEN_FIELDS });
      }),
    );

  const hostGroup = token
    .command('group')
    .alias('host-group')
    .description('host groups: named sets of hypervisors that tokens can be limited to');

  hostGroup
    .command('ls')
    .alias('list')
    .description('the host groups this caller may see')
    .action(cli.action(async (ctx) => printList(ctx, '/host-groups', HOST_GROUP_COLUMNS)));

  hostGroup
    .command('show')
    .description('one host group')
    .argument('<name>', 'the host group')
    .action(cli.action(async (ctx, [name]) => printOne(ctx, path`/host-groups/${name!}`, HOST_GROUP_FIELDS)));

  hostGroup
    .command('set')
    .description('create or replace a host group (admins of every host)')
    .argument('<name>', 'the host group (lower-case letters, digits, . _ -)')
    .addOption(
      new Option('--hosts <names>', 'its hypervisors (comma-separated; registered or not)').argParser(parseList).makeOptionMandatory(),
    )
    .option('--description <text>', 'what it is for')
    .action(
      cli.action(async (ctx, [name], opts) => {
        const { body } = await withFlags({ name: '<name>', hypervisors: '--hosts', description: '--description' }, () =>
          ctx.client.request<HostGroup>('PUT', path`/host-groups/${name!}`, {
            body: { hypervisors: opts.hosts, ...(opts.description !== undefined ? { description: opts.description } : {}) },
          }),
        );
        ctx.print({ data: body, row: body, columns: HOST_GROUP_FIELDS });
      }),
    );

  hostGroup
    .command('rm')
    .alias('delete')
    .description('delete a host group (admins of every host): tokens limited to it see its hosts no more')
    .argument('<name>', 'the host group')
    .action(
      cli.action(async (ctx, [name]) => {
        await ctx.client.request('DELETE', path`/host-groups/${name!}`);
        ctx.note(`deleted host group ${name}`);
      }),
    );
}

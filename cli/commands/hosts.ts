import { type Command, Option } from 'commander';
import type { Hypervisor, Job } from '../api.ts';
import { parseIntIn } from '../args.ts';
import { changeOptions, runChange, waitOptions } from '../changes.ts';
import { path } from '../client.ts';
import { type ExitCode, usageError } from '../errors.ts';
import { HOST_COLUMNS, HOST_FIELDS } from '../output/columns.ts';
import { type Cli, group } from './shared.ts';

/** `trunkline hosts`: the registered hypervisors (REST /hypervisors). */
export function hostsCommands(program: Command, cli: Cli): void {
  const hosts = group(
    program,
    'hosts',
    'list, show, register, refresh and remove hypervisors',
    'The registered hypervisors as the cache knows them (refresh reads the hosts first). Without a subcommand: hosts ls.',
  ).alias('host');

  hosts
    .command('ls', { isDefault: true })
    .alias('list')
    .description('list the hypervisors: status, staleness, what they hold')
    .option('--refresh', 'read every host first (bounded wait), then answer')
    .action(
      cli.action(async (ctx, _args, opts) => {
        const rows = await ctx.client.listAll<Hypervisor>('/hypervisors', { refresh: opts.refresh ? true : undefined });
        ctx.print({ data: rows, rows, columns: HOST_COLUMNS });
      }),
    );

  hosts
    .command('show')
    .description('one hypervisor: connection, defaults, status, versions, counts')
    .argument('<name>', 'the hypervisor')
    .option('--refresh', 'read the host first')
    .action(
      cli.action(async (ctx, [name], opts) => {
        const row = await ctx.client.get<Hypervisor>(path`/hypervisors/${name!}`, { refresh: opts.refresh ? true : undefined });
        ctx.print({ data: row, row, columns: HOST_FIELDS });
      }),
    );

  changeOptions(
    hosts
      .command('register')
      .description('add (or replace) a hypervisor in the registry and read it once (admins)')
      .argument('<name>', 'its name in Trunkline (what every command names it by)')
      .requiredOption('--address <host>', 'its SSH address: IP or DNS name')
      .requiredOption('--user <login>', 'the SSH login (with passwordless sudo for ovs-vsctl and virsh)')
      .requiredOption('--key <path>', 'the private key file, as the worker machines see it (absolute)')
      .addOption(new Option('--port <n>', 'the SSH port').argParser(parseIntIn(1, 65535)))
      .option('--fingerprint <sha256>', 'its SSH host key: SHA256:… (ssh-keygen -lf -E sha256 on the host)')
      .option('--trust-on-first-use', 'no fingerprint: pin the key it presents at the first connection')
      .option('--bridge <name>', 'default OVS bridge (ovsbr0 when not given)')
      .option('--uplink <port>', 'default uplink port (the trunk to the switch)')
      .option('--network <name>', 'default libvirt network')
      .option('--datapath <type>', 'default datapath type (system, netdev)'),
    { dryRun: false },
  ).action(
    cli.action(async (ctx, [name], opts) => {
      const defaults = Object.fromEntries(
        Object.entries({ bridge: opts.bridge, uplink: opts.uplink, network: opts.network, datapathType: opts.datapath }).filter(
          ([, v]) => v,
        ),
      );
      return runChange(
        ctx,
        {
          method: 'POST',
          path: '/hypervisors',
          body: {
            name,
            address: opts.address,
            user: opts.user,
            privateKeyPath: opts.key,
            ...(opts.port ? { port: opts.port } : {}),
            ...(opts.fingerprint ? { hostKeyFingerprint: opts.fingerprint } : {}),
            ...(opts.trustOnFirstUse ? { trustOnFirstUse: true } : {}),
            ...(Object.keys(defaults).length ? { defaults } : {}),
          },
          flags: {
            name: '<name>',
            address: '--address',
            user: '--user',
            privateKeyPath: '--key',
            port: '--port',
            hostKeyFingerprint: '--fingerprint',
            trustOnFirstUse: '--trust-on-first-use',
            defaults: '--bridge/--uplink/--network/--datapath',
          },
          jobOf: (a) => (a as { job: Job }).job,
          note: (a) =>
            `${(a as { created: boolean }).created ? 'registered' : 'replaced the registration of'} ${name}; its first read is a job`,
        },
        opts,
      );
    }),
  );

  waitOptions(
    hosts
      .command('refresh')
      .description('read hosts into the cache: named ones as jobs (one each), or every host at once (then list them)')
      .argument('[names...]', 'the hypervisors (default: every one; waits for the reads and lists the fleet)'),
  )
    .option('--idempotency-key <key>', 'retry safely (one named host only)')
    .action(
      cli.action(async (ctx, args, opts) => {
        const names = (args[0] as unknown as string[] | undefined) ?? [];
        if (names.length === 0) {
          const rows = await ctx.client.listAll<Hypervisor>('/hypervisors', { refresh: true });
          ctx.print({ data: rows, rows, columns: HOST_COLUMNS });
          return;
        }
        let worst: ExitCode = 0;
        for (const name of names) {
          const code = await runChange(ctx, { method: 'POST', path: path`/hypervisors/${name}/refresh`, ticket: 'none' }, opts);
          worst = Math.max(worst, code) as ExitCode;
        }
        return worst;
      }),
    );

  hosts
    .command('rm')
    .alias('remove')
    .description('forget a hypervisor: its registration and cached state (nothing on the host changes; admins)')
    .argument('<name>', 'the hypervisor')
    .action(
      cli.action(async (ctx, [name]) => {
        await ctx.client.request('DELETE', path`/hypervisors/${name!}`);
        ctx.note(`removed hypervisor ${name} from the registry`);
      }),
    );

  hosts
    .command('rotate-key')
    .description("re-pin a hypervisor's SSH host key after it was rotated on the host (admins)")
    .argument('<name>', 'the hypervisor')
    .requiredOption('--expected <sha256>', 'the key pinned now (the rotation happens only if it still is)')
    .option('--fingerprint <sha256>', 'the new key')
    .option('--next-connection', 'pin the key the host presents at the next connection instead')
    .action(
      cli.action(async (ctx, [name], opts) => {
        if (!opts.fingerprint === !opts.nextConnection)
          throw usageError('give the new key (--fingerprint) or --next-connection, one of them');
        const hostKeyFingerprint = opts.nextConnection ? null : opts.fingerprint;
        const { body } = await ctx.client.request<Hypervisor>('PUT', path`/hypervisors/${name!}/host-key`, {
          body: { expectedFingerprint: opts.expected, hostKeyFingerprint },
        });
        ctx.print({ data: body, row: body, columns: HOST_FIELDS });
      }),
    );
}

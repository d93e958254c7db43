import { type Command, Option } from 'commander';
import type { Network } from '../api.ts';
import { collect, parsePortgroupSpec, parseVlanList } from '../args.ts';
import { changeOptions, runChange } from '../changes.ts';
import { path } from '../client.ts';
import { NETWORK_COLUMNS, NETWORK_FIELDS, PORTGROUP_COLUMNS } from '../output/columns.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { type Cli, group, printList } from './shared.ts';

/** `trunkline network`: libvirt networks and their portgroups (REST /hypervisors/{name}/networks). */
export function networkCommands(program: Command, cli: Cli): void {
  const network = group(
    program,
    'network',
    'list, show, define and delete libvirt networks and their portgroups',
    'libvirt networks for Open vSwitch and their portgroups (a portgroup maps VM NICs to VLANs).',
  );

  network
    .command('ls')
    .alias('list')
    .description("a host's libvirt networks")
    .argument('<host>', 'the hypervisor')
    .action(cli.action(async (ctx, [host]) => printList(ctx, path`/hypervisors/${host!}/networks`, NETWORK_COLUMNS)));

  network
    .command('show')
    .description('one network with its portgroups')
    .argument('<host>', 'the hypervisor')
    .argument('<network>', 'the network')
    .action(
      cli.action(async (ctx, [host, name]) => {
        const row = await ctx.client.get<Network>(path`/hypervisors/${host!}/networks/${name!}`);
        const text = (paint: Parameters<typeof renderTable>[2]) =>
          `${renderFields(NETWORK_FIELDS.slice(0, -1), row, paint)}\n${renderTable(PORTGROUP_COLUMNS, row.portgroups, paint)}`;
        ctx.print({ data: row, row, columns: NETWORK_FIELDS, text });
      }),
    );

  changeOptions(
    network
      .command('define')
      .description('ensure a libvirt network for OVS with these portgroups is defined, active and autostarted')
      .argument('<host>', 'the hypervisor')
      .argument('[network]', "the network name (default: the host's default network)")
      .option('--bridge <name>', "the OVS bridge (default: the host's)")
      .option(
        '--portgroup <spec>',
        'a portgroup, repeatable: NAME[=TAGS][:trunk][:default][:native-tagged|:native-untagged], e.g. vlan-0001:default, vlan-1001=1001, vlan-all=1001,1002:trunk',
        collect,
      ),
  ).action(
    cli.action(async (ctx, [host, name], opts) => {
      const portgroups = ((opts.portgroup as string[] | undefined) ?? []).map(parsePortgroupSpec);
      return runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/networks`,
          body: { name, bridge: opts.bridge, ...(portgroups.length ? { portgroups } : {}) },
          flags: { hypervisor: '<host>', name: '[network]', bridge: '--bridge', portgroups: '--portgroup' },
        },
        opts,
      );
    }),
  );

  changeOptions(
    network
      .command('delete')
      .alias('rm')
      .description('ensure a libvirt network is stopped and undefined')
      .argument('<host>', 'the hypervisor')
      .argument('<network>', 'the network')
      .option('--force', 'even while VM NICs use it'),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        {
          method: 'DELETE',
          path: path`/hypervisors/${host!}/networks/${name!}`,
          query: { force: opts.force ? true : undefined },
          flags: { hypervisor: '<host>', name: '<network>', force: '--force' },
        },
        opts,
      ),
    ),
  );

  const portgroup = network.command('portgroup').alias('pg').description("a network's portgroups: list, add (or change), remove");

  portgroup
    .command('ls')
    .alias('list')
    .description("a network's portgroups")
    .argument('<host>', 'the hypervisor')
    .argument('<network>', 'the network')
    .action(
      cli.action(async (ctx, [host, name]) => {
        const net = await ctx.client.get<Network>(path`/hypervisors/${host!}/networks/${name!}`);
        ctx.print({ data: net.portgroups, rows: net.portgroups, columns: PORTGROUP_COLUMNS });
      }),
    );

  changeOptions(
    portgroup
      .command('add')
      .description('add or change a portgroup, live and persistent (running VMs on it are retagged)')
      .argument('<host>', 'the hypervisor')
      .argument('<network>', 'the network')
      .argument('<portgroup>', 'the portgroup name')
      .addOption(new Option('--vlans <tags>', 'its VLAN (or, with --trunk, VLANs; comma-separated)').argParser(parseVlanList))
      .option('--trunk', "NICs on it get a trunk of --vlans (<vlan trunk='yes'>)")
      .option('--default', 'NICs that name no portgroup use this one')
      .addOption(new Option('--native-mode <mode>', 'with --trunk: how the first VLAN is carried').choices(['tagged', 'untagged'])),
  ).action(
    cli.action(async (ctx, [host, net, name], opts) =>
      runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/networks/${net!}/portgroups`,
          body: {
            portgroup: {
              name,
              vlanTags: opts.vlans ?? [],
              trunk: opts.trunk === true,
              isDefault: opts.default === true,
              ...(opts.nativeMode ? { nativeMode: opts.nativeMode } : {}),
            },
          },
          flags: { hypervisor: '<host>', network: '<network>', portgroup: '<portgroup>/--vlans/--trunk/--default/--native-mode' },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    portgroup
      .command('remove')
      .alias('rm')
      .description('remove a portgroup, live and persistent')
      .argument('<host>', 'the hypervisor')
      .argument('<network>', 'the network')
      .argument('<portgroup>', 'the portgroup')
      .option('--force', 'even while VM NICs use it'),
  ).action(
    cli.action(async (ctx, [host, net, name], opts) =>
      runChange(
        ctx,
        {
          method: 'DELETE',
          path: path`/hypervisors/${host!}/networks/${net!}/portgroups/${name!}`,
          query: { force: opts.force ? true : undefined },
          flags: { hypervisor: '<host>', network: '<network>', name: '<portgroup>', force: '--force' },
        },
        opts,
      ),
    ),
  );
}

import type { Command } from 'commander';
import type { Bridge } from '../api.ts';
import { changeOptions, runChange } from '../changes.ts';
import { path } from '../client.ts';
import { BRIDGE_COLUMNS, PORT_COLUMNS } from '../output/columns.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { type Cli, group, printList } from './shared.ts';

/** `trunkline bridge`: Open vSwitch bridges of a host (REST /hypervisors/{name}/bridges). */
export function bridgeCommands(program: Command, cli: Cli): void {
  const bridge = group(
    program,
    'bridge',
    'list, show, create and delete OVS bridges',
    'Open vSwitch bridges of a hypervisor, as last read.',
  );

  bridge
    .command('ls')
    .alias('list')
    .description("a host's bridges with their ports")
    .argument('<host>', 'the hypervisor')
    .action(cli.action(async (ctx, [host]) => printList(ctx, path`/hypervisors/${host!}/bridges`, BRIDGE_COLUMNS)));

  bridge
    .command('show')
    .description('one bridge and its ports')
    .argument('<host>', 'the hypervisor')
    .argument('<bridge>', 'the bridge')
    .action(
      cli.action(async (ctx, [host, name]) => {
        const row = await ctx.client.get<Bridge>(path`/hypervisors/${host!}/bridges/${name!}`);
        const text = (paint: Parameters<typeof renderTable>[2]) =>
          `${renderFields(BRIDGE_COLUMNS.slice(0, 3), row, paint)}\n${renderTable(PORT_COLUMNS.slice(2), row.ports, paint)}`;
        ctx.print({ data: row, row, columns: BRIDGE_COLUMNS, text });
      }),
    );

  changeOptions(
    bridge
      .command('create')
      .description('ensure an OVS bridge exists')
      .argument('<host>', 'the hypervisor')
      .argument('<bridge>', 'the bridge name')
      .option('--datapath <type>', "datapath type (system, netdev; default: the host's or fleet default)"),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/bridges`,
          body: { name, datapathType: opts.datapath },
          flags: { hypervisor: '<host>', name: '<bridge>', datapathType: '--datapath' },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    bridge
      .command('delete')
      .alias('rm')
      .description('ensure a bridge is gone, with all its ports')
      .argument('<host>', 'the hypervisor')
      .argument('<bridge>', 'the bridge'),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        { method: 'DELETE', path: path`/hypervisors/${host!}/bridges/${name!}`, flags: { hypervisor: '<host>', name: '<bridge>' } },
        opts,
      ),
    ),
  );
}

import { type Command, Option } from 'commander';
import { parseVlanList, parseVlanTag } from '../args.ts';
import { changeOptions, runChange } from '../changes.ts';
import { path } from '../client.ts';
import { PORT_COLUMNS } from '../output/columns.ts';
import { type Cli, group, printList, printOne } from './shared.ts';

/** `trunkline port`: OVS ports (REST /hypervisors/{name}/bridges/{bridge}/ports, /hypervisors/{name}/ports). */

const VLAN_MODES = ['access', 'trunk', 'native-tagged', 'native-untagged'];
const VLAN_FLAGS = { tag: '--tag', trunks: '--trunks', vlanMode: '--vlan-mode', trunkAllVlans: '--trunk-all-vlans' };

function vlanOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tag <vlan>', 'access VLAN').argParser(parseVlanTag))
    .addOption(new Option('--trunks <vlans>', 'VLANs to trunk (comma-separated, ranges a-b)').argParser(parseVlanList))
    .addOption(new Option('--vlan-mode <mode>', 'OVS vlan_mode').choices(VLAN_MODES))
    .option('--trunk-all-vlans', 'no tag and no trunks: carry EVERY VLAN (must be asked for)');
}

const vlanBody = (opts: Record<string, unknown>) => ({
  tag: opts.tag,
  trunks: opts.trunks,
  vlanMode: opts.vlanMode,
  trunkAllVlans: opts.trunkAllVlans ? true : undefined,
});

export function portCommands(program: Command, cli: Cli): void {
  const port = group(
    program,
    'port',
    'list, show, add, remove ports and set their VLANs',
    'Open vSwitch ports, with their VLAN settings and interfaces.',
  );

  port
    .command('ls')
    .alias('list')
    .description("a bridge's ports")
    .argument('<host>', 'the hypervisor')
    .argument('<bridge>', 'the bridge')
    .action(cli.action(async (ctx, [host, bridge]) => printList(ctx, path`/hypervisors/${host!}/bridges/${bridge!}/ports`, PORT_COLUMNS)));

  port
    .command('show')
    .description('one port (names are unique per host)')
    .argument('<host>', 'the hypervisor')
    .argument('<port>', 'the port')
    .action(cli.action(async (ctx, [host, name]) => printOne(ctx, path`/hypervisors/${host!}/ports/${name!}`, PORT_COLUMNS)));

  changeOptions(
    vlanOptions(
      port
        .command('add')
        .description(
          'ensure a port on a bridge with exactly these VLANs (a system port whose device OVS cannot open fails, and is removed again)',
        )
        .argument('<host>', 'the hypervisor')
        .argument('<bridge>', 'the bridge')
        .argument('<port>', 'the port (for a system port: the device)')
        .addOption(new Option('--type <type>', 'interface type').choices(['system', 'internal']))
        .option('--device-may-be-missing', 'a system port whose device does not exist yet succeeds, with a warning'),
    ),
  ).action(
    cli.action(async (ctx, [host, bridge, name], opts) =>
      runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/bridges/${bridge!}/ports`,
          body: { name, type: opts.type, ...vlanBody(opts), deviceMayBeMissing: opts.deviceMayBeMissing ? true : undefined },
          flags: {
            hypervisor: '<host>',
            bridge: '<bridge>',
            name: '<port>',
            type: '--type',
            deviceMayBeMissing: '--device-may-be-missing',
            ...VLAN_FLAGS,
          },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    port
      .command('remove')
      .alias('rm')
      .description('ensure a port is gone')
      .argument('<host>', 'the hypervisor')
      .argument('<port>', 'the port'),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        { method: 'DELETE', path: path`/hypervisors/${host!}/ports/${name!}`, flags: { hypervisor: '<host>', name: '<port>' } },
        opts,
      ),
    ),
  );

  changeOptions(
    vlanOptions(
      port
        .command('set-vlans')
        .description("set a port's VLANs: tag, trunks and vlan_mode (what is not given is cleared)")
        .argument('<host>', 'the hypervisor')
        .argument('<port>', 'the port'),
    ),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        {
          method: 'PUT',
          path: path`/hypervisors/${host!}/ports/${name!}/vlans`,
          body: vlanBody(opts),
          flags: { hypervisor: '<host>', name: '<port>', ...VLAN_FLAGS },
        },
        opts,
      ),
    ),
  );
}

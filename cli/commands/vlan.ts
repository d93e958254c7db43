import { Argument, type Command, Option } from 'commander';
import type { Vlan } from '../api.ts';
import { parseList, parseVlanList, parseVlanTag } from '../args.ts';
import { changeOptions, runChange } from '../changes.ts';
import { path } from '../client.ts';
import { DRIFT_COLUMNS, NIC_COLUMNS, UPLINK_COLUMNS, VLAN_COLUMNS, VLAN_PORTGROUP_COLUMNS } from '../output/columns.ts';
import { verificationMatrix } from '../output/job.ts';
import type { Paint } from '../output/style.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { type Cli, group } from './shared.ts';

/** `trunkline vlan`: VLANs across the fleet (REST /vlans). */

const tagArgument = () => new Argument('<tag>', 'the VLAN id, 1..4094').argParser(parseVlanTag);
const hostsOption = (what: string) => new Option('--hosts <names>', `${what} (comma-separated)`).argParser(parseList).makeOptionMandatory();

function renderVlan(v: Vlan, paint: Paint): string {
  const parts = [
    renderFields(VLAN_SUMMARY, v, paint).trimEnd(),
    '',
    paint('bold', 'Uplinks'),
    renderTable(UPLINK_COLUMNS, v.uplinks, paint).trimEnd(),
  ];
  if (v.portgroups.length) parts.push('', paint('bold', 'Portgroups'), renderTable(VLAN_PORTGROUP_COLUMNS, v.portgroups, paint).trimEnd());
  if (v.interfaces.length)
    parts.push(
      '',
      paint('bold', 'VM NICs'),
      renderTable([{ key: 'hypervisor', header: 'HOST' }, ...NIC_COLUMNS], v.interfaces, paint).trimEnd(),
    );
  parts.push('', paint('bold', 'Drift'), v.drift.length ? renderTable(DRIFT_COLUMNS, v.drift, paint).trimEnd() : paint('green', 'none'));
  const last = v.lastVerification;
  parts.push('', paint('bold', 'Last verification'));
  if (!last?.verification) parts.push(`none (trunkline vlan verify ${v.tag} --hosts …)`);
  else parts.push(`job ${last.id} ${last.state}, ended ${last.finishedAt}`, ...verificationMatrix(last.verification, paint));
  return `${parts.join('\n')}\n`;
}

const VLAN_SUMMARY = VLAN_COLUMNS.slice(0, 4);

const PLACEMENT_FLAGS = { bridge: '--bridge', uplink: '--uplink', network: '--network', portgroup: '--portgroup' };

export function vlanCommands(program: Command, cli: Cli): void {
  const vlan = group(
    program,
    'vlan',
    'list, show, ensure, remove and verify VLANs across hosts',
    'VLANs across the fleet: where each is carried (uplink trunks), its portgroups, VM NICs and drift; changes span several hosts in one job.',
  );

  vlan
    .command('ls')
    .alias('list')
    .description('every VLAN seen on an uplink, port, portgroup or VM NIC')
    .action(
      cli.action(async (ctx) => {
        const rows = await ctx.client.listAll<Vlan>('/vlans');
        ctx.print({ data: rows, rows, columns: VLAN_COLUMNS });
      }),
    );

  vlan
    .command('show')
    .description('one VLAN: where it is carried and missing, its portgroups, VM NICs, drift and last verification')
    .addArgument(tagArgument())
    .action(
      cli.action(async (ctx, [tag]) => {
        const row = await ctx.client.get<Vlan>(path`/vlans/${tag!}`);
        ctx.print({ data: row, row, columns: VLAN_COLUMNS, text: (paint) => renderVlan(row, paint) });
      }),
    );

  changeOptions(
    vlan
      .command('ensure')
      .description('make a VLAN usable on hosts: uplink trunk, libvirt network and portgroup (one job, hosts in parallel)')
      .addArgument(tagArgument())
      .addOption(hostsOption('the hypervisors'))
      .option('--name <name>', 'a name for the VLAN (e.g. backup)')
      .option('--bridge <name>', "the OVS bridge (default: each host's)")
      .option('--uplink <port>', "the uplink port to trunk it on (default: each host's)")
      .option('--network <name>', "the libvirt network (default: each host's)")
      .option('--portgroup <name>', 'the portgroup name (default: vlan-<tag>)'),
  )
    .addHelpText('after', '\nExample:\n  trunkline vlan ensure 1003 --hosts hv1,hv2 --name backup --ticket CHG-1042')
    .action(
      cli.action(async (ctx, [tag], opts) =>
        runChange(
          ctx,
          {
            method: 'PUT',
            path: path`/vlans/${tag!}`,
            body: {
              hypervisors: opts.hosts,
              name: opts.name,
              bridge: opts.bridge,
              uplink: opts.uplink,
              network: opts.network,
              portgroup: opts.portgroup,
            },
            flags: { tag: '<tag>', hypervisors: '--hosts', name: '--name', ...PLACEMENT_FLAGS },
          },
          opts,
        ),
      ),
    );

  changeOptions(
    vlan
      .command('remove')
      .alias('rm')
      .description('take a VLAN off hosts: its portgroup, trunk portgroups and uplink trunks')
      .addArgument(tagArgument())
      .addOption(hostsOption('the hypervisors'))
      .option('--force', 'even while VM NICs are on it')
      .option('--uplink <port>', "the uplink port (default: each host's)")
      .option('--network <name>', "the libvirt network (default: each host's)")
      .option('--portgroup <name>', 'the portgroup name (default: vlan-<tag>)'),
  ).action(
    cli.action(async (ctx, [tag], opts) =>
      runChange(
        ctx,
        {
          method: 'DELETE',
          path: path`/vlans/${tag!}`,
          query: {
            hypervisors: opts.hosts,
            force: opts.force ? true : undefined,
            uplink: opts.uplink,
            network: opts.network,
            portgroup: opts.portgroup,
          },
          flags: { tag: '<tag>', hypervisors: '--hosts', force: '--force', ...PLACEMENT_FLAGS },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    vlan
      .command('verify')
      .description('prove a VLAN works: probes on each host ping across hosts; VLANs it must be isolated from must not reach them')
      .addArgument(tagArgument())
      .addOption(hostsOption('the hypervisors to probe from'))
      .addOption(
        new Option('--isolation-from <tags>', 'VLANs that must NOT reach it (comma-separated, e.g. 1002)').argParser(parseVlanList),
      )
      .option('--bridge <name>', "the OVS bridge (default: each host's)"),
    { dryRun: false },
  )
    .addHelpText('after', '\nExample:\n  trunkline vlan verify 1003 --hosts hv1,hv2 --isolation-from 1002')
    .action(
      cli.action(async (ctx, [tag], opts) =>
        runChange(
          ctx,
          {
            method: 'POST',
            path: path`/vlans/${tag!}/verify`,
            body: { hypervisors: opts.hosts, isolationFrom: opts.isolationFrom, bridge: opts.bridge },
            flags: { tag: '<tag>', hypervisors: '--hosts', isolationFrom: '--isolation-from', bridge: '--bridge' },
          },
          opts,
        ),
      ),
    );
}

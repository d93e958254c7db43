import { type Command, Option } from 'commander';
import type { Vm } from '../api.ts';
import { collect, parseIntIn, parseNicSpec } from '../args.ts';
import { changeOptions, runChange } from '../changes.ts';
import { path } from '../client.ts';
import { NIC_COLUMNS, VM_COLUMNS, VM_FIELDS } from '../output/columns.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { type Cli, group, printList } from './shared.ts';

/** `trunkline vm`: libvirt domains and their NICs (REST /hypervisors/{name}/vms). */

const HOST_VM = { hypervisor: '<host>', name: '<vm>' };

export function vmCommands(program: Command, cli: Cli): void {
  const vm = group(
    program,
    'vm',
    'list, show, define, start, stop, undefine VMs and manage their NICs',
    'libvirt domains (VMs) and their NICs, joined with their OVS ports.',
  );

  vm.command('ls')
    .alias('list')
    .description("a host's VMs with their NICs")
    .argument('<host>', 'the hypervisor')
    .option('--state <state>', 'only VMs in this state (e.g. running, "shut off")')
    .action(cli.action(async (ctx, [host], opts) => printList(ctx, path`/hypervisors/${host!}/vms`, VM_COLUMNS, { state: opts.state })));

  vm.command('show')
    .description('one VM with its NICs')
    .argument('<host>', 'the hypervisor')
    .argument('<vm>', 'the VM')
    .action(
      cli.action(async (ctx, [host, name]) => {
        const row = await ctx.client.get<Vm>(path`/hypervisors/${host!}/vms/${name!}`);
        const text = (paint: Parameters<typeof renderTable>[2]) =>
          `${renderFields(VM_FIELDS.slice(0, -1), row, paint)}\n${renderTable(NIC_COLUMNS.slice(1), row.interfaces, paint)}`;
        ctx.print({ data: row, row, columns: VM_FIELDS, text });
      }),
    );

  changeOptions(
    vm
      .command('define')
      .description('ensure a minimal VM (no disk) is defined, with its NICs')
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM name')
      .addOption(new Option('--vcpus <n>', 'virtual CPUs (1..64)').argParser(parseIntIn(1, 64)))
      .addOption(new Option('--memory <mib>', 'memory in MiB (16..1048576)').argParser(parseIntIn(16, 1_048_576)))
      .option('--nic <spec>', 'a NIC, repeatable: key=value,… of network, portgroup, mac, model (a bare word is the portgroup)', collect),
  ).action(
    cli.action(async (ctx, [host, name], opts) => {
      const nics = ((opts.nic as string[] | undefined) ?? []).map(parseNicSpec);
      return runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/vms`,
          body: { name, vcpus: opts.vcpus, memoryMiB: opts.memory, ...(nics.length ? { nics } : {}) },
          flags: { ...HOST_VM, vcpus: '--vcpus', memoryMiB: '--memory', nics: '--nic' },
        },
        opts,
      );
    }),
  );

  changeOptions(
    vm
      .command('undefine')
      .alias('rm')
      .description('ensure a (stopped) VM is undefined')
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM'),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(ctx, { method: 'DELETE', path: path`/hypervisors/${host!}/vms/${name!}`, flags: { ...HOST_VM, name: '<vm>' } }, opts),
    ),
  );

  changeOptions(
    vm.command('start').description('ensure a VM is running').argument('<host>', 'the hypervisor').argument('<vm>', 'the VM'),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(ctx, { method: 'POST', path: path`/hypervisors/${host!}/vms/${name!}/start`, body: {}, flags: HOST_VM }, opts),
    ),
  );

  changeOptions(
    vm
      .command('stop')
      .description('ensure a VM is shut off (ACPI shutdown; with --force, powered off after the shutdown timeout)')
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM')
      .option('--force', 'power it off if it has not shut down in time')
      .addOption(
        new Option('--shutdown-timeout <seconds>', 'how long the guest gets to shut down (1..3600, default 60)').argParser(
          parseIntIn(1, 3600),
        ),
      ),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/vms/${name!}/stop`,
          body: { force: opts.force ? true : undefined, timeoutSeconds: opts.shutdownTimeout },
          flags: { ...HOST_VM, force: '--force', timeoutSeconds: '--shutdown-timeout' },
        },
        opts,
      ),
    ),
  );

  const nic = vm.command('interface').alias('nic').description("a VM's NICs: list, attach, detach, move to another portgroup");

  nic
    .command('ls')
    .alias('list')
    .description("a VM's NICs with their portgroups and live VLANs")
    .argument('<host>', 'the hypervisor')
    .argument('<vm>', 'the VM')
    .action(
      cli.action(async (ctx, [host, name]) => {
        const row = await ctx.client.get<Vm>(path`/hypervisors/${host!}/vms/${name!}`);
        ctx.print({ data: row.interfaces, rows: row.interfaces, columns: NIC_COLUMNS });
      }),
    );

  changeOptions(
    nic
      .command('attach')
      .description('ensure the VM has a NIC on a network/portgroup (hot-plugged while it runs)')
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM')
      .option('--network <name>', "the libvirt network (default: the host's)")
      .option('--portgroup <name>', "the portgroup (default: the network's default)")
      .option('--mac <mac>', 'its MAC address (default: one libvirt picks)')
      .addOption(new Option('--model <model>', 'the NIC model').choices(['virtio', 'e1000', 'rtl8139'])),
  ).action(
    cli.action(async (ctx, [host, name], opts) =>
      runChange(
        ctx,
        {
          method: 'POST',
          path: path`/hypervisors/${host!}/vms/${name!}/interfaces`,
          body: { network: opts.network, portgroup: opts.portgroup, mac: opts.mac, model: opts.model },
          flags: { hypervisor: '<host>', vm: '<vm>', network: '--network', portgroup: '--portgroup', mac: '--mac', model: '--model' },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    nic
      .command('detach')
      .description('ensure a NIC (by MAC) is gone from the VM, live and persistent')
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM')
      .argument('<mac>', "the NIC's MAC address")
      .addOption(
        new Option('--unplug-timeout <seconds>', 'how long a live unplug may take (1..600, default 10)').argParser(parseIntIn(1, 600)),
      ),
  ).action(
    cli.action(async (ctx, [host, name, mac], opts) =>
      runChange(
        ctx,
        {
          method: 'DELETE',
          path: path`/hypervisors/${host!}/vms/${name!}/interfaces/${mac!}`,
          query: { timeoutSeconds: opts.unplugTimeout },
          flags: { hypervisor: '<host>', vm: '<vm>', mac: '<mac>', timeoutSeconds: '--unplug-timeout' },
        },
        opts,
      ),
    ),
  );

  changeOptions(
    nic
      .command('set-portgroup')
      .description("move a NIC to another portgroup (its definition, and a running VM's OVS port VLANs)")
      .argument('<host>', 'the hypervisor')
      .argument('<vm>', 'the VM')
      .argument('<mac>', "the NIC's MAC address")
      .argument('<portgroup>', 'the portgroup to move it to'),
  ).action(
    cli.action(async (ctx, [host, name, mac, portgroup], opts) =>
      runChange(
        ctx,
        {
          method: 'PUT',
          path: path`/hypervisors/${host!}/vms/${name!}/interfaces/${mac!}/portgroup`,
          body: { portgroup },
          flags: { hypervisor: '<host>', vm: '<vm>', mac: '<mac>', portgroup: '<portgroup>' },
        },
        opts,
      ),
    ),
  );
}

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { collect } from './args.ts';
import { bridgeCommands } from './commands/bridge.ts';
import { completionCommands } from './commands/completion.ts';
import { hostsCommands } from './commands/hosts.ts';
import { jobCommands } from './commands/job.ts';
import { networkCommands } from './commands/network.ts';
import { portCommands } from './commands/port.ts';
import { type Cli, createCli } from './commands/shared.ts';
import { tokenCommands } from './commands/token.ts';
import { vlanCommands } from './commands/vlan.ts';
import { vmCommands } from './commands/vm.ts';
import { webhookCommands } from './commands/webhook.ts';
import type { Io } from './context.ts';
import { CliError, Exit, formatError } from './errors.ts';
import { FORMATS } from './output/format.ts';
import { colorEnabled } from './output/style.ts';

/*
 * The command tree: global options, then one group per module of cli/commands/. Commander's own
 * errors (unknown command or option, a missing argument, a value a parser refused) are usage
 * errors: exit 2, whatever commander would have exited with.
 */

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP_AFTER = `
Configuration (a flag wins over the environment, which wins over the config file):
  --url      TRUNKLINE_URL      url: the gateway (default http://127.0.0.1:4000; .../graphql and .../api/v1 work too)
  --token    TRUNKLINE_TOKEN    token, or tokenFile: an API token tl_<id>_<secret>
  --config   TRUNKLINE_CONFIG   default $XDG_CONFIG_HOME/trunkline/config.yaml (~/.config/trunkline/config.yaml)

Changes take --dry-run (print the plan with its exact commands, queue nothing), --ticket REF,
--idempotency-key KEY, --wait (the default on a terminal: per-host progress, then the outcome),
--no-wait (print the accepted job) and --timeout SECONDS.

Exit codes: 0 done, 1 the job failed or was cancelled, 2 usage error or input refused, 3 the
gateway cannot be reached, 4 unauthorised or forbidden, 5 timed out waiting for the job.

Examples:
  trunkline hosts
  trunkline vlan ensure 1003 --hosts hv1,hv2 --name backup --ticket CHG-1042
  trunkline vlan ensure 1003 --hosts hv1,hv2 --dry-run
  trunkline vlan verify 1003 --hosts hv1,hv2 --isolation-from 1002
  trunkline job ls --ticket CHG-1042 -o json
  trunkline hosts ls -o value -c name -c status

Documentation: docs/cli.md`;

export function buildProgram(cli: Cli): Command {
  const { io } = cli;
  const program = new Command('trunkline')
    .description('Trunkline from a terminal or a script: the fleet of KVM hypervisors (libvirt + Open vSwitch) through the REST API.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also after any command)')
    .option('--url <url>', 'the gateway')
    .option('--token <token>', 'the API token')
    .option('--config <file>', 'the config file (YAML: url, token or tokenFile)')
    .addOption(
      new Option('-o, --output <format>', 'table (default on a terminal), json (default otherwise), yaml, or value').choices(FORMATS),
    )
    .option('-c, --column <name>', 'a column to show, repeatable (with -o value: one row a line, values separated by a space)', collect)
    .option('--no-color', 'no colours (NO_COLOR=1 does the same)')
    .showSuggestionAfterError()
    // A command's help also lists the global options (-o, -c, --url, …): they work after it too.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 100),
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns ? io.stderr.columns : 100),
      getOutHasColors: () => colorEnabled(io.env, io.stdout),
      getErrHasColors: () => colorEnabled(io.env, io.stderr),
    })
    .addHelpText('after', HELP_AFTER);

  program.commandsGroup('Fleet:');
  hostsCommands(program, cli);
  vlanCommands(program, cli);
  program.commandsGroup('Primitives (one host):');
  bridgeCommands(program, cli);
  portCommands(program, cli);
  networkCommands(program, cli);
  vmCommands(program, cli);
  program.commandsGroup('Jobs and access:');
  jobCommands(program, cli);
  tokenCommands(program, cli);
  webhookCommands(program, cli);
  program.commandsGroup('Shell:');
  completionCommands(program, cli);
  program.helpCommand('help [command]', 'show help for a command');
  return program;
}

/** Runs the CLI on `argv` (without node and the script); answers the exit code. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const cli = createCli(io);
  const program = buildProgram(cli);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (err) {
    // Commander printed its message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? Exit.OK : Exit.USAGE;
    if (err instanceof CliError) {
      for (const line of formatError(err)) io.stderr.write(`${line}\n`);
      return err.exitCode;
    }
    io.stderr.write(`error: unexpected: ${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}

import { Argument, type Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion.ts';
import type { Cli } from './shared.ts';

/** `trunkline completion bash|zsh`: the completion script, generated from the command tree. */
export function completionCommands(program: Command, cli: Cli): void {
  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(trunkline completion bash)          # this shell\n  trunkline completion bash > /etc/bash_completion.d/trunkline\n  trunkline completion zsh > ~/.zfunc/_trunkline     # with fpath+=(~/.zfunc) in ~/.zshrc',
    )
    .action((shell: string) => {
      cli.io.stdout.write(shell === 'zsh' ? zshCompletion(program) : bashCompletion(program));
    });
}

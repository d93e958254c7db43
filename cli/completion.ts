import type { Command } from 'commander';

/*
 * Shell completion scripts generated from the commander command tree (so a new command or flag
 * completes without anyone editing a list): for every command path as it may be typed (aliases
 * too), its subcommands, its options (with the global ones), the options that take a value
 * (their value is skipped while walking the words) and those values' choices. The helper
 * functions are plain `case` statements that bash and zsh both run; each shell has its own entry.
 */

export interface CommandSpec {
  /** The words typed to reach it, e.g. ['vlan', 'ensure'] (an alias is its own path). */
  path: string[];
  subcommands: string[];
  options: string[];
  valued: string[];
  choices: Record<string, string[]>;
}

interface OptionLike {
  long?: string;
  short?: string;
  required: boolean;
  optional: boolean;
  negate: boolean;
  hidden: boolean;
  argChoices?: string[];
}

function optionWords(options: readonly OptionLike[]) {
  const words: string[] = [];
  const valued: string[] = [];
  const choices: Record<string, string[]> = {};
  for (const o of options) {
    if (o.hidden) continue;
    const names = [o.long, o.short].filter((n): n is string => Boolean(n));
    words.push(...names);
    if (o.required || o.optional) {
      valued.push(...names);
      if (o.argChoices) for (const n of names) choices[n] = o.argChoices;
    }
  }
  return { words, valued, choices };
}

/** Every command path of the tree, depth first, with what completes after it. */
export function commandSpecs(program: Command): CommandSpec[] {
  const globals = optionWords(program.options as readonly OptionLike[]);
  const out: CommandSpec[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const own = cmd === program ? { words: [], valued: [], choices: {} } : optionWords(cmd.options as readonly OptionLike[]);
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    out.push({
      path,
      // A command without subcommands offers its first argument's choices (completion bash|zsh).
      subcommands: subs.length ? subs.flatMap((c) => [c.name(), ...c.aliases()]) : (cmd.registeredArguments[0]?.argChoices ?? []),
      options: [...new Set([...own.words, ...globals.words, '--help'])],
      valued: [...new Set([...own.valued, ...globals.valued])],
      choices: { ...globals.choices, ...own.choices },
    });
    for (const c of subs) for (const name of [c.name(), ...c.aliases()]) visit(c, [...path, name]);
  };
  visit(program, []);
  return out;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function helpers(name: string, specs: readonly CommandSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const cases = (pick: (s: CommandSpec) => string) =>
    specs
      .map((s) => [s.path.join(' '), pick(s)] as const)
      .filter(([, v]) => v.length > 0)
      .map(([k, v]) => `    ${quote(k)}) echo ${quote(v)} ;;`)
      .join('\n');
  const choiceCases = specs
    .flatMap((s) =>
      Object.entries(s.choices).map(([opt, values]) => `    ${quote(`${s.path.join(' ')}|${opt}`)}) echo ${quote(values.join(' '))} ;;`),
    )
    .join('\n');
  return `${fn}_subs() {
  case "$1" in
${cases((s) => s.subcommands.join(' '))}
  esac
}
${fn}_opts() {
  case "$1" in
${cases((s) => s.options.join(' '))}
  esac
}
${fn}_valued() {
  case "$1" in
${cases((s) => s.valued.join(' '))}
  esac
}
${fn}_choices() {
  case "$1" in
${choiceCases || "    '') ;;"}
  esac
}
# Sets ${fn}_path to the command path the words name (options and their values skipped).
${fn}_walk() {
  local w
  ${fn}_path=''
  while [[ $# -gt 0 ]]; do
    w=$1
    shift
    if [[ $w == -* ]]; then
      if [[ $w != *=* && " $(${fn}_valued "$${fn}_path") " == *" $w "* && $# -gt 0 ]]; then shift; fi
    elif [[ " $(${fn}_subs "$${fn}_path") " == *" $w "* ]]; then
      ${fn}_path=\${${fn}_path:+$${fn}_path }$w
    fi
  done
}`;
}

export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `# bash completion for ${name}: generated from its command tree by \`${name} completion bash\`.
# Use: source <(${name} completion bash)   or save it as /etc/bash_completion.d/${name}
${helpers(name, commandSpecs(program))}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} ${fn}_path
  # The words before the cursor (the first is the program), the one being completed excluded.
  ${fn}_walk "\${COMP_WORDS[@]:1:COMP_CWORD-1}"
  if [[ $prev == -* && " $(${fn}_valued "$${fn}_path") " == *" $prev "* ]]; then
    local values; values=$(${fn}_choices "$${fn}_path|$prev")
    [[ -n $values ]] && mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(${fn}_opts "$${fn}_path")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(${fn}_subs "$${fn}_path")" -- "$cur")
  fi
}
complete -o default -F ${fn} ${name}
`;
}

export function zshCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `#compdef ${name}
# zsh completion for ${name}: generated from its command tree by \`${name} completion zsh\`.
# Use: source <(${name} completion zsh)   or save it as _${name} in a directory of $fpath
${helpers(name, commandSpecs(program))}
${fn}() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} ${fn}_path values
  ${fn}_walk "\${(@)words[2,CURRENT-1]}"
  if [[ $prev == -* && " $(${fn}_valued "$${fn}_path") " == *" $prev "* ]]; then
    values=$(${fn}_choices "$${fn}_path|$prev")
    if [[ -n $values ]]; then compadd -- \${=values}; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    compadd -- \${=$(${fn}_opts "$${fn}_path")}
  else
    values=$(${fn}_subs "$${fn}_path")
    if [[ -n $values ]]; then compadd -- \${=values}; else _files; fi
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then ${fn} "$@"; else compdef ${fn} ${name}; fi
`;
}

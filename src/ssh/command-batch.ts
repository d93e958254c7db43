import { randomBytes } from 'node:crypto';
import { toShellCommand } from './quote.ts';

/**
 * Several commands in ONE SSH exec: one channel, one remote shell, one round trip, with each
 * command's exit status, stdout and stderr still reported separately. This is what lets a
 * worker observe (or change) all of a host's steps at once instead of paying a round trip per
 * command. Every word is quoted by toShellCommand; stdin is passed as a quoted here-document
 * whose delimiter is random, so no input can end it early or be expanded.
 */
export interface BatchCommand {
  argv: readonly string[];
  /** Fed to the command's stdin (a newline is added at the end if missing). */
  stdin?: string;
}

export interface BatchOptions {
  /** Prefix every command with `sudo -n --`. */
  sudo: boolean;
  /** Stop after the first command that exits non-zero (the rest are not run). */
  stopOnFailure: boolean;
}

export interface BatchScript {
  script: string;
  marker: string;
}

/** A marker no command output can contain by accident (128 random bits). */
export function newBatchMarker(): string {
  return `TLB${randomBytes(16).toString('hex')}`;
}

/**
 * The script: after each command its status is printed on a line of its own, prefixed by a
 * newline, on stdout and on stderr, so both streams split exactly back into per-command parts.
 */
export function buildBatchScript(commands: readonly BatchCommand[], options: BatchOptions, marker = newBatchMarker()): BatchScript {
  if (commands.length === 0) throw new TypeError('a batch needs at least one command');
  const lines = ['export LC_ALL=C'];
  commands.forEach((c, i) => {
    const argv = options.sudo ? ['sudo', '-n', '--', ...c.argv] : [...c.argv];
    const cmd = toShellCommand(argv);
    if (c.stdin === undefined) lines.push(`${cmd} </dev/null`);
    else {
      const delimiter = `${marker}_IN${i}`;
      const body = c.stdin.endsWith('\n') ? c.stdin : `${c.stdin}\n`;
      lines.push(`${cmd} <<'${delimiter}'\n${body}${delimiter}`);
    }
    lines.push(`s=$?; printf '\\n%s %s\\n' ${marker} "$s"; printf '\\n%s %s\\n' ${marker} "$s" >&2`);
    if (options.stopOnFailure && i < commands.length - 1) lines.push('[ "$s" -eq 0 ] || exit 0');
  });
  return { script: `${lines.join('\n')}\n`, marker };
}

export interface BatchPart {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function split(text: string, marker: string): { out: string; status: number }[] {
  const parts: { out: string; status: number }[] = [];
  const re = new RegExp(`\\n${marker} (\\d+)\\n`, 'g');
  let from = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    parts.push({ out: text.slice(from, m.index), status: Number(m[1]) });
    from = m.index + m[0].length;
  }
  return parts;
}

/**
 * Splits a batch's output into the results of the commands that ran, in order. Fewer results
 * than commands means the batch stopped (stopOnFailure) or was cut short (then the exec's own
 * status says why).
 */
export function splitBatchOutput(stdout: string, stderr: string, marker: string): BatchPart[] {
  const outs = split(stdout, marker);
  const errs = split(stderr, marker);
  return outs.map((o, i) => ({ exitCode: o.status, stdout: o.out, stderr: errs[i]?.out ?? '' }));
}

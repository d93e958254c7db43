import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildBatchScript, splitBatchOutput, type BatchCommand } from '../../src/ssh/command-batch.ts';

/** Runs a batch script through a real shell, as sshd's login shell would, and splits its output. */
function runBatch(shell: string, commands: BatchCommand[], stopOnFailure = false) {
  const { script, marker } = buildBatchScript(commands, { sudo: false, stopOnFailure });
  const res = spawnSync(shell, ['-c', script], { encoding: 'utf8' });
  return { status: res.status, parts: splitBatchOutput(res.stdout, res.stderr, marker) };
}

describe('command batches', () => {
  it.each(['sh', 'bash'])('keeps each command’s status, stdout and stderr apart (%s)', (shell) => {
    const { parts } = runBatch(shell, [
      { argv: ['printf', 'no newline at the end'] },
      { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] },
      { argv: ['printf', '%s\n', 'two', 'lines'] },
      { argv: ['true'] },
    ]);
    expect(parts).toEqual([
      { exitCode: 0, stdout: 'no newline at the end', stderr: '' },
      { exitCode: 3, stdout: 'out\n', stderr: 'err\n' },
      { exitCode: 0, stdout: 'two\nlines\n', stderr: '' },
      { exitCode: 0, stdout: '', stderr: '' },
    ]);
  });

  it('stops at the first failure when asked: later commands do not run', () => {
    const { parts } = runBatch('sh', [{ argv: ['true'] }, { argv: ['false'] }, { argv: ['sh', '-c', 'echo ran'] }], true);
    expect(parts.map((p) => p.exitCode)).toEqual([0, 1]);
  });

  it('feeds stdin through a quoted here-document: nothing in it is expanded or ends it early', () => {
    const xml = "<network>\n  <name>$HOME `id` $(reboot)</name>\nEOF\n'quoted'\n</network>";
    const { parts } = runBatch('sh', [{ argv: ['cat'], stdin: xml }, { argv: ['cat'] }]);
    expect(parts[0]!.stdout).toBe(`${xml}\n`);
    // A command without stdin reads nothing (it would otherwise eat the rest of the script).
    expect(parts[1]).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('prefixes sudo -n -- when asked, with LC_ALL=C for every command', () => {
    const { script } = buildBatchScript([{ argv: ['ovs-vsctl', 'br-exists', "x'; reboot"] }], { sudo: true, stopOnFailure: false }, 'TLBm');
    expect(script).toContain("export LC_ALL=C\nsudo -n -- ovs-vsctl br-exists 'x'\\''; reboot' </dev/null\n");
  });

  it('any argv words reach the command unchanged (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')),
            { maxLength: 4 },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        (argvs) => {
          const { parts } = runBatch(
            'sh',
            argvs.map((words) => ({ argv: ['printf', '%s\\0', ...words] })),
          );
          expect(parts.map((p) => p.stdout.split('\0').slice(0, -1))).toEqual(argvs.map((w) => (w.length ? w : [''])).map((w) => w));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses an empty batch', () => {
    expect(() => buildBatchScript([], { sudo: false, stopOnFailure: false })).toThrow(/at least one/);
  });
});

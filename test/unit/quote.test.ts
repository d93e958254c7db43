import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteWord, toShellCommand } from '../../src/ssh/quote.ts';

/** Runs the command line through a real shell and returns the words printf received. */
function wordsSeenBy(shell: string, words: string[]): string[] {
  const line = toShellCommand(['printf', '%s\\0', ...words]);
  const res = spawnSync(shell, ['-c', line], { encoding: 'utf8' });
  expect(res.status, res.stderr).toBe(0);
  const out = res.stdout.split('\0');
  out.pop();
  return out;
}

describe('quoteWord', () => {
  it.each([
    ['ovsbr0', 'ovsbr0'],
    ['datapath_type=netdev', 'datapath_type=netdev'],
    ['br0; rm -rf /', "'br0; rm -rf /'"],
    ["it's", "'it'\\''s'"],
    ['', "''"],
    ['$(reboot)', "'$(reboot)'"],
    ['`id`', "'`id`'"],
    ['a\nb', "'a\nb'"],
    ['~root', "'~root'"],
    ['*', "'*'"],
  ])('%j → %s', (word, quoted) => {
    expect(quoteWord(word)).toBe(quoted);
  });

  it('quotes an assignment-looking first word so it is not an assignment', () => {
    expect(toShellCommand(['A=b', 'x'])).toBe("'A=b' x");
  });

  it('refuses NUL bytes, which no argv can carry', () => {
    expect(() => quoteWord('a\0b')).toThrow(/NUL/);
  });

  it('refuses an empty argv', () => {
    expect(() => toShellCommand([])).toThrow();
  });
});

describe('toShellCommand round-trips through real shells', () => {
  const hostile = ['br0; rm -rf /', "'; echo pwned; '", '$(id)', '`id`', '"$HOME"', 'a b\tc\nd', '\\', "'", '--', '-n', '*', '!', '#x'];

  it.each(['sh', 'bash'])('%s sees exactly the words it was given (examples)', (shell) => {
    expect(wordsSeenBy(shell, hostile)).toEqual(hostile);
  });

  it('any words survive dash (property)', () => {
    const word = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), (words) => {
        expect(wordsSeenBy('sh', words)).toEqual(words);
      }),
      { numRuns: 150 },
    );
  });
});

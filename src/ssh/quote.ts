/**
 * Quoting argv for the remote POSIX shell. ssh runs a command *string* through the login
 * user's shell, so every word is quoted here and nowhere else: callers build argv arrays.
 */

// Words made only of these characters mean the same quoted or not, in any position.
const SAFE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/;
// After the command name '=' is harmless too (in first position `a=b` would be an assignment).
const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one word: bare when it is plainly safe, otherwise in single quotes with each
 * embedded quote written as '\''.
 * @example quoteWord("br0; rm -rf /") === "'br0; rm -rf /'"
 */
export function quoteWord(word: string, position = 1): string {
  if (word.includes('\0')) throw new TypeError('argv words cannot contain NUL bytes');
  const safe = position === 0 ? SAFE_WORD : SAFE_ARG;
  if (word !== '' && safe.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Turns argv into one command line for `sh -c` on the remote side.
 * @example toShellCommand(['ovs-vsctl', 'br-exists', "it's"]) === "ovs-vsctl br-exists 'it'\\''s'"
 */
export function toShellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('argv must not be empty');
  return argv.map((w, i) => quoteWord(w, i)).join(' ');
}

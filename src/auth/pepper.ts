import { readFileSync } from 'node:fs';
import type { AuthConfig } from '../config/config.ts';
import { ErrorCode, TrunklineError } from '../errors/codes.ts';

const MIN_LENGTH = 32;

/**
 * The server pepper the token hashes are keyed with: TRUNKLINE_AUTH_PEPPER_FILE's content (one
 * line, trimmed) or TRUNKLINE_AUTH_PEPPER. Every gateway and the token command must use the same
 * one; it must not be in Redis (a copy of Redis would then be enough to check guessed secrets).
 * Null when authentication is off.
 */
export function loadPepper(auth: AuthConfig): Buffer | null {
  if (auth.mode === 'off') return null;
  let pepper = auth.pepper;
  if (auth.pepperFile) {
    try {
      pepper = readFileSync(auth.pepperFile, 'utf8').trim();
    } catch (err) {
      throw new TrunklineError(
        ErrorCode.CONFIG_INVALID,
        `TRUNKLINE_AUTH_PEPPER_FILE: cannot read ${auth.pepperFile}: ${(err as Error).message}`,
      );
    }
  }
  if (!pepper)
    throw new TrunklineError(
      ErrorCode.CONFIG_INVALID,
      'API tokens need a server pepper: set TRUNKLINE_AUTH_PEPPER_FILE to a file holding one (e.g. `openssl rand -hex 32 > /etc/trunkline/pepper`), or TRUNKLINE_AUTH_MODE=off on loopback',
    );
  if (pepper.length < MIN_LENGTH)
    throw new TrunklineError(
      ErrorCode.CONFIG_INVALID,
      `the server pepper must be at least ${MIN_LENGTH} characters (e.g. openssl rand -hex 32)`,
    );
  return Buffer.from(pepper, 'utf8');
}

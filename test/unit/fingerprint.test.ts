import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sameFingerprint, sha256Fingerprint } from '../../src/ssh/fingerprint.ts';

const dir = mkdtempSync(join(tmpdir(), 'tl-fp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sha256Fingerprint', () => {
  it('matches what ssh-keygen prints for the same key', () => {
    const key = join(dir, 'k');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const blob = Buffer.from(readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!, 'base64');
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], { encoding: 'utf8' }).split(' ')[1];
    expect(sha256Fingerprint(blob)).toBe(printed);
  });
  it('tolerates base64 padding', () => {
    expect(sameFingerprint('SHA256:abc', 'SHA256:abc=')).toBe(true);
    expect(sameFingerprint('SHA256:abc', 'SHA256:abd')).toBe(false);
  });
});

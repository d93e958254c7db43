import { createHash } from 'node:crypto';

/**
 * OpenSSH's SHA256 fingerprint of a public key blob, as `ssh-keygen -lf -E sha256` prints it
 * (base64 without padding).
 */
export function sha256Fingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Compares two fingerprints, tolerating base64 padding written by other tools. */
export function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/=+$/, '') === b.replace(/=+$/, '');
}

import { createHmac, randomBytes } from 'node:crypto';

/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com, the spec's "Signature scheme"):
 * a secret is `whsec_` + base64 of 24..64 random bytes; a delivery carries `webhook-id` (the
 * message id, the same on every retry), `webhook-timestamp` (unix seconds of the attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the
 * base64-decoded part of the secret after `whsec_`. Made with node:crypto alone; the tests check
 * it with the `standardwebhooks` package.
 */

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key of a secret: the base64 after `whsec_`, decoded. */
function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `webhook-signature` value for one attempt. */
export function signature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** Every header a delivery attempt sends. */
export function deliveryHeaders(secret: string, messageId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature(secret, messageId, timestampSeconds, body),
  };
}

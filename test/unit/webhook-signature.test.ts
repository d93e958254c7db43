import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryHeaders, newSecret, SECRET_PREFIX, signature } from '../../src/webhooks/signature.ts';

/** Signatures as the Standard Webhooks spec defines them, checked by its reference package (standardwebhooks). */
describe('webhook signatures (Standard Webhooks)', () => {
  it('match the test vector of the spec', () => {
    // The example of the spec's "Signature scheme" section (and of the reference libraries' tests).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(signature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('new secrets are whsec_ + base64 of 32 random bytes, all different', () => {
    const secrets = Array.from({ length: 20 }, newSecret);
    for (const s of secrets) {
      expect(s.startsWith(SECRET_PREFIX)).toBe(true);
      const raw = Buffer.from(s.slice(SECRET_PREFIX.length), 'base64');
      expect(raw.length).toBe(32);
      expect(raw.toString('base64')).toBe(s.slice(SECRET_PREFIX.length));
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it('verify with the standardwebhooks package: the payload comes back, a changed body, id, timestamp or secret is refused', () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-12-01T10:00:00.000Z', data: { jobId: 'x', ünï: 'cödé' } });
    const now = Math.floor(Date.now() / 1000);
    const headers = deliveryHeaders(secret, 'msg_1', now, body);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // The package computes the same value itself.
    expect(new Webhook(secret).sign('msg_1', new Date(now * 1000), body)).toBe(headers['webhook-signature']);

    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('an old timestamp is refused by receivers (replay protection is theirs: each attempt is signed anew)', () => {
    const secret = newSecret();
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect(() => new Webhook(secret).verify('{}', deliveryHeaders(secret, 'msg_1', old, '{}'))).toThrow(/too old/i);
  });

  it('refuses a secret without the whsec_ prefix', () => {
    expect(() => signature('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg', 1, '{}')).toThrow(/whsec_/);
  });
});

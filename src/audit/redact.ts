/** Keys whose values never go into the audit log, at any depth (a webhook secret, a password, a key, a token). */
const SECRET_KEY = /secret|password|passphrase|token|private|authorization|credential|cookie/i;
export const REDACTED = '[redacted]';

/**
 * A copy of a request's input for the audit log: values under secret-looking keys replaced,
 * strings that look like Trunkline or webhook secrets replaced wherever they are, and the whole
 * bounded (long strings cut, deep or huge structures summarised) so one request cannot bloat the log.
 * @example redact({ name: 'ci', secret: 'whsec_…' }) // { name: 'ci', secret: '[redacted]' }
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (/\btl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\b|\bwhsec_[A-Za-z0-9+/=]{20,}/.test(value)) return REDACTED;
    return value.length > 512 ? `${value.slice(0, 512)}… (${value.length} characters)` : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 6) return '[…]';
  if (Array.isArray(value)) {
    const items = value.slice(0, 100).map((v) => redact(v, depth + 1));
    return value.length > 100 ? [...items, `… (${value.length} items)`] : items;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 100)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/**
 * The credential a request carries: `Authorization: Bearer <token>` (scripts, the CLI), or
 * `Authorization: Basic <base64(user:token)>` where the password is the token (browsers: the
 * API reference and GraphiQL prompt for it; the user name is ignored). Null when there is none
 * or the header is neither.
 * @example credentialOf('Bearer tl_0123456789abcdef_…') === 'tl_0123456789abcdef_…'
 */
export function credentialOf(authorization: string | null | undefined): string | null {
  if (!authorization) return null;
  const m = /^(\S+)\s+(\S+)\s*$/.exec(authorization);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!;
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

/**
 * Global object ids (`Node.id`): opaque to clients, base64url of "<Type>:<key>", so ids of
 * different types never collide and clients do not build them by hand.
 */
export function toGlobalId(type: string, key: string): string {
  return Buffer.from(`${type}:${key}`, 'utf8').toString('base64url');
}

export function fromGlobalId(id: string): { type: string; key: string } | null {
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0 || toGlobalId(text.slice(0, colon), text.slice(colon + 1)) !== id) return null;
  return { type: text.slice(0, colon), key: text.slice(colon + 1) };
}

/*
 * The API token test clients send, per gateway origin (http://127.0.0.1:<port>): set by
 * startTrunkline for the gateways it starts, and by a test for another gateway it starts on the
 * same prefix. A client call may override it (`token: null` sends none).
 */

const tokens = new Map<string, string>();

const originOf = (url: string) => new URL(url).origin;

export function useToken(url: string, token: string): void {
  tokens.set(originOf(url), token);
}

export function forgetToken(url: string): void {
  tokens.delete(originOf(url));
}

/** The token for a URL: the override when one is given (null: none), else the gateway's. */
export function tokenFor(url: string, override?: string | null): string | null {
  if (override !== undefined) return override;
  return tokens.get(originOf(url)) ?? null;
}

/** An Authorization header for a URL, or none. */
export function authorization(url: string, override?: string | null): Record<string, string> {
  const token = tokenFor(url, override);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/*
 * The signed-in token, kept in sessionStorage: it lives as long as the tab, is not sent by the
 * browser on its own (unlike a cookie, so no CSRF), and is gone when the tab closes.
 */

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'trunkline.token';

/** What was pasted, without surrounding space or a copied "Bearer " (the gateway judges the rest). */
export function normaliseToken(input: string): string {
  return input.trim().replace(/^Bearer\s+/i, '');
}

export class Session {
  private readonly store: KeyValueStore;

  constructor(store: KeyValueStore) {
    this.store = store;
  }

  get token(): string | null {
    return this.store.getItem(KEY);
  }

  signIn(token: string): void {
    this.store.setItem(KEY, token);
  }

  signOut(): void {
    this.store.removeItem(KEY);
  }
}

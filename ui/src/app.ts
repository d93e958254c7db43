import type { Api } from './api.ts';
import type { Route } from './router.ts';
import type { StreamStatus, SubscribeOptions, Subscription } from './stream.ts';
import type { Caller } from './types.ts';

/** What pages get from the shell (main.ts). */
export interface App {
  api: Api;
  /** A subscription with the session's token, whose 401/403 the shell handles. */
  subscribe<T>(
    opts: Omit<SubscribeOptions<T>, 'token' | 'onFatal' | 'onStatus'> & { onFatal?: SubscribeOptions<T>['onFatal'] },
  ): Subscription;
  /** A failure to show: 401 signs out, everything else is a banner. */
  fail(err: unknown): void;
  /** Clears the banner (after a success). */
  ok(): void;
  navigate(route: Route): void;
  /** The hypervisors' names (read once per sign-in), for the filters. */
  hostNames(): Promise<string[]>;
  /** Who is signed in (what the header shows): pages offer only what this caller may do. */
  caller(): Caller | null;
}

/** A mounted page: the shell disposes of it (its streams closed) before mounting the next. */
export interface Page {
  el: HTMLElement;
  /** Takes a new route of the same page (a filter changed) without remounting; false: remount. */
  update?(route: Route): boolean;
  dispose(): void;
}

export type { StreamStatus };

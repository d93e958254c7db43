import type { ObjectRef } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../src/errors/codes.ts';
import { builder } from './builder.ts';

/** Relay-style connections: `nodes`, `edges { cursor node }`, `pageInfo`, `totalCount`. */
export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: number | null;
}

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 50;

export const PageInfoRef = builder.objectRef<Page<unknown>>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.string({ nullable: true, resolve: (p) => p.cursors[0] ?? null }),
    endCursor: t.string({ nullable: true, resolve: (p) => p.cursors.at(-1) ?? null }),
  }),
});

/** `first` is bounded: a client cannot ask for the whole fleet in one page. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE)
    throw new GraphQLError(`first must be between 0 and ${MAX_PAGE}`, { extensions: { code: ErrorCode.INVALID_INPUT, field: 'first' } });
  return first;
}

const encodeOffset = (n: number) => Buffer.from(`offset:${n}`).toString('base64url');
function decodeOffset(cursor: string): number {
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new GraphQLError(`invalid cursor: ${cursor}`, { extensions: { code: ErrorCode.INVALID_INPUT, field: 'after' } });
  return Number(m[1]);
}

/** Pages an in-memory, stably ordered list with opaque offset cursors. */
export function pageOf<T>(all: readonly T[], first: number | null | undefined, after: string | null | undefined): Page<T> {
  const size = pageSize(first);
  const start = after ? decodeOffset(after) + 1 : 0;
  const items = all.slice(start, start + size);
  return {
    items,
    cursors: items.map((_, i) => encodeOffset(start + i)),
    hasNextPage: start + size < all.length,
    hasPreviousPage: start > 0,
    totalCount: all.length,
  };
}

/** Declares `<Name>Connection` and `<Name>Edge` for a node type. */
// biome-ignore lint/suspicious/noExplicitAny: Pothos refs of any node type (the builder's type parameter differs per ref)
export function connectionType<T>(name: string, nodeRef: ObjectRef<any, T>) {
  const EdgeRef = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // Pothos cannot relate a generic T to the ref's shape; the ref is typed by the caller.
      node: t.field({ type: nodeRef, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      nodes: t.field({ type: [nodeRef], resolve: (p) => p.items as never }),
      edges: t.field({ type: [EdgeRef], resolve: (p) => p.items.map((node, i) => ({ cursor: p.cursors[i]!, node })) }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p as Page<unknown> }),
      totalCount: t.int({ nullable: true, resolve: (p) => p.totalCount }),
    }),
  });
}

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../src/errors/codes.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { fromGlobalId } from '../global-id.ts';

/** Loaders for `node(id:)`, registered by each type that implements Node. */
const loaders = new Map<string, (key: string, ctx: Context) => Promise<unknown>>();

export function registerNodeLoader(type: string, load: (key: string, ctx: Context) => Promise<unknown>): void {
  loaders.set(type, load);
}

export const NodeRef = builder.interfaceRef<unknown>('Node').implement({
  description: 'An object with a globally unique, opaque id.',
  fields: (t) => ({
    id: t.id({
      resolve: () => {
        throw new Error('implemented by each type');
      },
    }),
  }),
});

builder.queryField('node', (t) =>
  t.field({
    type: NodeRef,
    nullable: true,
    description: 'Fetches any object by its global id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const decoded = fromGlobalId(String(id));
      if (!decoded) throw new GraphQLError(`not a Trunkline id: ${String(id)}`, { extensions: { code: ErrorCode.INVALID_INPUT } });
      const load = loaders.get(decoded.type);
      return load ? ((await load(decoded.key, ctx)) ?? null) : null;
    },
  }),
);

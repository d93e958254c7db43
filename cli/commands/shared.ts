import type { Command, OptionValues } from 'commander';
import type { QueryValue } from '../client.ts';
import { type Context, createContext, type Io } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Column } from '../output/table.ts';

/*
 * What every command module gets: a way to turn a handler into a commander action (with its
 * context made from the global options, its exit code recorded), and the list/show shapes
 * most read commands share.
 */

/** A handler answers the exit code (an ExitCode), or nothing for 0. */
export type Handler = (ctx: Context, args: string[], opts: OptionValues) => Promise<unknown>;

export interface Cli {
  io: Io;
  exitCode: number;
  action(handler: Handler): (...params: unknown[]) => Promise<void>;
}

export function createCli(io: Io): Cli {
  const cli: Cli = {
    io,
    exitCode: 0,
    action:
      (handler) =>
      async (...params) => {
        // commander calls an action with the declared arguments, then the options, then the command.
        const command = params.at(-1) as Command;
        const args = params.slice(0, -2) as string[];
        const opts = command.optsWithGlobals();
        const ctx = createContext(opts, io);
        const code = await handler(ctx, args, opts);
        cli.exitCode = typeof code === 'number' ? code : 0;
      },
  };
  return cli;
}

/** A list command's answer: every page, printed as rows (json/yaml: the items as an array). */
export async function printList(
  ctx: Context,
  path: string,
  columns: readonly Column[],
  query: Record<string, QueryValue> = {},
  max?: number,
) {
  const rows = await ctx.client.listAll(path, query, max);
  ctx.print({ data: rows, rows, columns });
}

/** A show command's answer: one object as FIELD VALUE lines (json/yaml: the object). */
export async function printOne(ctx: Context, path: string, fields: readonly Column[]) {
  const row = await ctx.client.get<unknown>(path);
  ctx.print({ data: row, row, columns: fields });
}

/** Adds a group command (`trunkline vlan …`) with its summary. */
export function group(parent: Command, name: string, summary: string, description?: string): Command {
  return parent
    .command(name)
    .summary(summary)
    .description(description ?? summary);
}

/** Runs a request, naming in a refusal the flag each refused field came from. */
export async function withFlags<T>(flags: Record<string, string>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliError) err.flags = flags;
    throw err;
  }
}

import { homedir } from 'node:os';
import { ApiClient, type FetchLike } from './client.ts';
import { configPath, loadConfigFile, type Settings, settingsFrom } from './config.ts';
import { usageError } from './errors.ts';
import { FORMATS, type Format, type OutputOptions, type Result, render } from './output/format.ts';
import { colorEnabled, painter } from './output/style.ts';

/*
 * What a command runs with: the streams and environment (Io: the process's, or a test's), the
 * settings, a client for the gateway and the output options, all from the global options.
 */

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
  hasColors?: () => boolean;
}

export interface Io {
  stdout: Out;
  stderr: Out;
  env: Readonly<Record<string, string | undefined>>;
  home?: string;
  fetch?: FetchLike;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
  config?: string;
  output?: string;
  column?: string[];
  color?: boolean;
}

export interface Context {
  io: Io;
  settings: Settings;
  client: ApiClient;
  output: OutputOptions;
  /** stdout is a terminal: table output, --wait by default. */
  interactive: boolean;
  print(result: Result): void;
  /** A line for people on stderr (notes, hints), never mixed into machine output. */
  note(line: string): void;
}

export function outputOptions(opts: GlobalOptions, io: Io): OutputOptions {
  const interactive = io.stdout.isTTY === true;
  const format = (opts.output ?? (interactive ? 'table' : 'json')) as Format;
  if (!FORMATS.includes(format)) throw usageError(`-o ${opts.output}: unknown output format (${FORMATS.join(', ')})`);
  const color = opts.color !== false && colorEnabled(io.env, io.stdout);
  return { format, columns: opts.column ?? [], paint: painter(color) };
}

export function createContext(opts: GlobalOptions, io: Io): Context {
  const file = configPath(opts.config, io.env, io.home ?? homedir());
  const settings = settingsFrom({ url: opts.url, token: opts.token }, io.env, loadConfigFile(file.path, file.explicit));
  const output = outputOptions(opts, io);
  return {
    io,
    settings,
    client: new ApiClient({ apiUrl: settings.apiUrl, token: settings.token, fetch: io.fetch }),
    output,
    interactive: io.stdout.isTTY === true,
    print: (result) => io.stdout.write(render(result, output)),
    note: (line) => io.stderr.write(`${line}\n`),
  };
}

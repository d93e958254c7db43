import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ErrorCode } from '../src/errors/codes.ts';
import { CliError, Exit } from './errors.ts';

/*
 * Where the CLI finds its gateway and token: flag > environment > config file > default, per
 * setting. The resolution is pure (settingsFrom); reading files is done apart (loadConfigFile,
 * readTokenFile) so tests can give every source directly.
 */

export const DEFAULT_URL = 'http://127.0.0.1:4000';
const CONFIG_KEYS = ['url', 'token', 'tokenFile'] as const;

export interface ConfigFile {
  url?: string;
  token?: string;
  tokenFile?: string;
}

export interface Settings {
  /** The gateway's root URL, without /graphql or /api/v1 (no trailing slash). */
  baseUrl: string;
  /** The REST API root: baseUrl + /api/v1. */
  apiUrl: string;
  token: string | null;
  /** Where each setting came from, for `trunkline config` style diagnostics and tests. */
  sources: { url: Source; token: Source };
}
export type Source = 'flag' | 'env' | 'file' | 'default';

const configError = (message: string) => new CliError(Exit.USAGE, ErrorCode.CONFIG_INVALID, message);

/**
 * The gateway's root URL from what an operator may paste: the root, the GraphQL URL (…/graphql)
 * or the REST root (…/api/v1), with or without a trailing slash. Only http(s).
 */
export function normalizeBaseUrl(raw: string, where = 'url'): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw configError(`${where}: not a URL: "${raw}" (e.g. http://127.0.0.1:4000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw configError(`${where}: must be http:// or https://, not ${url.protocol}//`);
  if (url.search || url.hash) throw configError(`${where}: must not have a query or fragment`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/(graphql|api\/v1)$/, '');
  return `${url.origin}${path}`;
}

/** The config file's path: --config, else TRUNKLINE_CONFIG, else $XDG_CONFIG_HOME/trunkline/config.yaml (~/.config when unset). */
export function configPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): { path: string; explicit: boolean } {
  if (flag) return { path: flag, explicit: true };
  if (env.TRUNKLINE_CONFIG) return { path: env.TRUNKLINE_CONFIG, explicit: true };
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return { path: join(xdg, 'trunkline', 'config.yaml'), explicit: false };
}

/** Checks a parsed config file: an object with known string keys only (a typo must not pass silently). */
export function validateConfigFile(value: unknown, path: string): ConfigFile {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw configError(`${path}: must be a YAML mapping of ${CONFIG_KEYS.join(', ')}`);
  const out: ConfigFile = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      throw configError(`${path}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
    if (typeof v !== 'string' || v.trim() === '') throw configError(`${path}: ${key} must be a non-empty string`);
    out[key as (typeof CONFIG_KEYS)[number]] = v;
  }
  if (out.token && out.tokenFile) throw configError(`${path}: give token or tokenFile, not both`);
  return out;
}

/** Reads the config file; a missing file is fine unless it was named explicitly. */
export function loadConfigFile(path: string, explicit: boolean): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return {};
    throw configError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (err) {
    throw configError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const file = validateConfigFile(parsed, path);
  // A relative tokenFile is relative to the config file, and ~ is the home directory.
  if (file.tokenFile) file.tokenFile = expandPath(file.tokenFile, dirname(resolve(path)));
  return file;
}

export function expandPath(p: string, base: string, home = homedir()): string {
  if (p === '~' || p.startsWith('~/')) return join(home, p.slice(1));
  return resolve(base, p);
}

/** A token file's token: its first non-empty line, trimmed. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(`cannot read the token file ${path}: ${(err as Error).message}`);
  }
  const token = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!token) throw configError(`the token file ${path} is empty`);
  return token;
}

/**
 * The settings from every source, each by precedence: flag > env > file > default.
 */
export function settingsFrom(
  flags: { url?: string; token?: string },
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFile,
  readToken: (path: string) => string = readTokenFile,
): Settings {
  const pick = (f: string | undefined, e: string | undefined, c: () => string | undefined): [string | undefined, Source] => {
    if (f) return [f, 'flag'];
    if (e) return [e, 'env'];
    const fromFile = c();
    return fromFile ? [fromFile, 'file'] : [undefined, 'default'];
  };
  const [url, urlSource] = pick(flags.url, env.TRUNKLINE_URL, () => file.url);
  const baseUrl = normalizeBaseUrl(url ?? DEFAULT_URL, urlSource === 'flag' ? '--url' : urlSource === 'env' ? 'TRUNKLINE_URL' : 'url');
  // The token file is read only when the file's token is the one that wins.
  const [token, tokenSource] = pick(
    flags.token,
    env.TRUNKLINE_TOKEN,
    () => file.token ?? (file.tokenFile ? readToken(file.tokenFile) : undefined),
  );
  return { baseUrl, apiUrl: `${baseUrl}/api/v1`, token: token?.trim() || null, sources: { url: urlSource, token: tokenSource } };
}

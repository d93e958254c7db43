import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configPath, DEFAULT_URL, loadConfigFile, normalizeBaseUrl, settingsFrom, validateConfigFile } from '../../cli/config.ts';
import { CliError } from '../../cli/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'tl-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('settings precedence: flag > env > file > default', () => {
  const env = { TRUNKLINE_URL: 'http://env:4000', TRUNKLINE_TOKEN: 'tl_env_x' };
  const file = { url: 'http://file:4000', token: 'tl_file_x' };

  it('each setting on its own', () => {
    expect(settingsFrom({ url: 'http://flag:4000', token: 'tl_flag_x' }, env, file)).toMatchObject({
      baseUrl: 'http://flag:4000',
      token: 'tl_flag_x',
      sources: { url: 'flag', token: 'flag' },
    });
    expect(settingsFrom({}, env, file)).toMatchObject({
      baseUrl: 'http://env:4000',
      token: 'tl_env_x',
      sources: { url: 'env', token: 'env' },
    });
    expect(settingsFrom({}, {}, file)).toMatchObject({
      baseUrl: 'http://file:4000',
      token: 'tl_file_x',
      sources: { url: 'file', token: 'file' },
    });
    expect(settingsFrom({}, {}, {})).toMatchObject({ baseUrl: DEFAULT_URL, token: null, sources: { url: 'default', token: 'default' } });
    expect(settingsFrom({}, {}, {}).apiUrl).toBe('http://127.0.0.1:4000/api/v1');
  });

  it('mixed: the url from the flag, the token from the file', () => {
    expect(settingsFrom({ url: 'http://flag:1' }, {}, file)).toMatchObject({ baseUrl: 'http://flag:1', token: 'tl_file_x' });
  });

  it("the file's tokenFile is read only when the file's token wins", () => {
    const read: string[] = [];
    const readToken = (p: string) => {
      read.push(p);
      return 'tl_fromfile_x';
    };
    expect(settingsFrom({}, { TRUNKLINE_TOKEN: 'tl_env_x' }, { tokenFile: '/secret' }, readToken).token).toBe('tl_env_x');
    expect(read).toEqual([]);
    expect(settingsFrom({}, {}, { tokenFile: '/secret' }, readToken).token).toBe('tl_fromfile_x');
    expect(read).toEqual(['/secret']);
  });
});

describe('the gateway URL', () => {
  it('accepts the root, the GraphQL URL and the REST root, with or without a slash', () => {
    for (const raw of ['http://gw:4000', 'http://gw:4000/', 'http://gw:4000/graphql', 'http://gw:4000/api/v1', 'http://gw:4000/api/v1/'])
      expect(normalizeBaseUrl(raw)).toBe('http://gw:4000');
    expect(normalizeBaseUrl('https://noc.example.com/trunkline/graphql')).toBe('https://noc.example.com/trunkline');
  });

  it('refuses what is no http(s) URL, naming where it came from', () => {
    expect(() => normalizeBaseUrl('gw:4000', '--url')).toThrow(/--url: must be http/);
    expect(() => normalizeBaseUrl('not a url', 'TRUNKLINE_URL')).toThrow(/TRUNKLINE_URL: not a URL/);
    expect(() => settingsFrom({}, { TRUNKLINE_URL: 'ftp://x' }, {})).toThrow(CliError);
  });
});

describe('the config file', () => {
  it('is --config, else TRUNKLINE_CONFIG, else XDG_CONFIG_HOME or ~/.config', () => {
    expect(configPath('/a.yaml', { TRUNKLINE_CONFIG: '/b.yaml' }, '/home/op')).toEqual({ path: '/a.yaml', explicit: true });
    expect(configPath(undefined, { TRUNKLINE_CONFIG: '/b.yaml' }, '/home/op')).toEqual({ path: '/b.yaml', explicit: true });
    expect(configPath(undefined, { XDG_CONFIG_HOME: '/xdg' }, '/home/op')).toEqual({ path: '/xdg/trunkline/config.yaml', explicit: false });
    expect(configPath(undefined, { XDG_CONFIG_HOME: 'relative' }, '/home/op').path).toBe('/home/op/.config/trunkline/config.yaml');
    expect(configPath(undefined, {}, '/home/op').path).toBe('/home/op/.config/trunkline/config.yaml');
  });

  it('holds url, token or tokenFile, nothing else', () => {
    expect(validateConfigFile({ url: 'http://x', token: 't' }, 'c.yaml')).toEqual({ url: 'http://x', token: 't' });
    expect(validateConfigFile(null, 'c.yaml')).toEqual({});
    expect(() => validateConfigFile({ urll: 'http://x' }, 'c.yaml')).toThrow(/unknown key "urll"/);
    expect(() => validateConfigFile({ token: 't', tokenFile: 'f' }, 'c.yaml')).toThrow(/token or tokenFile, not both/);
    expect(() => validateConfigFile(['x'], 'c.yaml')).toThrow(/YAML mapping/);
    expect(() => validateConfigFile({ url: 4000 }, 'c.yaml')).toThrow(/url must be a non-empty string/);
  });

  it('is read from disk: a missing default is fine, a missing explicit one is not; tokenFile is relative to it', () => {
    expect(loadConfigFile(join(dir, 'none.yaml'), false)).toEqual({});
    expect(() => loadConfigFile(join(dir, 'none.yaml'), true)).toThrow(/cannot read the config file/);
    writeFileSync(join(dir, 'config.yaml'), 'url: http://gw:4000/graphql\ntokenFile: secrets/token\n');
    const file = loadConfigFile(join(dir, 'config.yaml'), true);
    expect(file).toEqual({ url: 'http://gw:4000/graphql', tokenFile: join(dir, 'secrets/token') });
    writeFileSync(join(dir, 'bad.yaml'), 'url: [unclosed\n');
    expect(() => loadConfigFile(join(dir, 'bad.yaml'), true)).toThrow(/not valid YAML/);
  });

  it('a token file gives its first line, trimmed', () => {
    writeFileSync(join(dir, 'token'), '\n  tl_abc_def  \n');
    expect(settingsFrom({}, {}, { tokenFile: join(dir, 'token') }).token).toBe('tl_abc_def');
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => settingsFrom({}, {}, { tokenFile: join(dir, 'empty') })).toThrow(/is empty/);
  });
});

import { type lookup as dnsLookup, promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { ErrorCode } from '../errors/codes.ts';
import { type AllowList, judgeAddresses, normalizeAddress, type Resolve } from './allow-list.ts';
import type { DeliveryError } from './types.ts';

/*
 * One POST of a delivery. The destination is checked against the allow-list when the socket
 * connects: the connection's own DNS lookup is replaced by one that resolves every address and
 * refuses them all unless each is allowed, so what is checked is what is connected to (no gap
 * for DNS rebinding between a check and the connect). Redirects are not followed (node:http
 * never does): a 3xx is a failed attempt. One deadline covers connecting, sending and the status
 * line; the answer's body is drained and dropped.
 */

const USER_AGENT = 'Trunkline-Webhooks/1';

/** Kept-alive sockets per destination (each was checked when it connected). */
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export interface AttemptResult {
  responseCode: number | null;
  latencyMs: number;
  error: DeliveryError | null;
}

/** The system resolver, as connections use it: every address of the name. */
export const systemResolve: Resolve = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

class NotAllowed extends Error {}
class TimedOut extends Error {}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net.connect that resolves with `resolve` and lets only allowed addresses through. */
function guardedLookup(list: AllowList, resolve: Resolve) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolve(hostname).then(
      (all) => {
        const verdict = judgeAddresses(list, hostname, all);
        if (!verdict.allowed) return callback(new NotAllowed(verdict.reason), '', 0);
        const wanted =
          options.family === 4 || options.family === 6 ? verdict.addresses.filter((a) => isIP(a) === options.family) : verdict.addresses;
        if (wanted.length === 0) return callback(new Error(`${hostname} has no IPv${options.family} address`), '', 0);
        if (options.all)
          return callback(
            null,
            wanted.map((address) => ({ address, family: isIP(address) })),
          );
        return callback(null, wanted[0]!, isIP(wanted[0]!));
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

const failure = (code: DeliveryError['code'], message: string): DeliveryError => ({ code, message });

function describe(err: unknown, timeoutMs: number): DeliveryError {
  if (err instanceof NotAllowed) return failure(ErrorCode.WEBHOOK_URL_NOT_ALLOWED, err.message);
  if (err instanceof TimedOut) return failure(ErrorCode.WEBHOOK_TIMEOUT, `no answer within ${timeoutMs} ms`);
  const e = err as NodeJS.ErrnoException;
  return failure(ErrorCode.WEBHOOK_DELIVERY_FAILED, e.code ? `${e.code}: ${e.message}` : e.message);
}

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowList: AllowList;
  /** The resolver (tests give their own); the system's by default. */
  resolve?: Resolve;
}

/** Sends one attempt. Never throws: what went wrong is in the result. */
export async function postWebhook(opts: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    return { responseCode: null, latencyMs: 0, error: failure(ErrorCode.WEBHOOK_URL_NOT_ALLOWED, 'not a URL') };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { responseCode: null, latencyMs: 0, error: failure(ErrorCode.WEBHOOK_URL_NOT_ALLOWED, `${url.protocol} is not http or https`) };
  // An address in the URL is connected to without a lookup: judged here.
  if (isIP(normalizeAddress(url.hostname))) {
    const verdict = judgeAddresses(opts.allowList, url.hostname, []);
    if (!verdict.allowed) return { responseCode: null, latencyMs: 0, error: failure(ErrorCode.WEBHOOK_URL_NOT_ALLOWED, verdict.reason) };
  }
  const client = url.protocol === 'https:' ? https : http;
  const resolve = opts.resolve ?? systemResolve;
  return new Promise<AttemptResult>((done) => {
    let settled = false;
    const settle = (r: AttemptResult) => {
      if (!settled) {
        settled = true;
        done(r);
      }
    };
    const req = client.request(url, {
      method: 'post',
      agent: agents[url.protocol as 'http:' | 'https:'],
      headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)), 'user-agent': USER_AGENT },
      lookup: guardedLookup(opts.allowList, resolve) as unknown as typeof dnsLookup,
    });
    const timer = setTimeout(() => req.destroy(new TimedOut()), opts.timeoutMs);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      settle({
        responseCode: status,
        latencyMs: elapsed(),
        error: ok
          ? null
          : failure(
              ErrorCode.WEBHOOK_DELIVERY_FAILED,
              status >= 300 && status < 400 ? `answered ${status} (redirects are not followed)` : `answered ${status}`,
            ),
      });
      // The body is not read, only drained, within the same deadline.
      res.on('end', () => clearTimeout(timer));
      res.on('error', () => clearTimeout(timer));
      res.resume();
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      settle({ responseCode: null, latencyMs: elapsed(), error: describe(err, opts.timeoutMs) });
    });
    req.end(opts.body);
  });
}

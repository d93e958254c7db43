import { ErrorCode, TrunklineError } from '../errors/codes.ts';

/*
 * Telling "Redis cannot serve us right now" from every other error: such a request is answered
 * 503 SERVICE_UNAVAILABLE with Retry-After (nothing was accepted), and startup steps wait for it.
 */

/** Replies of a Redis that is up but refuses (writes): disk gone, memory full under noeviction, still loading, a replica, failing over. */
const REFUSING = /^(MISCONF|OOM|LOADING|READONLY|MASTERDOWN|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|BUSY)\b/;
/** ioredis's own errors when it has no usable connection. */
const UNREACHABLE =
  /^(Connection is closed|Command timed out|Stream isn't writeable|Reached the max retries per request limit|connect ECONNREFUSED|connect ETIMEDOUT|read ECONNRESET|write EPIPE)/;

/** Whether `err` (or an error it wraps) says Redis is unreachable or refusing, not that the request was wrong. */
export function isRedisUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TrunklineError) return e.code === ErrorCode.SERVICE_UNAVAILABLE;
    const message = e.message ?? '';
    if (e.name === 'MaxRetriesPerRequestError' || UNREACHABLE.test(message)) return true;
    if (e.name === 'ReplyError' && REFUSING.test(message)) return true;
  }
  return false;
}

/** Seconds a client is told to wait (Retry-After) before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** What a client is told: which kind of outage, never the server's own words beyond the reply code. */
export function unavailableMessage(err: unknown): string {
  if (err instanceof TrunklineError && err.code === ErrorCode.SERVICE_UNAVAILABLE) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  const refused = REFUSING.exec(message)?.[1];
  return refused
    ? `Redis refuses writes (${refused}); nothing was accepted or changed: retry in ${RETRY_AFTER_SECONDS} s`
    : `Redis is unreachable; nothing was accepted or changed: retry in ${RETRY_AFTER_SECONDS} s`;
}

/** `err` as the error a request answers with. */
export function serviceUnavailable(err: unknown): TrunklineError {
  return new TrunklineError(ErrorCode.SERVICE_UNAVAILABLE, unavailableMessage(err), {}, { cause: err });
}

/**
 * Runs a startup step (seeding the registry, subscribing, scheduling the fleet refresh) until
 * Redis lets it: a process started during an outage or while Redis refuses writes waits, saying
 * so, instead of exiting. Other errors are thrown at once.
 */
export async function whenRedisServes<T>(
  what: string,
  step: () => Promise<T>,
  warn: (details: Record<string, unknown>, message: string) => void,
  options: { maxDelayMs?: number } = {},
): Promise<T> {
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      warn({ err: (err as Error).message, attempt, retryInMs: delay }, `${what}: Redis cannot serve it yet; retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5000);
    }
  }
}

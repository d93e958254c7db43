import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ErrorCode, TrunklineError } from '../../src/errors/codes.ts';
import { isRedisUnavailable, serviceUnavailable, unavailableMessage, whenRedisServes } from '../../src/redis/availability.ts';

// Replies and errors as Redis 7.0 and ioredis 5 give them (seen in test/e2e/redis-outage.test.ts runs).
const OOM = new ReplyError(
  "OOM command not allowed when used memory > 'maxmemory'. script: e71b6154ca6f549e73bbbed7bd23dbdddfa194c0, on @user_script:2.",
);
const MISCONF = new ReplyError(
  'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.',
);
const LOADING = new ReplyError('LOADING Redis is loading the dataset in memory');
const timedOut = new Error('Command timed out');
const refused = new Error('connect ECONNREFUSED 127.0.0.1:6390');
const retries = Object.assign(
  new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'),
  {
    name: 'MaxRetriesPerRequestError',
  },
);

describe('telling a Redis that cannot serve from other errors', () => {
  it('refusals, lost connections and timeouts are "unavailable"; a wrong command or a bug is not', () => {
    for (const err of [OOM, MISCONF, LOADING, timedOut, refused, retries]) expect(isRedisUnavailable(err), err.message).toBe(true);
    expect(isRedisUnavailable(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isRedisUnavailable(new ReplyError('ERR unknown command'))).toBe(false);
    expect(isRedisUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isRedisUnavailable(new TrunklineError(ErrorCode.INVALID_INPUT, 'bad'))).toBe(false);
    // Wrapped (a cause chain), and our own code.
    expect(isRedisUnavailable(new Error('could not enqueue', { cause: OOM }))).toBe(true);
    expect(isRedisUnavailable(serviceUnavailable(refused))).toBe(true);
  });

  it('the message names the kind of refusal and never more of the server than its reply code', () => {
    expect(unavailableMessage(OOM)).toBe('Redis refuses writes (OOM); nothing was accepted or changed: retry in 5 s');
    expect(unavailableMessage(MISCONF)).toBe('Redis refuses writes (MISCONF); nothing was accepted or changed: retry in 5 s');
    expect(unavailableMessage(refused)).toBe('Redis is unreachable; nothing was accepted or changed: retry in 5 s');
  });

  it('a startup step is tried again while Redis cannot serve it, and only then', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const result = await whenRedisServes(
      'schedule the fleet refresh',
      async () => {
        calls++;
        if (calls < 3) throw MISCONF;
        return 'scheduled';
      },
      (_d, m) => warnings.push(m),
      { maxDelayMs: 1 },
    );
    expect(result).toBe('scheduled');
    expect(warnings).toEqual(Array(2).fill('schedule the fleet refresh: Redis cannot serve it yet; retrying'));
    await expect(
      whenRedisServes(
        'x',
        async () => Promise.reject(new TypeError('bug')),
        () => {},
      ),
    ).rejects.toThrow('bug');
  });
});

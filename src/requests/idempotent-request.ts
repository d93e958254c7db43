import { inputError, type UserError } from '../changes/user-errors.ts';
import { ErrorCode } from '../errors/codes.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { parseIdempotencyKey, requestFingerprint } from './idempotency.ts';

/** How one kind of answer is kept for a retry, and given again. */
export interface AnswerCodec<T> {
  /** The answer to keep (only one that accepted a job), or null: then the key is given up. */
  keep(answer: T): string | null;
  replay(kept: string): Promise<T>;
  refuse(userErrors: UserError[]): T;
}

/**
 * A GraphQL change under its `idempotencyKey` (src/requests/idempotency.ts has the rules; REST
 * uses the same store through rest/idempotency.ts): without a key the request just runs. The
 * key is not part of the request's fingerprint; the caller is its scope.
 */
export async function withIdempotencyKey<T>(
  store: IdempotencyStore,
  request: { key: string | null | undefined; scope: string; operation: string; input: unknown },
  codec: AnswerCodec<T>,
  run: () => Promise<T>,
): Promise<T> {
  if (request.key == null) return run();
  const key = parseIdempotencyKey(request.key);
  if (!key) return codec.refuse([inputError('idempotencyKey', ErrorCode.INVALID_INPUT, '1 to 255 printable ASCII characters')]);
  const fingerprint = requestFingerprint(request.operation, request.input);
  const claim = await store.claim('graphql', request.scope, key, fingerprint);
  if (claim.state === 'reused')
    return codec.refuse([inputError('idempotencyKey', ErrorCode.IDEMPOTENCY_KEY_REUSED, `"${key}" was used for a different request`)]);
  if (claim.state === 'in-progress')
    return codec.refuse([
      inputError(
        'idempotencyKey',
        ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
        `the first request with "${key}" is still being handled; retry in a moment`,
      ),
    ]);
  if (claim.state === 'answered') return codec.replay(claim.answer);
  const { owner } = claim;
  let answer: T;
  try {
    answer = await run();
  } catch (err) {
    await store.release('graphql', request.scope, key, owner).catch(() => {});
    throw err;
  }
  const kept = codec.keep(answer);
  if (kept === null) await store.release('graphql', request.scope, key, owner);
  else await store.answer('graphql', request.scope, key, owner, kept);
  return answer;
}

import { GraphQLError } from 'graphql';
import type { UserError } from '../src/changes/user-errors.ts';

/**
 * A refusal of a query (queries have no userErrors): a GraphQL error with the first refusal's
 * code (FORBIDDEN, NOT_FOUND) and every refusal's message.
 */
/** The outcome itself when it holds no userErrors; otherwise refuse(). */
export function orRefuse<T extends { userErrors: readonly UserError[] }>(outcome: T): T {
  if (outcome.userErrors.length) refuse(outcome.userErrors);
  return outcome;
}

export function refuse(userErrors: readonly UserError[]): never {
  throw new GraphQLError(userErrors.map((e) => e.message).join('; '), {
    extensions: { code: userErrors[0]!.code, field: userErrors[0]!.field.slice(1).join('.') || undefined },
  });
}

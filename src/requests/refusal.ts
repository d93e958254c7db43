import type { UserError } from '../changes/user-errors.ts';

/**
 * A refusal thrown from deep in a request (a shared read that found the host out of the caller's
 * scope, a role that does not allow an admin read): REST answers it as the problem of its
 * userErrors (rest/app.ts), GraphQL as an error with its code (gateway/create-gateway.ts).
 */
export class Refusal extends Error {
  readonly userErrors: readonly UserError[];
  /** Input fields that came from the URL, by their path parameter (as problemFromUserErrors takes them). */
  readonly pathFields: Readonly<Record<string, string>>;

  constructor(userErrors: readonly UserError[], pathFields: Readonly<Record<string, string>> = {}) {
    super(userErrors.map((e) => e.message).join('; '));
    this.userErrors = userErrors;
    this.pathFields = pathFields;
  }
}

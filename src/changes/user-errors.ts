import type { z } from 'zod';
import { ErrorCode } from '../errors/codes.ts';

/** A business error returned as data: which input field, a stable code, a sentence for humans. */
export interface UserError {
  field: string[];
  code: string;
  message: string;
}

/** zod issues → userErrors, with paths rooted at the argument name (`input`). */
export function userErrorsFromZod(error: z.ZodError, root = 'input'): UserError[] {
  return error.issues.map((issue) => {
    const field = [root, ...issue.path.map(String)];
    return { field, code: ErrorCode.INVALID_INPUT, message: `${field.slice(1).join('.') || root}: ${issue.message}` };
  });
}

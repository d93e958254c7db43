import type { z } from 'zod';
import { ErrorCode } from '../errors/codes.ts';

/** A business error returned as data: which input field, a stable code, a sentence for humans. */
export interface UserError {
  field: string[];
  code: ErrorCode;
  message: string;
}

/**
 * A userError about one input field (a path below `input`, e.g. 'tag' or ['nics', '0', 'mac']);
 * the message starts with the field's dotted path.
 */
export function inputError(field: string | readonly string[], code: ErrorCode, message: string): UserError {
  const path = typeof field === 'string' ? [field] : [...field];
  return { field: ['input', ...path], code, message: `${path.join('.')}: ${message}` };
}

/** zod issues → userErrors, with paths rooted at the argument name (`input`). */
export function userErrorsFromZod(error: z.ZodError, root = 'input'): UserError[] {
  return error.issues.map((issue) => {
    const field = [root, ...issue.path.map(String)];
    return { field, code: ErrorCode.INVALID_INPUT, message: `${field.slice(1).join('.') || root}: ${issue.message}` };
  });
}

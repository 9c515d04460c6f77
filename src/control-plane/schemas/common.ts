import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '../../core/errors.js';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(ERROR_CODES).map((code) => Type.Literal(code)), { description: 'one of the codes in docs/errors.md' }),
      message: Type.String(),
      issues: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
      request_id: Type.String(),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error: a code, a message and the offending fields.' },
);

/** Standard error responses of a route, for OpenAPI. */
export function errors(...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries([400, 401, 403, ...statuses].map((s) => [s, ErrorResponse]));
}

export const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });
export const JsonObject = Type.Record(Type.String(), Type.Unknown());

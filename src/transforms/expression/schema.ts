import { FormatRegistry, Type, type StringOptions, type TString } from '@sinclair/typebox';
import { GetErrorFunction, SetErrorFunction, ValueErrorType } from '@sinclair/typebox/errors';
import { errorMessage } from '../../core/errors.js';
import { parseExpression } from './parser.js';

const FORMAT = 'sluice-expression';

/** Parse outcome per text, so validation and its error message parse each expression once. */
const parsed = new Map<string, string | null>();

function parseError(text: string): string | null {
  let result = parsed.get(text);
  if (result === undefined) {
    try {
      parseExpression(text);
      result = null;
    } catch (error) {
      result = errorMessage(error);
    }
    if (parsed.size > 1000) parsed.clear();
    parsed.set(text, result);
  }
  return result;
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  FormatRegistry.Set(FORMAT, (text) => parseError(text) === null);
  // Config errors then carry the parser's message (`expected ')' at 1:17`), not a bare format name.
  const previous = GetErrorFunction();
  SetErrorFunction((parameter) => {
    if (parameter.errorType === ValueErrorType.StringFormat && parameter.schema.format === FORMAT && typeof parameter.value === 'string') {
      return parseError(parameter.value) ?? previous(parameter);
    }
    return previous(parameter);
  });
}

/**
 * TypeBox schema of a config string holding an expression: validation parses it, and a config
 * that does not parse fails with the parser's message and position.
 */
export function ExpressionString(options: StringOptions = {}): TString {
  register();
  return Type.String({ ...options, format: FORMAT });
}

/**
 * The one catalogue of Sluice error codes. Every error thrown by Sluice code is a
 * `SluiceError` carrying a code from here, whether it is worth retrying, and its cause.
 */
export const ERROR_CODES = {
  SLUICE_CONFIG_INVALID: { retriable: false, http: 400, summary: 'configuration does not validate' },
  SLUICE_TOPOLOGY_INVALID: { retriable: false, http: 400, summary: 'topology does not validate' },
  SLUICE_UNKNOWN_TYPE: { retriable: false, http: 400, summary: 'no connector or transform of that type' },
  SLUICE_ENV_MISSING: { retriable: false, http: 400, summary: 'an ${env:NAME} reference names an unset variable' },
  SLUICE_NOT_FOUND: { retriable: false, http: 404, summary: 'resource not found' },
  SLUICE_CONFLICT: { retriable: false, http: 409, summary: 'resource conflicts with current state' },
  SLUICE_UNAUTHORIZED: { retriable: false, http: 401, summary: 'missing or invalid credentials' },
  SLUICE_FORBIDDEN: { retriable: false, http: 403, summary: 'role may not do this' },
  SLUICE_CONNECTION_FAILED: { retriable: true, http: 502, summary: 'could not reach an external system' },
  SLUICE_CIRCUIT_OPEN: {
    retriable: true,
    http: 503,
    summary: 'calls to a datasource are held off after repeated failures (its circuit breaker is open)',
  },
  SLUICE_SOURCE_FAILED: { retriable: true, http: 500, summary: 'a source failed while reading' },
  SLUICE_SINK_FAILED: { retriable: true, http: 500, summary: 'a sink failed while writing' },
  SLUICE_TRANSFORM_FAILED: { retriable: false, http: 500, summary: 'a transform failed' },
  SLUICE_CHECKPOINT_FAILED: { retriable: true, http: 500, summary: 'checkpoint store failed' },
  SLUICE_EXPRESSION_INVALID: { retriable: false, http: 400, summary: 'an expression does not parse or does not fit the batch schema' },
  SLUICE_RECORD_INVALID: { retriable: false, http: 422, summary: 'a record could not be processed' },
  SLUICE_SERVICE_MISSING: { retriable: false, http: 503, summary: 'a required service is not reachable' },
  SLUICE_CANCELLED: { retriable: false, http: 409, summary: 'the run was cancelled' },
  SLUICE_STEP_FAILED: { retriable: true, http: 500, summary: 'a pipeline step failed' },
  SLUICE_STEP_TIMEOUT: { retriable: true, http: 504, summary: 'a pipeline step attempt timed out' },
  SLUICE_SYNC_UNAVAILABLE: { retriable: false, http: 503, summary: 'the sync engine is not available' },
  SLUICE_PAYLOAD_TOO_LARGE: { retriable: false, http: 413, summary: 'request body or upload too large' },
  SLUICE_UNSUPPORTED_MEDIA: { retriable: false, http: 415, summary: 'unsupported content type' },
  SLUICE_RATE_LIMITED: { retriable: true, http: 429, summary: 'too many requests' },
  SLUICE_CONNECTION_TEST_FAILED: { retriable: false, http: 422, summary: 'the connection test of a new datasource failed' },
  SLUICE_SCHEMA_INCOMPATIBLE: {
    retriable: false,
    http: 409,
    summary: 'a schema is not compatible with the versions registered for its subject',
  },
  SLUICE_INTERNAL: { retriable: false, http: 500, summary: 'internal error' },
} as const satisfies Record<string, { retriable: boolean; http: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorIssue {
  /** Where the problem is, e.g. `nodes.clean.config.outlier_columns[0]`. */
  path: string;
  message: string;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly issues: ErrorIssue[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; issues?: ErrorIssue[]; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
    this.issues = options.issues ?? [];
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

export function isSluiceError(error: unknown): error is SluiceError {
  return error instanceof SluiceError;
}

/** Whether an error is worth retrying: Sluice errors say so; unknown errors are not retried. */
export function isRetriable(error: unknown): boolean {
  return isSluiceError(error) && error.retriable;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Confluent Schema Registry error codes: the HTTP status is their first three digits. */
export const REGISTRY_ERRORS = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectSoftDeleted: 40404,
  subjectNotSoftDeleted: 40405,
  schemaVersionSoftDeleted: 40406,
  schemaVersionNotSoftDeleted: 40407,
  subjectLevelCompatibilityNotConfigured: 40408,
  incompatibleSchema: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  storeError: 50001,
} as const;

/**
 * An error answered in Confluent's shape, `{ "error_code": 40401, "message": "..." }`, so
 * Confluent clients recognise it. Only the registry API uses it; it never leaves the HTTP layer.
 */
export class RegistryError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  get status(): number {
    return this.errorCode < 1000 ? this.errorCode : Math.floor(this.errorCode / 100);
  }
}

import type { FastifyError, FastifyInstance } from 'fastify';
import { pointerToPath } from '../../core/config.js';
import { ERROR_CODES, SluiceError, type ErrorCode, type ErrorIssue } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The path of the field an ajv error is about, e.g. `body.steps[0].type`. */
function ajvIssue(context: string, error: AjvError): ErrorIssue {
  let path = pointerToPath(context, error.instancePath);
  if (error.keyword === 'required') path = `${path}.${String(error.params.missingProperty)}`;
  if (error.keyword === 'additionalProperties') path = `${path}.${String(error.params.additionalProperty)}`;
  const message = error.keyword === 'additionalProperties' ? 'unknown property' : (error.message ?? 'invalid');
  return { path, message };
}

/** Fastify's own client errors (bad JSON, bad content type, too large) as Sluice errors. */
function fromFastify(error: FastifyError): SluiceError | undefined {
  const validation = (error as FastifyError & { validation?: AjvError[]; validationContext?: string }).validation;
  if (validation) {
    const context = (error as { validationContext?: string }).validationContext ?? 'body';
    const issues = validation.map((v) => ajvIssue(context, v));
    return new SluiceError('SLUICE_CONFIG_INVALID', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
  }
  const status = error.statusCode ?? 500;
  if (status === 413 || error.code === 'FST_REQ_FILE_TOO_LARGE' || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new SluiceError('SLUICE_PAYLOAD_TOO_LARGE', error.message, { issues: [{ path: 'body', message: 'too large' }] });
  }
  if (status === 415)
    return new SluiceError('SLUICE_UNSUPPORTED_MEDIA', error.message, {
      issues: [{ path: 'headers.content-type', message: error.message }],
    });
  if (status === 429)
    return new SluiceError('SLUICE_RATE_LIMITED', error.message, { issues: [{ path: 'request', message: 'rate limit exceeded' }] });
  if (status >= 400 && status < 500)
    return new SluiceError('SLUICE_CONFIG_INVALID', error.message, { issues: [{ path: 'body', message: error.message }] });
  return undefined;
}

/**
 * One error shape for every route: `{ error: { code, message, issues: [{ path, message }],
 * request_id } }` with the status of the code. Bad input is always a 4xx naming the field;
 * anything unexpected is a 500 whose details stay in the log.
 */
export function registerErrors(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    const error = raw instanceof SluiceError ? raw : fromFastify(raw);
    if (!error) {
      request.log.error({ err: raw }, 'unhandled error');
      return reply.status(500).send({ error: { code: 'SLUICE_INTERNAL', message: 'internal error', issues: [], request_id: request.id } });
    }
    const status = ERROR_CODES[error.code as ErrorCode].http;
    if (status >= 500) request.log.error({ err: error }, error.message);
    else request.log.info({ code: error.code, issues: error.issues }, 'request rejected');
    const issues = error.issues.length > 0 ? error.issues : [{ path: 'request', message: error.message }];
    return reply.status(status).send({
      error: { code: error.code, message: redactSecrets(error.message) as string, issues: redactSecrets(issues), request_id: request.id },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: 'SLUICE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        issues: [{ path: 'url', message: 'no such route' }],
        request_id: request.id,
      },
    });
  });
}

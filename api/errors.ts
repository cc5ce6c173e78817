import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../common/index.ts';

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; reason?: string };
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; allowedValues?: unknown[]; additionalProperty?: string };
}

const DOWNLOAD_HEADERS = ['content-length', 'content-disposition', 'content-range', 'etag', 'repr-digest', 'accept-ranges'];

const GENERIC_500 = 'internal error; the incident has been logged';

/**
 * Installs the one error handler and the not-found handler. AppErrors keep their code and status;
 * Fastify's own 4xx errors (validation, media type, body size) get a registry code; anything else
 * is a 500 whose message reveals nothing of the internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, code: body.error.code }, 'request failed');
    else req.log.info({ code: body.error.code, status, reason: body.error.message }, 'request refused');
    // A download may have set its headers before failing: they must not describe the error body.
    for (const h of DOWNLOAD_HEADERS) reply.removeHeader(h);
    return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    req.log.info({ code: 'ERR_NOT_FOUND' }, 'no such route');
    // The path is not echoed: it may hold anything a client typed.
    return reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} for this path` } } satisfies ErrorBody);
  });
}

/** Maps any thrown value to a status and error body (exported for tests). */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    const field = typeof err.details?.field === 'string' ? err.details.field : undefined;
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : undefined;
    return { status: err.status, body: { error: { code: err.code, message: err.message, ...(field ? { field } : {}), ...(reason ? { reason } : {}) } } };
  }
  const fe = err as Partial<FastifyError> & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const { field, message } = describeValidation(fe.validation, fe.validationContext);
    return { status: 400, body: { error: { code: 'ERR_VALIDATION', message, ...(field ? { field } : {}) } } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's and @fastify/multipart's own client errors describe the request, never the server.
    const code = codeForStatus(status);
    const message = status === 413 ? payloadTooLargeMessage(fe.code) : (fe.message ?? 'bad request');
    return { status, body: { error: { code, message } } };
  }
  return { status: 500, body: { error: { code: 'ERR_INTERNAL', message: GENERIC_500 } } };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 413) return 'ERR_PAYLOAD_TOO_LARGE';
  if (status === 415) return 'ERR_UNSUPPORTED_MEDIA';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 409) return 'ERR_CONFLICT';
  if (status === 401) return 'ERR_UNAUTHENTICATED';
  if (status === 403) return 'ERR_FORBIDDEN';
  if (status === 429) return 'ERR_RATE_LIMITED';
  return 'ERR_VALIDATION';
}

function payloadTooLargeMessage(code: string | undefined): string {
  switch (code) {
    case 'FST_PARTS_LIMIT': return 'too many parts in the multipart form';
    case 'FST_FILES_LIMIT': return 'send exactly one file per upload';
    case 'FST_FIELDS_LIMIT': return 'too many fields in the multipart form';
    default: return 'the request body is larger than this server accepts';
  }
}

function describeValidation(issues: AjvIssue[], context: string | undefined): { field: string | undefined; message: string } {
  const issue = issues[0] ?? {};
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  if (issue.params?.missingProperty) path.push(issue.params.missingProperty);
  if (issue.params?.additionalProperty) path.push(issue.params.additionalProperty);
  const field = path.length ? path.join('.') : undefined;
  let message = issue.message ?? 'is invalid';
  if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues)) message += `: ${issue.params.allowedValues.join(', ')}`;
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : context === 'headers' ? 'header' : 'body field';
  return { field, message: field ? `${where} ${field} ${message}` : `${context ?? 'request'} ${message}` };
}

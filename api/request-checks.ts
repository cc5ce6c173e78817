import { Stream } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../common/index.ts';

/**
 * The 400 for a NUL character in a field. No field of the archive may hold one: PostgreSQL text
 * cannot, so it would otherwise surface as a 500 from deep inside a query.
 */
export function nulFieldError(field: string): AppError {
  return new AppError('ERR_VALIDATION', `${field} holds a NUL character (%00), which no field may hold`, { field });
}

/** The first field of `value` holding a NUL character, as a dotted path under `prefix`; undefined when none. */
function nulField(value: unknown, prefix: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? prefix : undefined;
  // Uploads stream (checked where they are read); parsed queries are objects of their own prototype.
  if (value === null || typeof value !== 'object' || value instanceof Stream || Buffer.isBuffer(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const field = prefix ? `${prefix}.${k}` : k;
    if (k.includes('\u0000')) return field.replaceAll('\u0000', '%00');
    const found = nulField(v, field);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The field of the request holding a NUL character: path or query parameter, JSON body field, or `body` for a text body. */
export function requestFieldWithNul(req: FastifyRequest): string | undefined {
  const inBody = typeof req.body === 'string' ? (req.body.includes('\u0000') ? 'body' : undefined) : nulField(req.body, '');
  return nulField(req.params, '') ?? nulField(req.query, '') ?? inBody;
}

/**
 * Checks every request at the edge, once its parameters and body are parsed and before any route
 * schema or handler sees them: a NUL character anywhere is refused with 400 naming the field.
 * Streamed bodies (uploads) are checked where they are read (`api/upload.ts` for form fields).
 */
export function installRequestChecks(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const field = requestFieldWithNul(req);
    if (field !== undefined) throw nulFieldError(field);
  });
}

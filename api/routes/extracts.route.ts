import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../../common/index.ts';
import { EXTRACT_STATUSES, EXTRACT_TYPES, type ExtractStatus, type ExtractType } from '../../common/vocabulary.ts';
import type { AppDeps } from '../../app/deps.ts';
import {
  extractPdf, issueExtract, listExtracts, openExtractSigner, reissueExtract, revokeExtract, verifyBySerial, verifyPdf,
  MAX_REASON_LENGTH, MAX_REFERENCE_LENGTH, type ExtractActor, type ExtractDeps, type ExtractRow, type ExtractSigner,
} from '../../extracts/index.ts';
import { errorResponses } from '../schemas.ts';
import { caller, noteAudit } from '../access.ts';
import { policy } from '../policies.ts';
import { UI_PREFIX } from '../web-ui.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config' | 'log'>;

/** Largest PDF `POST /verify` accepts: an extract is tens of kilobytes. */
export const VERIFY_MAX_BYTES = 10 * 1024 * 1024;
/** Public verifications a minute per client address. */
export const VERIFY_PER_MINUTE = 30;

const SERIAL = '^[0-9]{4}-[0-9A-Za-z]{5}-[0-9A-Za-z]{5}$';
const serialParam = { type: 'object', required: ['serial'], properties: { serial: { type: 'string', pattern: SERIAL } } } as const;
const purposeProp = { type: 'string', maxLength: 500, description: 'Why a book under privacy closure is read (also accepted as the x-access-purpose header); recorded with the issue' } as const;

/** The `Extract` schema: a row of the register. */
export const extractSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    serial: { type: 'string' }, type: { type: 'string', enum: EXTRACT_TYPES }, status: { type: 'string', enum: EXTRACT_STATUSES },
    entryId: { type: 'string' }, recordId: { type: ['string', 'null'] }, bookId: { type: 'string' }, requestReference: { type: 'string' },
    purpose: { type: ['string', 'null'] }, restricted: { type: 'boolean' }, issuingOffice: { type: 'string' }, issuedBy: { type: 'string' },
    issuedAt: { type: 'string', format: 'date-time' }, pdfSha256: { type: 'string' }, pdfSize: { type: 'integer' }, signerSubject: { type: 'string' },
    supersedes: { type: ['string', 'null'] }, supersededBy: { type: ['string', 'null'] }, revokedBy: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'], format: 'date-time' }, revokeReason: { type: ['string', 'null'] },
    verifyUrl: { type: 'string' }, pdfHref: { type: 'string' },
  },
} as const;

/** The `ExtractVerification` schema: the public facts of a serial. */
const verificationSchema = {
  type: 'object', additionalProperties: false, required: ['serial', 'issued'],
  properties: {
    serial: { type: 'string' }, issued: { type: 'boolean' }, issuedAt: { type: 'string', format: 'date-time' }, type: { type: 'string', enum: EXTRACT_TYPES },
    issuingOffice: { type: 'string' }, status: { type: 'string', enum: EXTRACT_STATUSES }, revokedAt: { type: ['string', 'null'], format: 'date-time' },
    revokeReason: { type: ['string', 'null'] }, supersededBy: { type: ['string', 'null'] }, sha256: { type: 'string' },
  },
} as const;

const one = { 200: { type: 'object', properties: { extract: extractSchema } }, ...errorResponses } as const;

/** True when the client asks for a page before JSON (a browser following the QR code). */
function prefersHtml(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

function view(deps: Deps, row: ExtractRow): Omit<ExtractRow, 'pdfKey' | 'pdfVersionId'> & { verifyUrl: string; pdfHref: string } {
  const { pdfKey: _key, pdfVersionId: _version, ...rest } = row;
  return { ...rest, verifyUrl: `${deps.config.extracts.publicBaseUrl}/verify/${row.serial}`, pdfHref: `/extracts/${row.serial}/pdf` };
}

/**
 * Electronic extracts: issued by clerks from verified entries, signed; their register for records
 * managers and auditors; revocation and re-issue; and the public verification, by serial or by the
 * PDF itself, without sign-in and rate-limited per address.
 */
export async function extractsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  // A configured PKCS#12 is read (and its password checked) at start, so a wrong one stops the
  // API from starting; the embedded test identity is made on first use only.
  let signer: Promise<ExtractSigner> | undefined = deps.config.extracts.signingP12 ? Promise.resolve(await openExtractSigner(deps.config, deps.log)) : undefined;
  const issuing = (): Promise<ExtractDeps> => {
    signer ??= openExtractSigner(deps.config, deps.log).catch((e: unknown) => {
      signer = undefined;
      throw e;
    });
    return signer.then((s) => ({ ...deps, signer: s }));
  };
  const actor = (req: FastifyRequest): ExtractActor => ({ user: caller(req), from: req.ip, purposeGoes: 'the purpose field or the x-access-purpose header' });
  const statedPurpose = (req: FastifyRequest, body?: string) => body ?? req.auth?.purpose;
  const noteRestricted = (req: FastifyRequest, row: ExtractRow) => {
    if (row.restricted && req.auth) req.auth.restricted = true;
  };
  // The roles were checked by the access hook: a 403 from the service is a closed book's refusal,
  // which the hook's audit event of the refusal must say (as for restricted reads).
  const closureAware = async <T>(req: FastifyRequest, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      if (e instanceof AppError && e.code === 'ERR_FORBIDDEN' && req.auth) req.auth.restricted = true;
      throw e;
    }
  };

  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => {
      const err = new AppError('ERR_RATE_LIMITED', `at most ${ctx.max} verifications a minute from one address; try again in ${Math.ceil(ctx.ttl / 1000)} s`);
      return err;
    },
  });
  app.addContentTypeParser(['application/pdf', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: VERIFY_MAX_BYTES }, (_req, body, done) => done(null, body));

  app.post<{ Body: { entryId: string; requestReference: string; purpose?: string } }>('/extracts', {
    schema: {
      tags: ['extracts'], summary: 'Issue a signed extract (PDF/A-3b, PAdES) of a verified entry; a closed book needs the purpose',
      body: {
        type: 'object', required: ['entryId', 'requestReference'], additionalProperties: false,
        properties: { entryId: { type: 'string', format: 'uuid' }, requestReference: { type: 'string', minLength: 1, maxLength: MAX_REFERENCE_LENGTH }, purpose: purposeProp },
      },
      response: { 201: one[200], ...errorResponses },
    },
    // The service writes the issue's audit event in the transaction that registers it.
    config: policy(['clerk']),
    handler: async (req, reply) => {
      const row = await closureAware(req, async () => issueExtract(await issuing(), { ...req.body, purpose: statedPurpose(req, req.body.purpose) }, actor(req)));
      noteRestricted(req, row);
      return reply.code(201).send({ extract: view(deps, row) });
    },
  });

  app.get<{ Querystring: { serial?: string; entryId?: string; recordId?: string; bookId?: string; requestReference?: string; issuedBy?: string; status?: ExtractStatus; type?: ExtractType; from?: string; to?: string; limit?: number; cursor?: string } }>('/extracts', {
    schema: {
      tags: ['extracts'], summary: 'The register of extracts, newest first, searchable',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          serial: { type: 'string', maxLength: 40 }, entryId: { type: 'string', format: 'uuid' }, recordId: { type: 'string', format: 'uuid' },
          bookId: { type: 'string', format: 'uuid' }, requestReference: { type: 'string', maxLength: MAX_REFERENCE_LENGTH }, issuedBy: { type: 'string', maxLength: 64 },
          status: { type: 'string', enum: EXTRACT_STATUSES }, type: { type: 'string', enum: EXTRACT_TYPES },
          from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string', maxLength: 200 },
        },
      },
      response: { 200: { type: 'object', properties: { extracts: { type: 'array', items: extractSchema }, nextCursor: { type: ['string', 'null'] } } }, ...errorResponses },
    },
    config: policy(['records_manager', 'auditor'], 'extract.list'),
    handler: async (req) => {
      const { from, to, ...rest } = req.query;
      const r = await listExtracts(deps.db, { ...rest, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) });
      noteAudit(req, { targetType: 'extracts', detail: { query: req.query as Record<string, unknown>, serials: r.extracts.map((e) => e.serial) } });
      return { extracts: r.extracts.map((e) => view(deps, e)), nextCursor: r.nextCursor };
    },
  });

  app.get<{ Params: { serial: string } }>('/extracts/:serial/pdf', {
    schema: {
      tags: ['extracts'], summary: 'The signed PDF of an extract as issued (a closed book needs the x-access-purpose header)', params: serialParam,
      response: { 200: { description: 'The signed PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } }, ...errorResponses },
    },
    config: policy(['clerk', 'records_manager'], 'extract.read'),
    handler: async (req, reply) => {
      noteAudit(req, { targetType: 'extract', targetId: req.params.serial });
      const { row, pdf, restricted } = await closureAware(req, () => extractPdf(deps, req.params.serial, { ...actor(req), purpose: req.auth?.purpose }));
      if (restricted && req.auth) req.auth.restricted = true;
      noteAudit(req, { targetId: row.serial, detail: { entryId: row.entryId, bookId: row.bookId, sha256: row.pdfSha256 } });
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="extract-${row.serial}.pdf"`).send(pdf);
    },
  });

  app.post<{ Params: { serial: string }; Body: { reason: string } }>('/extracts/:serial/revoke', {
    schema: {
      tags: ['extracts'], summary: 'Revoke a valid extract; the reason is required and shown by the public verification', params: serialParam,
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: MAX_REASON_LENGTH } } },
      response: one,
    },
    config: policy(['records_manager']),
    handler: async (req) => ({ extract: view(deps, await revokeExtract(deps, req.params.serial, req.body.reason, actor(req))) }),
  });

  app.post<{ Params: { serial: string }; Body: { requestReference?: string; purpose?: string } | null }>('/extracts/:serial/reissue', {
    schema: {
      tags: ['extracts'], summary: "Issue a new extract of the same entry (its current fields) that supersedes a valid one", params: serialParam,
      body: { type: ['object', 'null'], additionalProperties: false, properties: { requestReference: { type: 'string', minLength: 1, maxLength: MAX_REFERENCE_LENGTH }, purpose: purposeProp } },
      response: { 201: one[200], ...errorResponses },
    },
    config: policy(['clerk', 'records_manager']),
    handler: async (req, reply) => {
      const row = await closureAware(req, async () => reissueExtract(await issuing(), req.params.serial, { requestReference: req.body?.requestReference, purpose: statedPurpose(req, req.body?.purpose) }, actor(req)));
      noteRestricted(req, row);
      return reply.code(201).send({ extract: view(deps, row) });
    },
  });

  const limited = { rateLimit: { max: VERIFY_PER_MINUTE, timeWindow: 60_000 } };
  app.get<{ Params: { serial: string } }>('/verify/:serial', {
    schema: {
      tags: ['extracts'], summary: 'Public verification of a serial: issued or not, when, of what type, by which office, status (revocation reason), SHA-256. No personal data.',
      params: { type: 'object', required: ['serial'], properties: { serial: { type: 'string', maxLength: 40 } } },
      response: { 200: verificationSchema, ...errorResponses },
    },
    config: { ...policy('public'), ...limited },
    handler: async (req, reply) => {
      // The QR code's address opened in a browser: the web interface's verification page shows it.
      if (prefersHtml(req)) return reply.redirect(`${UI_PREFIX}#/verify/${encodeURIComponent(req.params.serial)}`, 303);
      return verifyBySerial(deps.db, req.params.serial);
    },
  });

  app.post<{ Body: Buffer }>('/verify', {
    bodyLimit: VERIFY_MAX_BYTES,
    schema: {
      tags: ['extracts'], summary: 'Public verification of a PDF (body: the file, application/pdf): is it an issued extract, unaltered?',
      response: {
        200: {
          type: 'object', additionalProperties: false,
          properties: {
            authentic: { type: 'boolean' }, sha256: { type: 'string' }, extract: { anyOf: [verificationSchema, { type: 'null' }] },
            signature: {
              type: 'object', additionalProperties: false,
              properties: { signed: { type: 'boolean' }, intact: { type: 'boolean' }, coversWholeFile: { type: 'boolean' }, subFilter: { type: ['string', 'null'] }, signerSubject: { type: ['string', 'null'] } },
            },
          },
        },
        ...errorResponses,
      },
    },
    config: { ...policy('public'), ...limited },
    handler: async (req) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError('ERR_UNSUPPORTED_MEDIA', 'send the PDF as the body, Content-Type application/pdf');
      return verifyPdf(deps.db, req.body);
    },
  });
}

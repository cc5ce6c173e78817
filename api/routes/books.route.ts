import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/index.ts';
import { DEFAULT_BOOK_LANGUAGES, DEFAULT_OCR_PROFILE, REGISTER_TYPES, bookCursor, getBook, listBooks, updateBookMetadata, parseBookCursor, listEvents, type BookMetadata, type BookStatus, type RegisterType } from '../../archive/index.ts';
import { ingestBook, isBookOcrProfile, parseYears, retryPages, ocrProfileProblem } from '../../ingest/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { pageStatusCounts } from '../../archive/index.ts';
import { caller, noteAudit } from '../access.ts';
import { bookTombstone, searchBookIds } from '../book-titles.store.ts';
import { BOOK_STAFF, policy } from '../policies.ts';
import { recomputeItem } from '../../retention/index.ts';
import { openUpload, registerUploadParsers, tooLargeError, type Upload } from '../upload.ts';
import {
  BOOK_STATUSES, LANGUAGES_PATTERN, bookIdParam, bookMetadataProperties, errorResponses, eventSchema,
} from '../schemas.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'config'>;

/** Media types a book can be uploaded as in a raw (non-multipart) body. */
export const RAW_BOOK_TYPES = ['application/octet-stream', 'image/tiff', 'application/pdf', 'application/zip', 'image/png', 'image/jpeg'] as const;

const METADATA_FIELDS = ['registerType', 'municipality', 'year', 'volume', 'languages', 'ocrProfile'] as const;
type MetadataInput = Partial<Record<(typeof METADATA_FIELDS)[number], string>>;

const LANGUAGES_RE = new RegExp(LANGUAGES_PATTERN);

const UPLOAD_DESCRIPTION = `Archives a scanned register book and queues its pages for processing.

Send either
- **multipart/form-data** with the metadata fields **first** (registerType, municipality, year, optional volume, languages and ocrProfile) and then exactly **one file part**: the body is streamed, so fields sent after the file are not seen; or
- a **raw body** (${RAW_BOOK_TYPES.join(', ')}) with the metadata as **query parameters**.

Query parameters may also accompany a multipart upload; a field given both ways must agree.

The book may be a multi-page TIFF, a PDF, a ZIP of page images, or a single page image; the format is detected from the bytes (anything else: 415). Uploads over the configured limit get 413 and nothing is archived. The same bytes uploaded again answer 200 with the existing book and \`duplicate: true\`.`;

const uploadFormSchema = {
  type: 'object',
  required: ['registerType', 'municipality', 'year', 'file'],
  properties: {
    ...bookMetadataProperties,
    file: { type: 'string', format: 'binary', description: 'The book: TIFF, PDF, ZIP of page images, or one page image. Must be the last part.' },
  },
} as const;

const bookWithCounts = {
  type: 'object',
  properties: {
    book: { $ref: 'Book#' },
    counts: {
      type: 'object',
      description: 'Pages by status, counted now',
      properties: {
        total: { type: 'integer' }, pending: { type: 'integer' }, processing: { type: 'integer' }, done: { type: 'integer' }, failed: { type: 'integer' },
      },
    },
  },
} as const;

/** Books: upload, list, detail, events and retry of failed pages. */
export async function booksRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const maxBytes = deps.config.ingest.uploadMaxBytes;
  await registerUploadParsers(app, { maxBytes, rawTypes: RAW_BOOK_TYPES });

  app.post<{ Querystring: MetadataInput }>('/books', {
    schema: {
      tags: ['books'],
      summary: 'Upload a book',
      description: UPLOAD_DESCRIPTION,
      consumes: ['multipart/form-data', ...RAW_BOOK_TYPES],
      querystring: { type: 'object', properties: bookMetadataProperties, additionalProperties: false },
      response: {
        200: { description: 'The same bytes were archived before: the existing book', type: 'object', properties: { book: { $ref: 'Book#' }, duplicate: { type: 'boolean' } } },
        201: { description: 'A new book, queued for processing', type: 'object', properties: { book: { $ref: 'Book#' }, duplicate: { type: 'boolean' } } },
        ...errorResponses,
      },
    },
    config: {
      ...policy(['digitiser'], 'book.upload'),
      // The body is read as a stream by the handler, so its schema is for the document only.
      swaggerTransform: ({ schema, url }) => ({
        url,
        schema: {
          ...schema,
          body: {
            content: {
              'multipart/form-data': { schema: uploadFormSchema },
              ...Object.fromEntries(RAW_BOOK_TYPES.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
            },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const upload = await openUpload(req, { maxBytes, fieldNames: METADATA_FIELDS, hint: `multipart/form-data or a raw body of ${RAW_BOOK_TYPES.join(', ')}` });
      let metadata: BookMetadata;
      try {
        metadata = toMetadata(mergeMetadata(req.query, upload.fields));
      } catch (e) {
        upload.abort();
        throw e;
      }
      const result = await ingestUpload(deps, upload, metadata, caller(req).username);
      noteAudit(req, { targetType: 'book', targetId: result.book.id, detail: { duplicate: result.duplicate } });
      await upload.finish();
      return reply.code(result.duplicate ? 200 : 201).header('location', `/books/${result.book.id}`).send(result);
    },
  });

  app.get<{ Querystring: { status?: BookStatus; before?: string; limit?: number; q?: string; registerType?: RegisterType; municipality?: string; year?: number } }>('/books', {
    schema: {
      tags: ['books'],
      summary: 'List books, newest first, or browse them by title, type, municipality and year',
      description: 'Keyset pagination: pass the `nextBefore` of one answer as `before` to get the next page. '
        + '`q` keeps books whose title (type · municipality · years · volume) contains every word given, so a type-ahead can pick a book by its title.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: BOOK_STATUSES },
          q: { type: 'string', maxLength: 200, description: 'Words of the title, each matched anywhere in it, folded like every search (any case, accents, Cyrillic or Latin; the municipality under any of its names)' },
          registerType: { type: 'string', enum: REGISTER_TYPES },
          municipality: { type: 'string', maxLength: 200, description: 'Municipality, matched from the start of any of its names or their words, folded like `q`' },
          year: { type: 'integer', minimum: 1000, maximum: 9999, description: 'A year the book covers' },
          before: { type: 'string', maxLength: 200, description: 'The `nextBefore` cursor of the previous page' },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            books: { type: 'array', items: { $ref: 'Book#' } },
            nextBefore: { type: ['string', 'null'], description: 'Cursor of the next page; null on the last' },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const limit = req.query.limit ?? 50;
      const after = req.query.before === undefined ? undefined : parseBookCursor(req.query.before);
      if (req.query.before !== undefined && !after) throw new AppError('ERR_VALIDATION', 'before is not a cursor returned by this API');
      const { q, registerType, municipality, year, status } = req.query;
      const filtered = Boolean(q?.trim() || registerType || municipality?.trim() || year !== undefined);
      const books = filtered
        ? (await Promise.all((await searchBookIds(deps.db, { q, registerType, municipality, year, status }, { limit, after })).map((id) => getBook(deps.db, id))))
          .filter((b): b is NonNullable<typeof b> => b !== undefined)
        : await listBooks(deps.db, { status, limit, after });
      const last = books.at(-1);
      return { books, nextBefore: books.length === limit && last ? bookCursor(last) : null };
    },
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId', {
    schema: {
      tags: ['books'],
      summary: 'A book, with its page counts and completion summary',
      params: bookIdParam,
      response: { 200: bookWithCounts, ...errorResponses },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const book = await requireBook(deps, req.params.bookId);
      return { book, counts: await pageStatusCounts(deps.db, book.id) };
    },
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId/tombstone', {
    schema: {
      tags: ['books'],
      summary: 'What remains of a disposed book: what it was, when and by which batch it was disposed of, whether a certificate was written',
      description: 'For everyone who works with books, so that a link to a disposed book explains itself; the certificate itself is at /disposal/certificates/{bookId} (records managers, auditors). 404 when the book was never disposed of.',
      params: bookIdParam,
      response: {
        200: {
          type: 'object',
          properties: {
            tombstone: {
              type: 'object',
              properties: {
                bookId: { type: 'string' }, registerType: { type: 'string' }, municipality: { type: 'string' }, yearFrom: { type: 'integer' }, yearTo: { type: 'integer' },
                volume: { type: ['string', 'null'] }, disposed: { type: 'boolean' }, batchId: { type: 'string' }, status: { type: 'string', enum: ['deleting', 'disposed'] },
                disposalStartedAt: { type: 'string', format: 'date-time' }, disposedAt: { type: ['string', 'null'], format: 'date-time' }, pages: { type: 'integer' },
                hasCertificate: { type: 'boolean' }, certificateSha256: { type: ['string', 'null'] },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    config: policy([...BOOK_STAFF, 'auditor'], 'book.tombstone.read'),
    handler: async (req) => {
      const tombstone = await bookTombstone(deps.db, req.params.bookId);
      if (!tombstone) throw new AppError('ERR_NOT_FOUND', `book ${req.params.bookId} was not disposed of`);
      noteAudit(req, { targetType: 'book', targetId: tombstone.bookId });
      return { tombstone };
    },
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId/events', {
    schema: {
      tags: ['books'],
      summary: "A book's processing events (PREMIS), oldest first",
      params: bookIdParam,
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: eventSchema } } }, ...errorResponses },
    },
    config: policy(BOOK_STAFF),
    handler: async (req) => {
      const book = await requireBook(deps, req.params.bookId);
      return { events: await listEvents(deps.db, book.id) };
    },
  });

  registerBookPatch(app, deps);

  app.post<{ Params: { bookId: string }; Body: { pages?: number[] } | null }>('/books/:bookId/retry', {
    bodyLimit: 64 * 1024,
    schema: {
      tags: ['books'],
      summary: 'Send failed pages through the stages again',
      description: 'Without `pages`, every failed page of the book is retried. Pages that cannot be read from the original need a replacement image instead (409).',
      params: bookIdParam,
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { pages: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, maxItems: 10_000, uniqueItems: true, description: 'Page numbers to retry' } },
      },
      response: {
        202: { type: 'object', properties: { retried: { type: 'array', items: { $ref: 'Page#' } } } },
        ...errorResponses,
      },
    },
    config: policy(['digitiser'], 'book.retry'),
    handler: async (req, reply) => {
      const retried = await retryPages(deps, req.params.bookId, req.body?.pages);
      return reply.code(202).send({ retried });
    },
  });
}

/** The body of a correction of a book's title metadata. */
interface BookPatch {
  municipality?: string;
  year?: string;
  volume?: string | null;
}

/**
 * Corrects a book's municipality, years or volume: the values before and after go in the audit
 * event, and the book's retention is computed again (its periods may run from the years).
 */
function registerBookPatch(app: FastifyInstance, deps: Pick<AppDeps, 'db'>): void {
  app.patch<{ Params: { bookId: string }; Body: BookPatch }>('/books/:bookId', {
    schema: {
      tags: ['books'],
      summary: "Correct a book's title metadata (municipality, year or years, volume); audited with the values before and after, retention computed again",
      params: bookIdParam,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          municipality: { type: 'string', minLength: 1, maxLength: 200 },
          year: { type: 'string', maxLength: 20, description: 'yyyy or yyyy-yyyy' },
          volume: { type: ['string', 'null'], maxLength: 50, description: 'null or empty clears it' },
        },
      },
      response: { 200: { type: 'object', properties: { book: { $ref: 'Book#' } } }, ...errorResponses },
    },
    // The years can move the book's retention and closure: a closed book's only by the roles that may
    // read it, with a stated purpose (records managers), like every other write to a closed book.
    config: policy(['digitiser', 'records_manager'], 'book.edit', { restricted: true }),
    handler: async (req) => {
      const before = await requireBook(deps, req.params.bookId);
      const municipality = req.body.municipality?.trim();
      if (municipality === '') throw new AppError('ERR_VALIDATION', 'municipality must not be blank', { field: 'municipality' });
      const years = req.body.year === undefined ? undefined : parseYears(req.body.year);
      if (years && years.yearFrom > years.yearTo) throw new AppError('ERR_VALIDATION', `the first year ${years.yearFrom} is after the last ${years.yearTo}`, { field: 'year' });
      const volume = req.body.volume === undefined ? undefined : (req.body.volume?.trim() || null);
      const book = await updateBookMetadata(deps.db, before.id, { ...(municipality ? { municipality } : {}), ...years, ...(volume !== undefined ? { volume } : {}) });
      if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${before.id}`);
      await recomputeItem(deps.db, book.id, 'book metadata corrected: retention computed again');
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      for (const k of ['municipality', 'yearFrom', 'yearTo', 'volume'] as const) {
        if ((before[k] ?? null) !== (book[k] ?? null)) changed[k] = { from: before[k] ?? null, to: book[k] ?? null };
      }
      noteAudit(req, { targetType: 'book', targetId: book.id, detail: { changed } });
      return { book };
    },
  });
}

/** The book, or a 404 naming what was not found. */
export async function requireBook(deps: Pick<AppDeps, 'db'>, bookId: string) {
  const book = await getBook(deps.db, bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
  return book;
}

async function ingestUpload(deps: Deps, upload: Upload, metadata: BookMetadata, createdBy: string) {
  try {
    return await ingestBook(deps, { kind: 'stream', stream: upload.stream }, metadata, { createdBy });
  } catch (e) {
    // The store saw the stream fail, so nothing was archived; say why rather than how it broke.
    if (upload.tooLarge()) throw tooLargeError(deps.config.ingest.uploadMaxBytes);
    const refusal = upload.refusal();
    if (refusal) {
      upload.abort();
      throw refusal;
    }
    upload.abort();
    throw e;
  }
}

function mergeMetadata(query: MetadataInput, fields: Record<string, string>): MetadataInput {
  const merged: MetadataInput = { ...query };
  for (const name of METADATA_FIELDS) {
    const v = fields[name];
    if (v === undefined) continue;
    const q = query[name];
    if (q !== undefined && q !== v) throw new AppError('ERR_VALIDATION', `${name} is given both as a query parameter and a form field, with different values`, { field: name });
    merged[name] = v;
  }
  return merged;
}

/**
 * Checks upload metadata field by field, so a 400 names the field as the client spelled it;
 * ingest validates again (it is the authority).
 */
export function toMetadata(m: MetadataInput): BookMetadata {
  const bad = (field: string, message: string): never => {
    throw new AppError('ERR_VALIDATION', `${field} ${message}`, { field });
  };
  const registerType = m.registerType?.trim();
  const required = 'is required (in a multipart upload, send the metadata fields before the file part)';
  if (!registerType) bad('registerType', required);
  if (!REGISTER_TYPES.includes(registerType as RegisterType)) bad('registerType', `must be one of ${REGISTER_TYPES.join(', ')}`);
  const municipality = m.municipality?.trim();
  if (!municipality) bad('municipality', required);
  if (municipality!.length > 200) bad('municipality', 'is at most 200 characters');
  if (!m.year?.trim()) bad('year', required);
  let years: { yearFrom: number; yearTo: number };
  try {
    years = parseYears(m.year!);
  } catch {
    return bad('year', 'must be yyyy or yyyy-yyyy');
  }
  if (years.yearFrom < 1000 || years.yearTo < years.yearFrom) bad('year', 'must be yyyy or yyyy-yyyy with the first year not after the second');
  const volume = m.volume?.trim() || undefined;
  if (volume !== undefined && volume.length > 50) bad('volume', 'is at most 50 characters');
  const languages = m.languages?.trim() || DEFAULT_BOOK_LANGUAGES;
  if (!LANGUAGES_RE.test(languages)) bad('languages', 'must be OCR language codes joined by +, e.g. sqi+srp_latn+srp');
  const ocrProfile = m.ocrProfile?.trim() || DEFAULT_OCR_PROFILE;
  if (!isBookOcrProfile(ocrProfile)) return bad('ocrProfile', ocrProfileProblem(ocrProfile));
  return { registerType: registerType as RegisterType, municipality: municipality!, ...years, volume, languages, ocrProfile };
}

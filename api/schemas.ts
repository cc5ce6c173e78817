import { BOOK_OCR_PROFILES, BOOK_STATUSES, DEFAULT_BOOK_LANGUAGES, PAGE_ORIENTATIONS, PAGE_STATUSES, PAGE_TYPES, PROCESSING_EVENT_OUTCOMES, REGISTER_TYPES, SOURCE_FORMATS } from '../common/vocabulary.ts';

// Shared JSON schemas of the HTTP edge: they validate input and make the OpenAPI document.
// Nullable fields use type arrays (OpenAPI 3.1); fast-json-stringify drops any field not listed,
// so nothing the archive adds to its rows leaks out by accident.

// The statuses are the vocabulary's, exported here too for the schemas' other readers (metrics, routes).
export { BOOK_STATUSES, PAGE_STATUSES } from '../common/vocabulary.ts';

/** Tesseract language codes joined by '+' (the same rule ingest applies). */
export const LANGUAGES_PATTERN = '^[a-z]{3}(_[a-z]{4})?(\\+[a-z]{3}(_[a-z]{4})?)*$';

/** `yyyy` or `yyyy-yyyy`. */
export const YEAR_PATTERN = '^\\s*\\d{4}\\s*(-\\s*\\d{4}\\s*)?$';

/** The body of every error response. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error answer: a stable code from the error registry and a message safe to show.',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', examples: ['ERR_BOOK_NOT_FOUND'] },
        message: { type: 'string' },
        field: { type: 'string', description: 'The offending input field, for validation errors.' },
        reason: {
          type: 'string', examples: ['closed-purpose-required'],
          description: 'Which refusal of its code this is, where a client acts on it: closed-purpose-required (a closed book, read again with x-access-purpose), closed-role, closed-delegated.',
        },
      },
    },
  },
  required: ['error'],
} as const;

/** A reference to the shared error schema, for the 4xx/5xx entries of a route's responses. */
export const errorRef = { $ref: 'Error#' } as const;

/** The error answers every route may give. */
export const errorResponses = { '4xx': errorRef, '5xx': errorRef } as const;

/** Path parameter: a book id. */
export const bookIdParam = {
  type: 'object',
  required: ['bookId'],
  properties: { bookId: { type: 'string', format: 'uuid', description: 'Book id' } },
} as const;

/** Path parameters: a book id and a page number. */
export const pageParams = {
  type: 'object',
  required: ['bookId', 'sequence'],
  properties: {
    bookId: { type: 'string', format: 'uuid', description: 'Book id' },
    sequence: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'Page number, from 1' },
  },
} as const;

/** Metadata staff give with an upload (as multipart fields or query parameters). */
export const bookMetadataProperties = {
  registerType: { type: 'string', enum: REGISTER_TYPES, description: 'Kind of civil register' },
  municipality: { type: 'string', minLength: 1, maxLength: 200, description: 'Municipality the register belongs to' },
  year: { type: 'string', pattern: YEAR_PATTERN, description: 'Year or span of years: yyyy or yyyy-yyyy', examples: ['1962', '1960-1965'] },
  volume: { type: 'string', minLength: 1, maxLength: 50, description: 'Volume label, when the register has several' },
  languages: { type: 'string', pattern: LANGUAGES_PATTERN, description: `OCR languages joined by '+' (srp_latn: Serbian in Latin script); default ${DEFAULT_BOOK_LANGUAGES}`, examples: [DEFAULT_BOOK_LANGUAGES, 'sqi'] },
  ocrProfile: { type: 'string', enum: BOOK_OCR_PROFILES, description: 'How the pages are read: printed form, typewriter, mixed Latin/Cyrillic, or handwritten (read once, then routed to keying); default printed' },
} as const;

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** What book completion computed. */
export const bookSummarySchema = {
  type: ['object', 'null'],
  properties: {
    pages: { type: 'integer' },
    done: { type: 'integer' },
    failed: { type: 'integer' },
    meanOcrConfidence: { type: ['number', 'null'] },
    failures: {
      type: 'array',
      items: { type: 'object', properties: { sequence: { type: 'integer' }, reason: { type: 'string' } } },
    },
    processingSeconds: { type: 'number' },
    pagesPerMinute: { type: ['number', 'null'] },
  },
} as const;

/** A book as the API shows it. */
export const bookSchema = {
  $id: 'Book',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    registerType: { type: 'string', enum: REGISTER_TYPES },
    municipality: { type: 'string' },
    yearFrom: { type: 'integer' },
    yearTo: { type: 'integer' },
    volume: { type: 'string' },
    languages: { type: 'string' },
    ocrProfile: { type: 'string', enum: BOOK_OCR_PROFILES, description: 'OCR profile its pages are read with, chosen at upload' },
    sourceFormat: { type: 'string', enum: SOURCE_FORMATS },
    sourceSha256: { type: 'string', description: 'SHA-256 of the original as uploaded' },
    sourceSize: { type: 'integer', description: 'Size of the original in bytes' },
    status: { type: 'string', enum: BOOK_STATUSES },
    failureReason: { type: ['string', 'null'] },
    pageCount: { type: 'integer' },
    pagesDone: { type: 'integer' },
    pagesFailed: { type: 'integer' },
    summary: bookSummarySchema,
    createdAt: dateTime,
    updatedAt: dateTime,
    completedAt: nullableDateTime,
  },
} as const;

/** A page as the API shows it. */
export const pageSchema = {
  $id: 'Page',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    bookId: { type: 'string', format: 'uuid' },
    sequence: { type: 'integer' },
    status: { type: 'string', enum: PAGE_STATUSES },
    stage: { type: ['string', 'null'], description: 'Stage the page is in, or failed in' },
    failureReason: { type: ['string', 'null'] },
    retryable: { type: 'boolean', description: 'Failed pages only, in lists: whether a retry can help (false: no source image could be taken from the original, replace the page with a rescan)' },
    attempts: { type: 'integer' },
    width: { type: ['integer', 'null'] },
    height: { type: ['integer', 'null'] },
    dpiX: { type: ['number', 'null'] },
    dpiY: { type: ['number', 'null'] },
    orientation: { type: 'integer', enum: PAGE_ORIENTATIONS },
    ocrConfidence: { type: ['number', 'null'], description: 'Mean OCR word confidence, 0-100' },
    revision: { type: 'integer', description: 'Raised by each replacement of the page image' },
    indexedRevision: { type: ['integer', 'null'] },
    pageType: { type: ['string', 'null'], enum: [...PAGE_TYPES, null], description: "What kind of leaf the page was judged (e.g. handwritten: keyed by people, whatever the book's OCR profile); null before OCR judged it" },
    pageTypeReason: { type: ['string', 'null'], description: 'Why the page was judged so' },
    ocrTurn: { type: ['integer', 'null'], enum: [0, 90, 180, 270, null], description: 'Quarter turn the OCR found the master needed to read upright' },
    updatedAt: dateTime,
  },
} as const;

/** A stored object of a page, with where to download it. */
export const pageObjectSchema = {
  type: 'object',
  properties: {
    role: { type: 'string' },
    variant: { type: 'string' },
    revision: { type: 'integer' },
    mediaType: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    href: { type: ['string', 'null'], description: 'Download URL, when the API serves this object' },
  },
} as const;

/** A PREMIS-style processing event. */
export const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    pageId: { type: ['string', 'null'] },
    objectId: { type: ['string', 'null'] },
    type: { type: 'string', description: 'PREMIS event type' },
    agent: { type: 'string' },
    outcome: { type: 'string', enum: PROCESSING_EVENT_OUTCOMES },
    detail: { type: ['string', 'null'] },
    durationMs: { type: ['integer', 'null'] },
    occurredAt: dateTime,
  },
} as const;

/** The shared schemas `buildApp` registers (referenced as `Name#`). */
export const SHARED_SCHEMAS = [errorSchema, bookSchema, pageSchema] as const;

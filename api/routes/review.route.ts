import type { FastifyInstance } from 'fastify';
import {
  acceptPage, bookStageTimings, correctPage, correctionHistory, ensurePageType, listReviewQueue, pageWordsForReview, requestReocr, setPageType, REOCR_PROFILES,
  type Correction,
} from '../../review/index.ts';
import { enqueueRepackage } from '../../preservation/package-book.ts';
import { PAGE_TYPES, type PageType } from '../../ocr/index.ts';
import { REVIEW_REASONS, type BookOcrProfile } from '../../common/vocabulary.ts';
import type { AppDeps } from '../../app/deps.ts';
import { caller } from '../access.ts';
import { errorResponses, pageParams } from '../schemas.ts';
import { requirePage } from './pages.route.ts';

type Deps = Pick<AppDeps, 'db' | 'queue'>;

const box = { type: 'object', properties: { x0: { type: 'integer' }, y0: { type: 'integer' }, x1: { type: 'integer' }, y1: { type: 'integer' } } } as const;
const bookParams = { type: 'object', required: ['bookId'], properties: { bookId: { type: 'string', format: 'uuid' } } } as const;

/** The OCR review queue, clerks' corrections, page types and re-OCR. */
export async function reviewRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.get<{ Querystring: { bookId?: string; limit?: number; offset?: number } }>('/review/pages', {
    config: { policy: { roles: ['clerk', 'digitiser'], audit: 'ocr.review.list' } },
    schema: {
      tags: ['review'], summary: 'Pages waiting for review: OCR out of time, blank, or read below the confidence threshold; worst first',
      querystring: { type: 'object', additionalProperties: false, properties: { bookId: { type: 'string', format: 'uuid' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, maximum: 100000, default: 0 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            pages: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  pageId: { type: 'string' }, bookId: { type: 'string' }, sequence: { type: 'integer' }, revision: { type: 'integer' }, textRevision: { type: 'integer' },
                  reason: { type: 'string', enum: [...REVIEW_REASONS] }, ocrConfidence: { type: ['number', 'null'] }, lowWords: { type: 'integer' },
                  pageType: { type: ['string', 'null'] },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => ({ pages: await listReviewQueue(deps.db, req.query) }),
  });

  app.get<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/review', {
    config: { policy: { roles: ['clerk', 'digitiser'], audit: 'page.read', restricted: true } },
    schema: {
      tags: ['review'], summary: "A page's words for review: text, OCR reading when corrected, confidence, box; doubtful words marked",
      params: pageParams,
      response: {
        200: {
          type: 'object',
          properties: {
            revision: { type: 'integer' }, textRevision: { type: 'integer' }, pageType: { type: ['string', 'null'] },
            words: { type: 'array', items: { type: 'object', properties: { wordIndex: { type: 'integer' }, lineIndex: { type: 'integer' }, text: { type: 'string' }, ocrText: { type: ['string', 'null'] }, confidence: { type: 'number' }, low: { type: 'boolean' }, box } } },
          },
        },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      await ensurePageType(deps.db, page.id);
      return pageWordsForReview(deps.db, page.id);
    },
  });

  app.post<{ Params: { bookId: string; sequence: number }; Body: { corrections: Correction[]; textRevision?: number } }>('/books/:bookId/pages/:sequence/corrections', {
    config: { policy: { roles: ['clerk'], audit: 'ocr.correct', restricted: true } },
    schema: {
      tags: ['review'],
      summary: 'Correct words ({wordIndex, text}) or whole lines ({lineIndex, text}, same number of words) as a new text revision; the OCR reading is kept. Give textRevision (the one you saw) to refuse a concurrent edit.',
      params: pageParams,
      body: {
        type: 'object', required: ['corrections'], additionalProperties: false,
        properties: {
          textRevision: { type: 'integer', minimum: 0 },
          corrections: {
            type: 'array', minItems: 1, maxItems: 2000,
            items: {
              oneOf: [
                { type: 'object', required: ['wordIndex', 'text'], additionalProperties: false, properties: { wordIndex: { type: 'integer', minimum: 0 }, text: { type: 'string', minLength: 1, maxLength: 200 } } },
                { type: 'object', required: ['lineIndex', 'text'], additionalProperties: false, properties: { lineIndex: { type: 'integer', minimum: 0 }, text: { type: 'string', minLength: 1, maxLength: 4000 } } },
              ],
            },
          },
        },
      },
      response: {
        200: { type: 'object', properties: { textRevision: { type: 'integer' }, changed: { type: 'array', items: { type: 'object', properties: { wordIndex: { type: 'integer' }, before: { type: 'string' }, after: { type: 'string' } } } } } },
        ...errorResponses,
      },
    },
    handler: async (req) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      const result = await correctPage(deps.db, page.id, req.body.corrections, {
        user: caller(req).username, ...(req.body.textRevision !== undefined ? { expectedTextRevision: req.body.textRevision } : {}),
      });
      // The archival package carries the text too (ALTO, the PDF's text layer): rebuild it. The
      // correction is already archived, so a queue that fails here is logged, not the clerk's error;
      // the next correction or packaging of the book brings the package up to date.
      await enqueueRepackage(deps, page.bookId).catch((e: unknown) => {
        req.log.warn({ bookId: page.bookId, err: (e as Error).message }, 'package rebuild after a correction not queued');
      });
      return result;
    },
  });

  app.get<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/corrections', {
    config: { policy: { roles: ['clerk', 'digitiser', 'auditor'], audit: 'page.read', restricted: true } },
    schema: {
      tags: ['review'], summary: "Every correction of the page: text revision, word, before, after, who, when",
      params: pageParams,
      response: { 200: { type: 'object', properties: { corrections: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses },
    },
    handler: async (req) => ({ corrections: await correctionHistory(deps.db, (await requirePage(deps, req.params.bookId, req.params.sequence)).id) }),
  });

  app.post<{ Params: { bookId: string; sequence: number }; Body: { note?: string } | null }>('/books/:bookId/pages/:sequence/review/accept', {
    config: { policy: { roles: ['clerk'], audit: 'ocr.review.accept', restricted: true } },
    schema: {
      tags: ['review'], summary: 'Accept the page text as it is: the page leaves the review queue until its text changes',
      params: pageParams, body: { type: ['object', 'null'], additionalProperties: false, properties: { note: { type: 'string', maxLength: 2000 } } },
      response: { 204: { type: 'null' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      await acceptPage(deps.db, page.id, { user: caller(req).username, note: req.body?.note ?? null });
      return reply.code(204).send();
    },
  });

  app.put<{ Params: { bookId: string; sequence: number }; Body: { pageType: PageType } }>('/books/:bookId/pages/:sequence/page-type', {
    config: { policy: { roles: ['clerk', 'digitiser'], audit: 'page.type.set', restricted: true } },
    schema: {
      tags: ['review'], summary: 'Set what the page is (register, cover, index, blank, other); only register pages propose entries',
      params: pageParams, body: { type: 'object', required: ['pageType'], additionalProperties: false, properties: { pageType: { type: 'string', enum: PAGE_TYPES } } },
      response: { 204: { type: 'null' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      await setPageType(deps.db, page.id, req.body.pageType, { user: caller(req).username });
      return reply.code(204).send();
    },
  });

  app.get<{ Params: { bookId: string } }>('/books/:bookId/timings', {
    config: { policy: { roles: ['digitiser', 'clerk', 'records_manager', 'admin'] } },
    schema: {
      tags: ['review'], summary: "Per-stage timings of a book's pages (latest run per page and stage): mean, median, p95, max, pages over 5x the median",
      params: bookParams,
      response: {
        200: { type: 'object', properties: { stages: { type: 'array', items: { type: 'object', properties: { stage: { type: 'string' }, pages: { type: 'integer' }, meanMs: { type: 'integer' }, medianMs: { type: 'integer' }, p95Ms: { type: 'integer' }, maxMs: { type: 'integer' }, overFactor: { type: 'integer' } } } } } },
        ...errorResponses,
      },
    },
    handler: async (req) => ({ stages: await bookStageTimings(deps.db, req.params.bookId) }),
  });

  app.post<{ Params: { bookId: string }; Body: { pages?: number[]; profile: BookOcrProfile; languages?: string[] } }>('/books/:bookId/reocr', {
    config: { policy: { roles: ['digitiser', 'clerk'], audit: 'ocr.reocr', restricted: true } },
    schema: {
      tags: ['review'], summary: 'Read pages again (all, or the numbered ones) with another OCR profile or languages, as a new text revision; originals and masters untouched',
      params: bookParams,
      body: {
        type: 'object', required: ['profile'], additionalProperties: false,
        properties: {
          pages: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 2000 },
          profile: { type: 'string', enum: REOCR_PROFILES },
          languages: { type: 'array', items: { type: 'string', pattern: '^[a-z_]{3,20}$' }, minItems: 1, maxItems: 5 },
        },
      },
      response: { 202: { type: 'object', properties: { queued: { type: 'array', items: { type: 'integer' } } } }, ...errorResponses },
    },
    handler: async (req, reply) => {
      const b = req.body;
      return reply.code(202).send(await requestReocr(deps, {
        bookId: req.params.bookId, profile: b.profile, ...(b.pages ? { pages: b.pages } : {}), ...(b.languages ? { languages: b.languages } : {}),
      }, { user: caller(req).username }));
    },
  });
}

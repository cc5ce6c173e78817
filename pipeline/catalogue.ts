import { z } from 'zod';
import { BOOK_OCR_PROFILES } from '../common/vocabulary.ts';

const uuid = z.string().uuid();

/**
 * Every job of the pipeline: name → schema of its data. Payloads carry ids, never blobs.
 * The handler map in `stages.ts` is checked against this, so a job without a handler does not compile.
 */
export const JOBS = {
  /** Reads a book's original from the store, splits it into page sources, fans out the page stages. */
  'book.split': z.object({ bookId: uuid }),
  /** Page source → lossless preservation master and access derivatives. */
  'page.master': z.object({ bookId: uuid, pageId: uuid, revision: z.number().int().min(1) }),
  /** Master → OCR text, words with boxes and confidences. */
  'page.ocr': z.object({ bookId: uuid, pageId: uuid, revision: z.number().int().min(1) }),
  /** OCR result → page text and words in the database, ready for search. */
  'page.index': z.object({ bookId: uuid, pageId: uuid, revision: z.number().int().min(1) }),
  /** Fan-in: runs after every page of the batch ended; sets the book's status, counts and summary. */
  'book.complete': z.object({ bookId: uuid }),
  /** A finished book → ALTO per page, PDF/A, METS and the BagIt package (rebuilt when its pages change). */
  'book.package': z.object({ bookId: uuid }),
  /** Recomputes retention dates (one book or all), lists items due, extends Object Lock retention. */
  'retention.recompute': z.object({ bookId: uuid.optional(), reason: z.string().max(500).optional() }),
  /** Compares Object Lock state in the store with the database; repairs drift when asked. */
  'retention.reconcile': z.object({ repair: z.boolean().default(true) }),
  /** Re-reads objects and checks their SHA-256 (one book, all, or those due in the cycle). */
  'fixity.audit': z.object({ bookId: uuid.optional(), all: z.boolean().optional(), scheduled: z.boolean().optional() }),
  /** Recomputes the books whose registry links or linked events changed (marked stale by the database). */
  'retention.stale': z.object({}),
  /** Stores a snapshot of the books due for disposition, with what blocks them. */
  'disposal.due': z.object({}),
  /** Writes the audit chain head to object storage when it moved (audit/anchor.ts): periodic, one schedule however many processes run. */
  'audit.anchor': z.object({}),
  /** Writes the catalogue objects the archive changed, and new audit segments, to the object store (catalogue/write.ts): periodic and after a book is packaged. */
  'catalogue.write': z.object({}),
  /** Fans new outbox events out to their subscriptions and posts the due deliveries (events/deliver.ts): periodic. */
  'events.deliver': z.object({}),
  /** Executes an approved disposal batch. */
  'disposal.execute': z.object({ batchId: uuid }),
  /** Reads a page again with another OCR profile or languages, as a new text revision (review/reocr.ts). */
  'page.reocr': z.object({
    bookId: uuid, pageId: uuid, revision: z.number().int().min(1), fromTextRevision: z.number().int().min(0),
    profile: z.enum(BOOK_OCR_PROFILES), languages: z.array(z.string().min(1).max(20)).min(1).max(5).optional(),
    requestedBy: z.string().min(1).max(100),
  }),
} as const;

/** The pipeline's job catalogue type. */
export type Jobs = typeof JOBS;
/** A job name of the pipeline. */
export type JobName = keyof Jobs;
/** The data of job `N`. */
export type JobOf<N extends JobName> = z.infer<Jobs[N]>;

/** The per-page stages, in the order a page goes through them. */
export const PAGE_STAGES = ['page.master', 'page.ocr', 'page.index'] as const satisfies readonly JobName[];
/** A per-page stage name. */
export type PageStage = (typeof PAGE_STAGES)[number];

/** Retries per job name: the one place where they are set (OCR can time out; indexing can meet a busy DB). */
export const STAGE_RETRIES: Record<JobName, { attempts: number; backoffMs: number }> = {
  'book.split': { attempts: 3, backoffMs: 2000 },
  'page.master': { attempts: 3, backoffMs: 1000 },
  'page.ocr': { attempts: 3, backoffMs: 2000 },
  'page.index': { attempts: 5, backoffMs: 1000 },
  'book.complete': { attempts: 5, backoffMs: 1000 },
  'book.package': { attempts: 3, backoffMs: 5000 },
  'retention.recompute': { attempts: 3, backoffMs: 5000 },
  'retention.reconcile': { attempts: 3, backoffMs: 5000 },
  'fixity.audit': { attempts: 2, backoffMs: 60000 },
  'disposal.execute': { attempts: 5, backoffMs: 10000 },
  'retention.stale': { attempts: 3, backoffMs: 5000 },
  'disposal.due': { attempts: 3, backoffMs: 5000 },
  'audit.anchor': { attempts: 3, backoffMs: 5000 },
  // An object not written stays noted: the next run writes it.
  'catalogue.write': { attempts: 2, backoffMs: 5000 },
  'page.reocr': { attempts: 2, backoffMs: 5000 },
  // A failed sweep is harmless: the next scheduled one picks up where it stopped.
  'events.deliver': { attempts: 2, backoffMs: 5000 },
};

/**
 * Concurrency per job name in one worker process. OCR follows the OCR pool size (it is CPU-bound
 * and runs in worker threads); the other stages are cheap and I/O-bound.
 */
export function stageConcurrency(ocrPoolSize: number): Record<JobName, number> {
  return { 'book.split': 1, 'page.master': 2, 'page.ocr': ocrPoolSize, 'page.index': 4, 'book.complete': 2, 'book.package': 1,
    'retention.recompute': 1, 'retention.reconcile': 1, 'fixity.audit': 1, 'disposal.execute': 1,
    'retention.stale': 1, 'disposal.due': 1, 'audit.anchor': 1, 'catalogue.write': 1, 'page.reocr': 1, 'events.deliver': 1 };
}

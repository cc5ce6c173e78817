import { FINAL_BOOK_STATUSES, type BookOcrProfile, type BookStatus, type ObjectRole, type PageStatus, type PageType, type RegisterType, type SourceFormat } from '../common/vocabulary.ts';

// The closed lists (register types, statuses, roles, OCR profiles) are written once, in common/vocabulary.ts.
export {
  BOOK_OCR_PROFILES, DEFAULT_BOOK_LANGUAGES, DEFAULT_OCR_PROFILE, FINAL_BOOK_STATUSES, REGISTER_TYPES,
  type BookOcrProfile, type BookStatus, type ObjectRole, type PageStatus, type RegisterType, type SourceFormat,
} from '../common/vocabulary.ts';

/** True when a book in `status` has ended (no stage will change it without a retry or replacement). */
export function isFinalBookStatus(status: string): boolean {
  return (FINAL_BOOK_STATUSES as readonly string[]).includes(status);
}


/** What staff say about a book when they upload it. */
export interface BookMetadata {
  registerType: RegisterType;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume?: string | undefined;
  /** Tesseract language codes joined by '+', e.g. 'sqi+srp_latn+srp'. */
  languages: string;
  /** OCR profile of its pages; 'printed' when not given. */
  ocrProfile?: BookOcrProfile | undefined;
}

/** A book (one scanned register volume) as the archive holds it. */
export interface Book extends BookMetadata {
  id: string;
  ocrProfile: BookOcrProfile;
  sourceFormat: SourceFormat;
  sourceSha256: string;
  sourceSize: number;
  status: BookStatus;
  failureReason: string | null;
  pageCount: number;
  pagesDone: number;
  pagesFailed: number;
  summary: BookSummary | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** What book completion computes. */
export interface BookSummary {
  pages: number;
  done: number;
  failed: number;
  meanOcrConfidence: number | null;
  failures: { sequence: number; reason: string }[];
  processingSeconds: number;
  pagesPerMinute: number | null;
}

/** A page of a book. */
export interface Page {
  id: string;
  bookId: string;
  sequence: number;
  status: PageStatus;
  stage: string | null;
  failureReason: string | null;
  attempts: number;
  width: number | null;
  height: number | null;
  dpiX: number | null;
  dpiY: number | null;
  orientation: number;
  /** Share of the master covered by ink, measured with the master (null before it, or for pages mastered before it was kept). */
  inkRatio: number | null;
  ocrConfidence: number | null;
  revision: number;
  indexedRevision: number | null;
  /** Revision of the page's text within `revision`: 0 as OCR read it, +1 per correction or re-OCR. */
  textRevision: number;
  /** What kind of leaf the page was judged (register, cover, handwritten…), and why; null before the judgement. */
  pageType: PageType | null;
  pageTypeReason: string | null;
  /** Quarter turn (0, 90, 180, 270) the OCR found the master needed to read upright; null before OCR. */
  ocrTurn: number | null;
  updatedAt: Date;
}

/** A row of stored_objects: one object in the store, with its fixity. */
export interface StoredObject {
  id: string;
  bookId: string;
  pageId: string | null;
  role: ObjectRole;
  variant: string;
  revision: number;
  storeKey: string;
  versionId: string | null;
  sha256: string;
  md5: string;
  size: number;
  mediaType: string;
  createdAt: Date;
}

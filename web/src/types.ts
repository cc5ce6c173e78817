import type { LinkTargetKind } from '../../common/vocabulary.ts';

/** A book as the API gives it. */
export interface Book {
  id: string;
  registerType: string;
  municipality: string;
  yearFrom: number;
  yearTo: number;
  volume?: string;
  languages: string;
  ocrProfile: string;
  status: string;
  failureReason: string | null;
  pageCount: number;
  pagesDone: number;
  pagesFailed: number;
  summary: { pages: number; done: number; failed: number; meanOcrConfidence: number | null; failures: { sequence: number; reason: string }[]; processingSeconds: number; pagesPerMinute: number | null } | null;
  createdAt: string;
  completedAt: string | null;
}

/** Page counts by status. */
export interface Counts {
  total: number;
  pending: number;
  processing: number;
  done: number;
  failed: number;
}

/** A page as the API gives it. */
export interface Page {
  id: string;
  bookId: string;
  sequence: number;
  status: string;
  stage: string | null;
  failureReason: string | null;
  /** Failed pages: whether a retry can help (false when no source image was taken from the original). */
  retryable?: boolean;
  attempts: number;
  width: number | null;
  height: number | null;
  ocrConfidence: number | null;
  revision: number;
  /** What kind of leaf OCR judged the page (handwritten: keyed by people); null before. */
  pageType?: string | null;
  pageTypeReason?: string | null;
  /** Quarter turn the OCR found the master needed to read upright. */
  ocrTurn?: number | null;
}

/** A box in master-image pixels. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A page search hit. */
export interface Hit {
  pageId: string;
  bookId: string;
  sequence: number;
  revision: number;
  score: number;
  snippet: string;
  words: { text: string; confidence: number; similarity: number; box: Box }[];
  book: { registerType: string; municipality: string; yearFrom: number; yearTo: number; volume: string | null };
  page: { width: number | null; height: number | null };
}

/** A register entry. */
export interface Entry {
  id: string;
  pageId: string;
  pageSequence: number;
  box: Box;
  eventType: string;
  entryNumber: string | null;
  eventDate: string | null;
  place: string | null;
  names: { role: string; name: string }[];
  status: string;
  createdBy: string;
}

/** A registry record. */
export interface RegistryRecord {
  id: string;
  system: string;
  recordType: string;
  recordId: string;
  personNames: string[];
  eventDate: string | null;
  municipality: string | null;
}

/** A link between a record and an archive item. */
export interface Link {
  id: string;
  linkType: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
  record: { id: string; system: string; recordType: string; recordId: string; personNames: string[]; eventDate: string | null };
  item: { kind: LinkTargetKind; bookId: string; pageId: string | null; pageSequence: number | null; entryId: string | null; box: Box | null; imageHref: string | null };
}

/** Book title for people: type, municipality, years, volume. */
export function bookTitle(b: { registerType: string; municipality: string; yearFrom: number; yearTo: number; volume?: string | null }, typeLabel: (t: string) => string): string {
  const years = b.yearFrom === b.yearTo ? String(b.yearFrom) : `${b.yearFrom}–${b.yearTo}`;
  return `${typeLabel(b.registerType)} · ${b.municipality} · ${years}${b.volume ? ` · vol. ${b.volume}` : ''}`;
}

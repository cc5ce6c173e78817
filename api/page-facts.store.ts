import type { Queryable } from '../db/index.ts';

/** Facts of a page the page row keeps beside its model: its classified type and the OCR engine that read it. */
export interface PageFacts {
  pageType: string | null;
  ocrEngine: string | null;
}

/** The page type and OCR engine of a page (nulls before classification or OCR). */
export async function pageFacts(db: Queryable, pageId: string): Promise<PageFacts> {
  const r = await db.query<{ page_type: string | null; ocr_engine: string | null }>('SELECT page_type, ocr_engine FROM pages WHERE id = $1', [pageId]);
  const row = r.rows[0];
  return { pageType: row?.page_type ?? null, ocrEngine: row?.ocr_engine ?? null };
}

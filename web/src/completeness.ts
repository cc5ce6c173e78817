/** Reads the page number printed in a page's header from its OCR text, if any. */
export function printedPageNumber(text: string): number | null {
  const m = /(?:faqja|faqe|strana|страна|page)\s*[:.]?\s*(\d{1,5})/i.exec(text);
  return m ? Number(m[1]) : null;
}

/** At most this many missing numbers are listed: a misread number (e.g. 8 as 800) must not list hundreds. */
export const MAX_GAPS = 100;

/** Gaps and duplicates among printed page numbers, and the pages where none was read. */
export function completeness(numbers: { sequence: number; printed: number | null }[]): { gaps: number[]; duplicates: number[]; unread: number[] } {
  const read = numbers.filter((n) => n.printed !== null).map((n) => n.printed!);
  const seen = new Map<number, number>();
  for (const n of read) seen.set(n, (seen.get(n) ?? 0) + 1);
  const gaps: number[] = [];
  if (read.length) for (let n = Math.min(...read); n <= Math.max(...read) && gaps.length < MAX_GAPS; n++) if (!seen.has(n)) gaps.push(n);
  return { gaps, duplicates: [...seen].filter(([, c]) => c > 1).map(([n]) => n), unread: numbers.filter((n) => n.printed === null).map((n) => n.sequence) };
}


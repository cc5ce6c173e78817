/**
 * The URLs of one book's IIIF resources, as the three IIIF parts agree on them (the Image API, the
 * Presentation API and Content Search): `base` is the archive's origin as the caller reached it.
 */
export interface BookIiifIds {
  manifest: string;
  /** The canvas of page `sequence`; search hits and entry boxes target it with `#xywh=`. */
  canvas(sequence: number): string;
  /** The Image API 3.0 service of page `sequence` (its current revision). */
  imageService(sequence: number): string;
  /** The annotation page of the entries on page `sequence`. */
  entries(sequence: number): string;
  /** Content Search 2.0 within the book. */
  search: string;
  /** Content Search 1.0 within the book (for viewers that speak only 1.0, Mirador 4 among them). */
  search1: string;
}

/** The IIIF URLs of a book under `base` (an origin such as https://arkiva.example, no trailing slash). */
export function bookIiifIds(base: string, bookId: string): BookIiifIds {
  const book = `${base.replace(/\/+$/, '')}/iiif/3/books/${bookId}`;
  return {
    manifest: `${book}/manifest`,
    canvas: (s) => `${book}/canvas/${s}`,
    imageService: (s) => `${book}/pages/${s}`,
    entries: (s) => `${book}/annotations/${s}/entries`,
    search: `${book}/search`,
    search1: `${book}/search/v1`,
  };
}

/** A fragment selecting a box of a canvas, in its (master) pixels, rounded to whole pixels. */
export function xywh(canvas: string, box: { x0: number; y0: number; x1: number; y1: number }): string {
  const x = Math.max(0, Math.round(box.x0));
  const y = Math.max(0, Math.round(box.y0));
  const w = Math.max(1, Math.round(box.x1) - x);
  const h = Math.max(1, Math.round(box.y1) - y);
  return `${canvas}#xywh=${x},${y},${w},${h}`;
}

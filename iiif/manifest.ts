import { AppError } from '../common/index.ts';
import type { Queryable } from '../db/index.ts';
import { getBook, listObjects, listPages, type Book, type Page, type StoredObject } from '../archive/index.ts';
import { listPackages } from '../preservation/index.ts';
import { bookIiifIds } from './presentation-ids.ts';
import { bookTitle, bookYears, inEach, LABELS, noLanguage, ocrLanguages, REGISTER_TYPE_WORDS, type LanguageMap } from './presentation-words.ts';

/** The Presentation API 3.0 JSON-LD context. */
export const PRESENTATION_CONTEXT = 'http://iiif.io/api/presentation/3/context.json';

/**
 * What the book's reproductions may be used for: no copyright, but other known legal restrictions
 * (civil registers are personal data, closed for privacy for decades).
 */
export const MANIFEST_RIGHTS = 'http://rightsstatements.org/vocab/NoC-OKLR/1.0/';

/** Profile of the Image API service (the level iiif/info.ts claims in info.json). */
export const IMAGE_SERVICE_PROFILE = 'level2';

/** What a caller may see besides the pages, so a viewer is not pointed at what it would be refused. */
export interface ManifestReader {
  /** Entries (personal data): the annotation pages of each canvas. */
  entries: boolean;
  /** The book's PDF (it carries the OCR text of every page). */
  pdf: boolean;
}

/** A JSON object of the manifest (IIIF resources are open-ended). */
export type IiifJson = { [key: string]: unknown };

/** A page that has a master: what its canvas is made of. */
interface CanvasPage {
  page: Page & { width: number; height: number };
  alto: boolean;
  thumbnail: boolean;
}

/**
 * The IIIF Presentation 3.0 manifest of a book: its title and metadata in English and Albanian, a
 * canvas per page that has a master (its current revision, in page order) painted from the Image API
 * service, each page's ALTO as `seeAlso`, its thumbnail, its entries as annotations (when `reader`
 * may see them), the PDF as `rendering`, and the Content Search services. URLs are under `base`.
 */
export async function bookManifest(db: Queryable, bookId: string, opts: { base: string; reader: ManifestReader }): Promise<IiifJson> {
  const book = await getBook(db, bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${bookId}`);
  const [pages, objects, packages] = await Promise.all([listPages(db, bookId), listObjects(db, bookId), opts.reader.pdf ? listPackages(db, bookId) : []]);
  const pdf = packages.find((p) => p.current)?.pdf;
  return buildManifest(book, canvasPages(pages, objects), { ...opts, pdf: Boolean(pdf) });
}

/** The pages a canvas can be made of (those with a master of their current revision), in order. */
function canvasPages(pages: readonly Page[], objects: readonly StoredObject[]): CanvasPage[] {
  const has = new Set(objects.filter((o) => o.pageId).map((o) => `${o.pageId}|${o.revision}|${o.role}|${o.variant}`));
  const hasRole = new Set(objects.filter((o) => o.pageId).map((o) => `${o.pageId}|${o.revision}|${o.role}`));
  return pages
    .filter((p): p is CanvasPage['page'] => p.width !== null && p.height !== null && p.width > 0 && p.height > 0 && hasRole.has(`${p.id}|${p.revision}|master`))
    .sort((a, b) => a.sequence - b.sequence)
    .map((page) => ({
      page,
      // The ALTO in the archival package: at most one is current per page revision (package-book.ts).
      alto: hasRole.has(`${page.id}|${page.revision}|alto`),
      thumbnail: has.has(`${page.id}|${page.revision}|derivative|thumb-jpeg`),
    }));
}

function pair(label: { en: string; sq: string }, value: LanguageMap): IiifJson {
  return { label: inEach(label), value };
}

/** The manifest from what `bookManifest` read; pure, so its shape is tested without a database. */
export function buildManifest(book: Book, pages: readonly CanvasPage[], opts: { base: string; reader: ManifestReader; pdf: boolean }): IiifJson {
  const origin = opts.base.replace(/\/+$/, '');
  const ids = bookIiifIds(origin, book.id);
  const type = REGISTER_TYPE_WORDS[book.registerType];
  const metadata = [
    pair(LABELS.registerType, type ? inEach(type) : noLanguage(book.registerType)),
    pair(LABELS.municipality, noLanguage(book.municipality)),
    pair(LABELS.year, noLanguage(bookYears(book))),
    ...(book.volume ? [pair(LABELS.volume, noLanguage(book.volume))] : []),
    pair(LABELS.languages, ocrLanguages(book.languages)),
    pair(LABELS.pages, noLanguage(String(pages.length))),
  ];
  const manifest: IiifJson = {
    '@context': PRESENTATION_CONTEXT,
    id: ids.manifest,
    type: 'Manifest',
    label: bookTitle(book),
    metadata,
    rights: MANIFEST_RIGHTS,
    requiredStatement: { label: inEach(LABELS.access), value: inEach(LABELS.accessNote) },
    viewingDirection: 'left-to-right',
    service: [
      { id: ids.search, type: 'SearchService2', label: inEach(LABELS.search) },
      // Older viewers (Mirador 4.0 among them) find only a 1.0 search service, named the 1.0 way.
      { '@id': ids.search1, '@type': 'SearchService1', profile: 'http://iiif.io/api/search/1/search' },
    ],
    items: pages.map((p) => canvas(origin, book.id, p, opts.reader)),
  };
  if (opts.pdf) {
    manifest.rendering = [{ id: `${origin}/books/${book.id}/pdf`, type: 'Text', label: inEach(LABELS.pdf), format: 'application/pdf' }];
  }
  return manifest;
}

function canvas(origin: string, bookId: string, p: CanvasPage, reader: ManifestReader): IiifJson {
  const ids = bookIiifIds(origin, bookId);
  const { sequence, width, height } = p.page;
  const id = ids.canvas(sequence);
  const service = ids.imageService(sequence);
  const out: IiifJson = {
    id,
    type: 'Canvas',
    label: noLanguage(String(sequence)),
    width,
    height,
    items: [{
      id: `${id}/page`,
      type: 'AnnotationPage',
      items: [{
        id: `${id}/page/image`,
        type: 'Annotation',
        motivation: 'painting',
        body: {
          id: `${service}/full/max/0/default.jpg`,
          type: 'Image',
          format: 'image/jpeg',
          width,
          height,
          service: [{ id: service, type: 'ImageService3', profile: IMAGE_SERVICE_PROFILE }],
        },
        target: id,
      }],
    }],
  };
  if (p.thumbnail) {
    out.thumbnail = [{ id: `${origin}/books/${bookId}/pages/${sequence}/derivatives/thumb-jpeg`, type: 'Image', format: 'image/jpeg' }];
  }
  if (p.alto) {
    out.seeAlso = [{
      id: `${origin}/books/${bookId}/pages/${sequence}/alto`, type: 'Dataset', format: 'application/xml',
      profile: 'http://www.loc.gov/standards/alto/v4/alto-4-2.xsd', label: inEach(LABELS.alto),
    }];
  }
  if (reader.entries) out.annotations = [{ id: ids.entries(sequence), type: 'AnnotationPage' }];
  return out;
}

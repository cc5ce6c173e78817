import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PermanentError } from '../common/index.ts';
import {
  findObject, getBook, listEvents, listObjects, listPages, recordEvent, recordObject,
  type Book, type Page, type StoredObject,
} from '../archive/index.ts';
import type { Queryable } from '../db/index.ts';
import { readObject } from '../storage/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { STAGE_RETRIES } from '../pipeline/index.ts';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { buildAlto } from './alto.ts';
import { applyCorrections, correctedWords } from './corrected-ocr.ts';
import { bagTagFiles, type PayloadFile } from './bagit.ts';
import { buildMets, type MetsEvent, type MetsFile } from './mets.ts';
import { pageJpeg, writePdfA, type PdfPageInput } from './pdfa.ts';
import { tarStream, type TarEntry } from './tar.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'config'>;

/** Bumped when the package layout changes, so every book's package is rebuilt once. */
export const PACKAGE_FORMAT = 'arkiva-bag-1';
/** stored_objects variants of the book-level preservation objects. */
export const PACKAGE_VARIANT = 'bagit-tar';
export const PDF_VARIANT = 'pdfa-2b';
export const ALTO_VARIANT = 'alto-4';
const AGENT = 'arkiva book.package';

/**
 * The stored_objects variant of a page's ALTO for a text revision. `revision` already keys the
 * page revision; the variant keys the text in it, so a correction (or a re-OCR) makes a new ALTO
 * and the one for the earlier text stays. Text revision 0 keeps the plain variant, which is what
 * every ALTO written before corrections reached the package is.
 */
export function altoVariant(textRevision: number): string {
  return textRevision > 0 ? `${ALTO_VARIANT}-t${textRevision}` : ALTO_VARIANT;
}

/** Books whose package is built: those that ended with pages archived (as book.complete queues it). */
export function isPackageable(status: Book['status']): boolean {
  return status === 'complete' || status === 'complete_with_failures';
}

const EXT: Record<string, string> = {
  'image/tiff': 'tif', 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'application/pdf': 'pdf',
  'application/zip': 'zip', 'application/json': 'json', 'text/vnd.hocr+html': 'hocr.html', 'application/xml': 'xml',
};

/** A page as the package basis sees it (text revision 0 when not given). */
export type BasisPage = Pick<Page, 'id' | 'sequence' | 'revision' | 'status'> & Partial<Pick<Page, 'textRevision'>>;

/**
 * What a package is built from: the book's pages with their revisions, text revisions and
 * outcomes. A package for the same basis is the same package, so the job skips; a replaced page
 * or a corrected text changes it. Text revision 0 adds nothing, so books never corrected keep
 * the basis they were packaged with.
 */
export function packageBasis(pages: BasisPage[]): string {
  const h = createHash('sha256').update(PACKAGE_FORMAT);
  for (const p of [...pages].sort((a, b) => a.sequence - b.sequence)) {
    h.update(`\n${p.id}:${p.revision}:${p.status}${p.textRevision ? `:t${p.textRevision}` : ''}`);
  }
  return h.digest('hex');
}

/** The book.package job id for a basis: a new basis (a replaced page) runs again, the same one is deduplicated. */
export function packageJobId(bookId: string, basis: string): string {
  return `book.package-${bookId}-${basis.slice(0, 16)}`;
}

/** Queues the building of a book's package for its current pages (called when a book ends). */
export async function enqueuePackage(deps: Pick<AppDeps, 'db' | 'queue'>, bookId: string): Promise<void> {
  const basis = packageBasis(await listPages(deps.db, bookId));
  await deps.queue.add('book.package', { bookId }, { jobId: packageJobId(bookId, basis), ...STAGE_RETRIES['book.package'] });
}

/**
 * Queues the rebuilding of a book's package after its text changed (a clerk's correction), so
 * ALTO and the PDF carry the corrected words. Only books whose package is built at all: a book
 * still in the pipeline gets its package when it ends, a failed one gets none. Returns whether a
 * job was queued (deduplicated per basis, like enqueuePackage).
 */
export async function enqueueRepackage(deps: Pick<AppDeps, 'db' | 'queue'>, bookId: string): Promise<boolean> {
  const book = await getBook(deps.db, bookId);
  if (!book || !isPackageable(book.status)) return false;
  await enqueuePackage(deps, bookId);
  return true;
}

/** One generation of a book's package, current or superseded. */
export interface PackageVersion {
  generation: number;
  current: boolean;
  object: StoredObject;
  pdf?: StoredObject | undefined;
  basis?: string | undefined;
}

/** Every package of a book, newest first (superseded ones stay in the store, content-addressed). */
export async function listPackages(db: Queryable, bookId: string): Promise<PackageVersion[]> {
  const r = await db.query<{ id: string; role: string; revision: number; superseded_at: Date | null }>(
    `SELECT id, role, revision, superseded_at FROM stored_objects WHERE book_id = $1 AND page_id IS NULL AND role IN ('package', 'pdf')
      ORDER BY revision DESC, created_at DESC`,
    [bookId],
  );
  const all = await objectsById(db, r.rows.map((x) => x.id));
  const out: PackageVersion[] = [];
  for (const row of r.rows.filter((x) => x.role === 'package')) {
    const pdfRow = r.rows.find((x) => x.role === 'pdf' && x.revision === row.revision);
    const ev = await db.query<{ detail: string | null }>(
      `SELECT detail FROM processing_events WHERE object_id = $1 AND event_type = 'creation' ORDER BY id LIMIT 1`, [row.id]);
    out.push({
      generation: row.revision,
      current: row.superseded_at === null,
      object: all.get(row.id)!,
      pdf: pdfRow ? all.get(pdfRow.id) : undefined,
      basis: /basis ([0-9a-f]{64})/.exec(ev.rows[0]?.detail ?? '')?.[1],
    });
  }
  return out;
}

async function objectsById(db: Queryable, ids: string[]): Promise<Map<string, StoredObject>> {
  const m = new Map<string, StoredObject>();
  if (!ids.length) return m;
  const books = await db.query<{ book_id: string }>('SELECT DISTINCT book_id FROM stored_objects WHERE id = ANY($1::uuid[])', [ids]);
  for (const b of books.rows) {
    // listObjects hides superseded rows; read them directly, mapped the same way.
    const r = await db.query<Record<string, unknown>>('SELECT * FROM stored_objects WHERE book_id = $1 AND id = ANY($2::uuid[])', [b.book_id, ids]);
    for (const x of r.rows) m.set(x.id as string, rowToObject(x));
  }
  return m;
}

function rowToObject(r: Record<string, unknown>): StoredObject {
  return {
    id: r.id as string, bookId: r.book_id as string, pageId: (r.page_id as string | null) ?? null, role: r.role as StoredObject['role'],
    variant: r.variant as string, revision: Number(r.revision), storeKey: r.store_key as string, versionId: (r.version_id as string | null) ?? null,
    sha256: String(r.sha256), md5: String(r.md5), size: Number(r.size), mediaType: r.media_type as string, createdAt: r.created_at as Date,
  };
}

/** The result of one packaging run. */
export interface PackageResult {
  outcome: 'done' | 'skipped';
  package?: StoredObject;
  pdf?: StoredObject;
  generation?: number;
  payloadFiles?: number;
  pdfBytes?: number;
  /** Sum of the sizes of the page JPEGs embedded in the PDF. */
  pageImageBytes?: number;
}

/**
 * Builds and stores a book's archival information package: ALTO per page, the PDF/A, a METS
 * document, and the BagIt bag as one tar streamed to the store (every payload file's bytes checked
 * against its recorded SHA-256 on the way). The previous package's rows are superseded, its
 * content-addressed objects stay. Skips when the current package has the same basis.
 */
export async function packageBook(deps: Deps, bookId: string, opts: { signal?: AbortSignal; now?: Date } = {}): Promise<PackageResult> {
  const book = await getBook(deps.db, bookId);
  if (!book) throw new PermanentError(`book ${bookId} does not exist`);
  if (!isPackageable(book.status)) return { outcome: 'skipped' };
  const pages = await listPages(deps.db, bookId);
  const basis = packageBasis(pages);
  if (await currentPackageHasBasis(deps.db, bookId, basis)) return { outcome: 'skipped' };
  const started = Date.now();
  const now = opts.now ?? new Date();

  // ALTO per page, from the archived OCR with the clerks' corrections over it: recorded once per
  // page revision and text revision; the ALTO of an earlier text stays, superseded.
  const ocrByPage = new Map<string, ArchivedOcr>();
  for (const p of pages) {
    opts.signal?.throwIfAborted();
    if (p.status !== 'done') continue;
    const text = await pageText(deps, p);
    if (!text) continue;
    ocrByPage.set(p.id, text.ocr);
    const variant = altoVariant(p.textRevision);
    if (await findObject(deps.db, { bookId, pageId: p.id, role: 'alto', variant, revision: p.revision })) continue;
    const corrections = text.corrected > 0 ? { textRevision: p.textRevision, words: text.corrected } : undefined;
    const alto = Buffer.from(buildAlto(text.ocr, { sequence: p.sequence, imageFileName: 'master.tif', processedAt: text.ocrObject.createdAt, ...(corrections ? { corrections } : {}) }));
    const put = await deps.store.putContentAddressed('alto', alto, { contentType: 'application/xml' });
    await deps.db.transaction(async (tx) => {
      await lockPageText(tx, p);
      await tx.query(
        `UPDATE stored_objects SET superseded_at = now()
          WHERE page_id = $1 AND revision = $2 AND role = 'alto' AND variant <> $3 AND superseded_at IS NULL`,
        [p.id, p.revision, variant],
      );
      const { object, created } = await recordObject(tx, { bookId, pageId: p.id, role: 'alto', variant, revision: p.revision }, put, 'application/xml');
      // PREMIS: which text the ALTO holds, in counts and revisions only (the words are personal data).
      if (created) {
        await recordEvent(tx, {
          bookId, pageId: p.id, objectId: object.id, type: 'creation', agent: AGENT, outcome: 'success',
          detail: corrections
            ? `ALTO 4 from OCR with clerks' corrections up to text revision ${p.textRevision} (${corrections.words} word(s) corrected), sha256 ${put.sha256}`
            : `ALTO 4 from OCR${p.textRevision > 0 ? `, text revision ${p.textRevision}` : ''}, sha256 ${put.sha256}`,
        });
      }
    });
  }

  const objects = (await listObjects(deps.db, bookId)).filter((o) => o.role !== 'pdf' && o.role !== 'package');
  const pageOf = new Map(pages.map((p) => [p.id, p]));
  const current = objects.filter((o) => o.pageId === null || o.revision === pageOf.get(o.pageId)?.revision);

  // The PDF: one page per page with a master, its OCR as the text layer.
  let pageImageBytes = 0;
  const pdfPages = async function* (): AsyncGenerator<PdfPageInput> {
    for (const p of pages) {
      opts.signal?.throwIfAborted();
      const master = current.find((o) => o.pageId === p.id && o.role === 'master');
      if (!master || p.status !== 'done') continue;
      const img = await pageJpeg(await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 }), { maxPixels: deps.config.ingest.maxPixels });
      pageImageBytes += img.jpeg.length;
      yield { sequence: p.sequence, jpeg: img.jpeg, width: img.width, height: img.height, dpi: p.dpiX ?? img.dpi, ocr: ocrByPage.get(p.id), label: `Page ${p.sequence}` };
    }
  };
  const info = describeBook(book);
  // Streamed: pages are read, written into the PDF and uploaded one at a time (memory stays at about a page).
  const pdfPut = await deps.store.putContentAddressed('pdf', Readable.from(writePdfA({ ...info, creatorTool: 'Arkiva', createdAt: now }, pdfPages())), { contentType: 'application/pdf' });

  // Payload: files from the store, the PDF, and the METS document describing them all.
  type Item = PayloadFile & { storeKey?: string; mimeType: string; page?: number; objectId?: string; created?: Date; use: string };
  const items: Item[] = [];
  for (const o of current) {
    const p = o.pageId ? pageOf.get(o.pageId) : undefined;
    // A page's source is kept only when it is a rescan: otherwise it is cut from the original.
    if (o.role === 'source' && (!p || p.revision === 1)) continue;
    const ext = EXT[o.mediaType] ?? 'bin';
    const name = o.role === 'original' ? `original/original.${ext}`
      // ALTO keeps one name in the bag (alto-4.xml) whichever text revision it holds.
      : `pages/${String(p!.sequence).padStart(4, '0')}/${o.role === 'alto' ? ALTO_VARIANT : o.variant || o.role}${o.role === 'source' ? `-r${o.revision}` : ''}.${o.role === 'alto' ? 'xml' : ext}`;
    items.push({
      path: `data/${name}`, size: o.size, sha256: o.sha256, storeKey: o.storeKey, mimeType: o.mediaType, use: o.role,
      objectId: o.id, created: o.createdAt, ...(p ? { page: p.sequence } : {}),
    });
  }
  items.push({ path: 'data/book.pdf', size: pdfPut.size, sha256: pdfPut.sha256, storeKey: pdfPut.key, mimeType: 'application/pdf', use: 'pdf', created: now });
  items.sort((a, b) => (a.path < b.path ? -1 : 1));

  const fileIds = new Map<string, string>();
  const metsFiles: MetsFile[] = items.map((it, i) => {
    const id = `FILE_${String(i + 1).padStart(5, '0')}`;
    if (it.objectId) fileIds.set(it.objectId, id);
    return {
      id, href: it.path.slice('data/'.length), use: it.use, mimeType: it.mimeType, size: it.size, sha256: it.sha256,
      ...(it.page !== undefined ? { page: it.page } : {}), ...(it.created ? { created: it.created } : {}), ...(it.objectId ? { objectId: it.objectId } : {}),
    };
  });
  const events: MetsEvent[] = (await listEvents(deps.db, bookId)).map((e) => ({
    id: `EVENT_${e.id}`, type: e.type, at: new Date(e.occurredAt), agent: e.agent, outcome: e.outcome, detail: e.detail,
    fileIds: e.objectId && fileIds.has(e.objectId) ? [fileIds.get(e.objectId)!] : [],
  }));
  const mets = Buffer.from(buildMets({
    bookId, title: info.title, createdAt: now, creatorAgent: AGENT,
    dc: { title: info.title, type: info.type, coverage: info.coverage, date: years(book), identifier: info.identifier, description: info.subject },
    pages: pages.map((p) => ({ sequence: p.sequence, label: `Page ${p.sequence}` })),
    files: metsFiles, events,
  }));
  const metsSha = createHash('sha256').update(mets).digest('hex');
  const payload: PayloadFile[] = [...items.map(({ path, size, sha256 }) => ({ path, size, sha256 })), { path: 'data/mets.xml', size: mets.length, sha256: metsSha }];
  // Who made the bag comes from the configuration (BAG_* in config/env.ts), so each archive names itself.
  const org = deps.config.bag;
  const tags = bagTagFiles(payload, {
    sourceOrganization: org.sourceOrganization, externalIdentifier: bookId, baggingDate: now, externalDescription: info.title,
    extra: {
      ...(org.organizationAddress ? { 'Organization-Address': org.organizationAddress } : {}),
      ...(org.contactName ? { 'Contact-Name': org.contactName } : {}),
      ...(org.contactEmail ? { 'Contact-Email': org.contactEmail } : {}),
      'Bag-Group-Identifier': `book-${bookId}`,
      'Arkiva-Package-Basis': basis, 'Arkiva-Package-Format': PACKAGE_FORMAT,
    },
  });

  const root = `book-${bookId}`;
  const entries = function* (): Generator<TarEntry> {
    const byPath = new Map(tags.map((t) => [t.path, t]));
    for (const name of ['bagit.txt', 'bag-info.txt']) yield { path: `${root}/${name}`, size: byPath.get(name)!.content.length, mtime: now, body: byPath.get(name)!.content };
    yield { path: `${root}/data/mets.xml`, size: mets.length, mtime: now, body: mets };
    for (const it of items) {
      yield { path: `${root}/${it.path}`, size: it.size, mtime: it.created ?? now, body: () => Promise.resolve(checkedStream(deps, it.storeKey!, it.sha256, opts.signal)) };
    }
    for (const name of ['manifest-sha256.txt', 'tagmanifest-sha256.txt']) yield { path: `${root}/${name}`, size: byPath.get(name)!.content.length, mtime: now, body: byPath.get(name)!.content };
  };
  // Streamed: the store uploads it in parts as the tar is produced; only a chunk is in memory.
  const tarPut = await deps.store.putContentAddressed('packages', Readable.from(tarStream(entries())), { contentType: 'application/x-tar' });

  const recorded = await deps.db.transaction(async (tx) => {
    await tx.query('SELECT id FROM books WHERE id = $1 FOR UPDATE', [bookId]);
    // Another run may have finished the same basis while this one was streaming.
    if (await currentPackageHasBasis(tx, bookId, basis)) return undefined;
    // A page replaced or corrected while this one was streaming: this package is already out of
    // date, and must not become current over a newer one. The retry builds the book as it is now.
    if (packageBasis(await listPages(tx, bookId)) !== basis) throw new StalePackageError(bookId);
    const gen = await tx.query<{ n: number }>(
      `SELECT COALESCE(max(revision), 0)::int + 1 AS n FROM stored_objects WHERE book_id = $1 AND page_id IS NULL AND role = 'package'`, [bookId]);
    const generation = gen.rows[0]!.n;
    await tx.query(`UPDATE stored_objects SET superseded_at = now() WHERE book_id = $1 AND page_id IS NULL AND role IN ('package', 'pdf') AND superseded_at IS NULL`, [bookId]);
    const { object: pdfObj } = await recordObject(tx, { bookId, role: 'pdf', variant: PDF_VARIANT, revision: generation }, pdfPut, 'application/pdf');
    const { object: pkgObj } = await recordObject(tx, { bookId, role: 'package', variant: PACKAGE_VARIANT, revision: generation }, tarPut, 'application/x-tar');
    await recordEvent(tx, { bookId, objectId: pdfObj.id, type: 'creation', agent: AGENT, outcome: 'success', detail: `PDF/A-2b of ${pages.length} pages, ${pdfPut.size} bytes, sha256 ${pdfPut.sha256}` });
    await recordEvent(tx, {
      bookId, objectId: pkgObj.id, type: 'creation', agent: AGENT, outcome: 'success', durationMs: Date.now() - started,
      detail: `package basis ${basis}; generation ${generation}; BagIt tar of ${payload.length} payload files, ${tarPut.size} bytes, sha256 ${tarPut.sha256}`,
    });
    return { generation, pdfObj, pkgObj };
  });
  if (!recorded) return { outcome: 'skipped' };
  return { outcome: 'done', package: recorded.pkgObj, pdf: recorded.pdfObj, generation: recorded.generation, payloadFiles: payload.length, pdfBytes: pdfPut.size, pageImageBytes };
}

/** The book changed while its package was being built; retried (not permanent), the job builds it again. */
class StalePackageError extends Error {
  constructor(bookId: string) {
    super(`book ${bookId} changed while its package was built; building it again`);
  }
}

/**
 * A page's text for ALTO and the PDF: its current archived OCR reading with the corrections of
 * its current text revision laid over. Read in one transaction holding the page row, so a
 * correction or re-OCR cannot land between the reading and the words (both take the row FOR
 * UPDATE). The reading itself is content-addressed and checked against its SHA-256.
 */
async function pageText(deps: Deps, p: Page): Promise<{ ocr: ArchivedOcr; ocrObject: StoredObject; corrected: number } | undefined> {
  const found = await deps.db.transaction(async (tx) => {
    await lockPageText(tx, p);
    const ocrObject = await findObject(tx, { bookId: p.bookId, pageId: p.id, role: 'ocr', variant: 'ocr-json', revision: p.revision });
    return ocrObject ? { ocrObject, corrected: await correctedWords(tx, p.id, p.revision) } : undefined;
  });
  if (!found) return undefined;
  const ocr = JSON.parse((await readObject(deps.store, found.ocrObject.storeKey, { expectedSha256: found.ocrObject.sha256 })).toString('utf8')) as ArchivedOcr;
  try {
    return { ocr: applyCorrections(ocr, found.corrected), ocrObject: found.ocrObject, corrected: found.corrected.length };
  } catch (e) {
    // The index does not match the archived reading: packaging it would misplace a clerk's words.
    throw new PermanentError(`page ${p.sequence}: ${(e as Error).message}`);
  }
}

/** Holds the page row (FOR SHARE) and checks it is still at the revisions this run packages. */
async function lockPageText(tx: Queryable, p: Pick<Page, 'id' | 'bookId' | 'revision' | 'textRevision'>): Promise<void> {
  const r = await tx.query<{ revision: number; text_revision: number }>('SELECT revision, text_revision FROM pages WHERE id = $1 FOR SHARE', [p.id]);
  const now = r.rows[0];
  if (!now || now.revision !== p.revision || now.text_revision !== p.textRevision) throw new StalePackageError(p.bookId);
}

async function currentPackageHasBasis(db: Queryable, bookId: string, basis: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM stored_objects o JOIN processing_events e ON e.object_id = o.id
      WHERE o.book_id = $1 AND o.page_id IS NULL AND o.role = 'package' AND o.superseded_at IS NULL
        AND e.event_type = 'creation' AND e.detail LIKE $2`,
    [bookId, `package basis ${basis};%`],
  );
  return (r.rowCount ?? 0) > 0;
}

async function* checkedStream(deps: Pick<AppDeps, 'store'>, key: string, sha256: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of await deps.store.get(key)) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
  const got = hash.digest('hex');
  if (got !== sha256) throw new Error(`object ${key} has SHA-256 ${got}, the archive recorded ${sha256}: package not written`);
}

function years(b: Book): string {
  return b.yearFrom === b.yearTo ? String(b.yearFrom) : `${b.yearFrom}-${b.yearTo}`;
}

/** Title, subject and keywords of a book's PDF and METS (no personal data: only the register's own description). */
export function describeBook(b: Book): { title: string; subject: string; keywords: string[]; identifier: string; coverage: string; type: string } {
  const kind = `${b.registerType} register`;
  const title = `${kind[0]!.toUpperCase()}${kind.slice(1)}, ${b.municipality}, ${years(b)}${b.volume ? `, volume ${b.volume}` : ''}`;
  return {
    title,
    subject: `Civil ${kind} of ${b.municipality} for ${years(b)}${b.volume ? `, volume ${b.volume}` : ''}; ${b.pageCount} pages`,
    keywords: [b.registerType, b.municipality, years(b), ...(b.volume ? [`volume-${b.volume}`] : [])],
    identifier: `urn:uuid:${b.id}`,
    coverage: `${b.municipality}, ${years(b)}`,
    type: kind,
  };
}

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PermanentError } from '../common/index.ts';
import {
  findObject, getBook, listEvents, listObjects, listPages, recordEvent, recordObject,
  type Book, type Page, type StoredObject,
} from '../archive/index.ts';
import type { Queryable } from '../db/index.ts';
import { readObject, type PutResult } from '../storage/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { queuePackage } from '../pipeline/index.ts';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { buildAlto } from './alto.ts';
import { applyCorrections } from './corrected-ocr.ts';
import { bagTagFiles, type PayloadFile } from './bagit.ts';
import { buildMets, type MetsEvent, type MetsFile } from './mets.ts';
import { pageJpeg, writePdfA, type PdfPageInput } from './pdfa.ts';
import { tarStream, type TarEntry } from './tar.ts';
import { keyedDigest, keyedEntryFiles, type KeyedFile } from './keyed-entries.ts';
import { keyedEntriesOfBook, unfinishedZones } from './keyed-entries.store.ts';
import {
  correctedWords, creationDetail, currentPackageHasBasis, forgetPackageParts, listPackageRows, lockBook, lockPageRevisions, nextPackageGeneration,
  notePackagePart, objectsById, packageParts, supersedeCurrentPackage, supersedeOtherAltos,
} from './package.store.ts';

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
 * outcomes, and the digest of its keyed entries' files (keyedDigest). A package for the same basis
 * is the same package, so the job skips; a replaced page, a corrected text, a newly verified or
 * linked keyed entry changes it. Text revision 0 and a book without keyed entries add nothing, so
 * books never corrected nor keyed keep the basis they were packaged with.
 */
export function packageBasis(pages: BasisPage[], keyed?: string): string {
  const h = createHash('sha256').update(PACKAGE_FORMAT);
  for (const p of [...pages].sort((a, b) => a.sequence - b.sequence)) {
    h.update(`\n${p.id}:${p.revision}:${p.status}${p.textRevision ? `:t${p.textRevision}` : ''}`);
  }
  if (keyed) h.update(`\nkeyed:${keyed}`);
  return h.digest('hex');
}

/** The book's keyed-entry payload files as the database holds them now, and their digest for the basis. */
async function readKeyed(db: Queryable, bookId: string): Promise<{ files: KeyedFile[]; digest: string | undefined }> {
  const files = keyedEntryFiles(bookId, await keyedEntriesOfBook(db, bookId));
  return { files, digest: keyedDigest(files) };
}

/** The basis of the book as it is now: its pages and its keyed entries. */
async function currentBasis(db: Queryable, bookId: string): Promise<string> {
  return packageBasis(await listPages(db, bookId), (await readKeyed(db, bookId)).digest);
}

/** Queues the building of a book's package for its current pages and keyed entries (called when a book ends). */
export async function enqueuePackage(deps: Pick<AppDeps, 'db' | 'queue'>, bookId: string): Promise<void> {
  await queuePackage(deps.queue, bookId, await currentBasis(deps.db, bookId));
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

/**
 * Queues the rebuilding of a book's package once its keying is done: called when a zone is
 * verified, it queues only when no zone of the book is left open, keyed once or disputed, so a
 * book being keyed is not rebuilt (PDF and all) for every entry, but its package carries the keyed
 * entries when the last one is settled. Returns whether a job was queued.
 */
export async function enqueueRepackageWhenKeyed(deps: Pick<AppDeps, 'db' | 'queue'>, bookId: string): Promise<boolean> {
  if ((await unfinishedZones(deps.db, bookId)) > 0) return false;
  return enqueueRepackage(deps, bookId);
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
  const rows = await listPackageRows(db, bookId);
  const all = await objectsById(db, rows.map((x) => x.id));
  const out: PackageVersion[] = [];
  for (const row of rows.filter((x) => x.role === 'package')) {
    const pdfRow = rows.find((x) => x.role === 'pdf' && x.revision === row.revision);
    const detail = await creationDetail(db, row.id);
    out.push({
      generation: row.revision,
      current: row.supersededAt === null,
      object: all.get(row.id)!,
      pdf: pdfRow ? all.get(pdfRow.id) : undefined,
      basis: /basis ([0-9a-f]{64})/.exec(detail ?? '')?.[1],
    });
  }
  return out;
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
  const found = await gatherBasis(deps.db, bookId);
  if (!found) return { outcome: 'skipped' };
  const started = Date.now();
  const basis = { ...found, bookId, signal: opts.signal };
  const ocrByPage = await writeAltos(deps, basis);
  const current = await currentObjects(deps.db, basis);
  const run: PackageRun = { ...basis, now: opts.now ?? packageDate(found.book, current) };
  const pdf = await writePdf(deps, run, current, ocrByPage);
  await notePackagePart(deps.db, bookId, run.basis, pdf.put);
  const items = payloadItems(run, current, pdf.put);
  const mets = await writeMets(deps.db, run, items);
  const bag = await streamBag(deps, run, items, mets);
  await notePackagePart(deps.db, bookId, run.basis, bag.put);
  const recorded = await recordPackage(deps, run, { pdf: pdf.put, tar: bag.put, payloadFiles: bag.payloadFiles, started });
  if (!recorded) return { outcome: 'skipped' };
  return {
    outcome: 'done', package: recorded.package, pdf: recorded.pdf, generation: recorded.generation,
    payloadFiles: bag.payloadFiles, pdfBytes: pdf.put.size, pageImageBytes: pdf.pageImageBytes,
  };
}

/**
 * The package's date: the creation of the newest object it holds (a page's ALTO for its text, a
 * rescan's master, the OCR of a replaced page). Those rows are written once per place and never
 * changed, and every one is recorded before this is read (ALTO just before), so a run repeated for
 * the same basis, after a crash or a lost claim, dates the package the same and writes the same
 * bytes: the same content-addressed PDF and bag. Neither the book's completion time (every fan-in
 * of its page blocks sets it again) nor the pages' updated_at (a late duplicate OCR run, an
 * orientation, a clerk's page type touch a page without changing the basis) would be.
 */
function packageDate(book: Book, current: readonly StoredObject[]): Date {
  let t = 0;
  for (const o of current) t = Math.max(t, o.createdAt.getTime());
  return new Date(t || book.createdAt.getTime());
}

/** What one packaging run builds from, and when and under which signal it runs. */
interface PackageRun {
  bookId: string;
  book: Book;
  /** The book's pages as read at the start; the package is of these revisions. */
  pages: Page[];
  pageOf: Map<string, Page>;
  /** The keyed entries' payload files as read at the start (none for a book without keyed entries). */
  keyed: KeyedFile[];
  basis: string;
  /** The package's date (packageDate): the PDF's and METS's creation, the bag's date. */
  now: Date;
  signal?: AbortSignal | undefined;
}

/**
 * The book and its pages to package, with their basis; undefined when there is nothing to build
 * (the book has not ended with pages archived, or its current package has this basis).
 */
async function gatherBasis(db: Queryable, bookId: string): Promise<Pick<PackageRun, 'book' | 'pages' | 'pageOf' | 'keyed' | 'basis'> | undefined> {
  const book = await getBook(db, bookId);
  if (!book) throw new PermanentError(`book ${bookId} does not exist`);
  if (!isPackageable(book.status)) return undefined;
  const pages = await listPages(db, bookId);
  const keyed = await readKeyed(db, bookId);
  const basis = packageBasis(pages, keyed.digest);
  if (await currentPackageHasBasis(db, bookId, basis)) return undefined;
  return { book, pages, pageOf: new Map(pages.map((p) => [p.id, p])), keyed: keyed.files, basis };
}

/**
 * ALTO per page, from the archived OCR with the clerks' corrections over it: recorded once per
 * page revision and text revision; the ALTO of an earlier text stays, superseded. Returns each
 * page's text, for the PDF's text layer.
 */
async function writeAltos(deps: Deps, run: Omit<PackageRun, 'now'>): Promise<Map<string, ArchivedOcr>> {
  const ocrByPage = new Map<string, ArchivedOcr>();
  for (const p of run.pages) {
    run.signal?.throwIfAborted();
    if (p.status !== 'done') continue;
    const text = await pageText(deps, p);
    if (!text) continue;
    ocrByPage.set(p.id, text.ocr);
    await writePageAlto(deps, run.bookId, p, text);
  }
  return ocrByPage;
}

/** Writes and records a page's ALTO for its text revision, unless that one is recorded already. */
async function writePageAlto(deps: Deps, bookId: string, p: Page, text: PageText): Promise<void> {
  const variant = altoVariant(p.textRevision);
  if (await findObject(deps.db, { bookId, pageId: p.id, role: 'alto', variant, revision: p.revision })) return;
  const corrections = text.corrected > 0 ? { textRevision: p.textRevision, words: text.corrected } : undefined;
  const alto = Buffer.from(buildAlto(text.ocr, { sequence: p.sequence, imageFileName: 'master.tif', processedAt: text.ocrObject.createdAt, ...(corrections ? { corrections } : {}) }));
  const put = await deps.store.putContentAddressed('alto', alto, { contentType: 'application/xml' });
  await deps.db.transaction(async (tx) => {
    await lockPageText(tx, p);
    await supersedeOtherAltos(tx, p.id, p.revision, variant);
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

/**
 * The book's objects at its pages' current revisions, and its own; earlier packages and PDFs left
 * out, and the extracts issued from it (documents the agency issued, not the book's content).
 */
async function currentObjects(db: Queryable, run: Omit<PackageRun, 'now'>): Promise<StoredObject[]> {
  // The deep-zoom pyramid is an access copy the master remakes, many megabytes a page: not preserved.
  const objects = (await listObjects(db, run.bookId)).filter((o) => o.role !== 'pdf' && o.role !== 'package' && o.role !== 'extract' && !(o.role === 'derivative' && o.variant === 'pyramid-tiff'));
  return objects.filter((o) => o.pageId === null || o.revision === run.pageOf.get(o.pageId)?.revision);
}

/**
 * The PDF: one page per page with a master, its OCR as the text layer. Streamed: pages are read,
 * written into the PDF and uploaded one at a time (memory stays at about a page).
 */
async function writePdf(
  deps: Deps, run: PackageRun, current: StoredObject[], ocrByPage: Map<string, ArchivedOcr>,
): Promise<{ put: PutResult; pageImageBytes: number }> {
  let pageImageBytes = 0;
  const pdfPages = async function* (): AsyncGenerator<PdfPageInput> {
    for (const p of run.pages) {
      run.signal?.throwIfAborted();
      const master = current.find((o) => o.pageId === p.id && o.role === 'master');
      if (!master || p.status !== 'done') continue;
      const img = await pageJpeg(await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 }), { maxPixels: deps.config.ingest.maxPixels });
      pageImageBytes += img.jpeg.length;
      yield { sequence: p.sequence, jpeg: img.jpeg, width: img.width, height: img.height, dpi: p.dpiX ?? img.dpi, ocr: ocrByPage.get(p.id), label: `Page ${p.sequence}` };
    }
  };
  const info = describeBook(run.book);
  const put = await deps.store.putContentAddressed('pdf', Readable.from(writePdfA({ ...info, creatorTool: 'Arkiva', createdAt: run.now }, pdfPages())), { contentType: 'application/pdf' });
  return { put, pageImageBytes };
}

/** A payload file of the bag, with what METS says of it and where its bytes are: in the store, or made in memory (`body`). */
type PayloadItem = PayloadFile & { storeKey?: string; body?: Buffer; mimeType: string; page?: number; objectId?: string; created?: Date; use: string };

/** Payload: files from the store and the PDF, by path (METS, describing them all, goes beside them). */
function payloadItems(run: PackageRun, current: StoredObject[], pdf: PutResult): PayloadItem[] {
  const items: PayloadItem[] = [];
  for (const o of current) {
    const p = o.pageId ? run.pageOf.get(o.pageId) : undefined;
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
  items.push({ path: 'data/book.pdf', size: pdf.size, sha256: pdf.sha256, storeKey: pdf.key, mimeType: 'application/pdf', use: 'pdf', created: run.now });
  for (const k of run.keyed) {
    items.push({ path: k.path, size: k.body.length, sha256: k.sha256, body: k.body, mimeType: k.mimeType, use: k.use, ...(k.page !== undefined ? { page: k.page } : {}), ...(k.created ? { created: k.created } : {}) });
  }
  items.sort((a, b) => (a.path < b.path ? -1 : 1));
  return items;
}

/** The METS document: the book's description, every payload file, and its PREMIS events tied to the files. */
async function writeMets(db: Queryable, run: PackageRun, items: PayloadItem[]): Promise<Buffer> {
  const { book } = run;
  const fileIds = new Map<string, string>();
  const metsFiles: MetsFile[] = items.map((it, i) => {
    const id = `FILE_${String(i + 1).padStart(5, '0')}`;
    if (it.objectId) fileIds.set(it.objectId, id);
    return {
      id, href: it.path.slice('data/'.length), use: it.use, mimeType: it.mimeType, size: it.size, sha256: it.sha256,
      ...(it.page !== undefined ? { page: it.page } : {}), ...(it.created ? { created: it.created } : {}), ...(it.objectId ? { objectId: it.objectId } : {}),
    };
  });
  // The history up to the package's date: events recorded since (a late fan-in's accession, a
  // duplicate OCR run's) would make a re-run's METS, and so its bag, differ from the first run's.
  const history = (await listEvents(db, run.bookId)).filter((e) => new Date(e.occurredAt).getTime() <= run.now.getTime());
  const events: MetsEvent[] = history.map((e) => ({
    id: `EVENT_${e.id}`, type: e.type, at: new Date(e.occurredAt), agent: e.agent, outcome: e.outcome, detail: e.detail,
    fileIds: e.objectId && fileIds.has(e.objectId) ? [fileIds.get(e.objectId)!] : [],
  }));
  const info = describeBook(book);
  return Buffer.from(buildMets({
    bookId: run.bookId, title: info.title, createdAt: run.now, creatorAgent: AGENT,
    dc: { title: info.title, type: info.type, coverage: info.coverage, date: years(book), identifier: info.identifier, description: info.subject },
    pages: run.pages.map((p) => ({ sequence: p.sequence, label: `Page ${p.sequence}` })),
    files: metsFiles, events,
  }));
}

/**
 * The BagIt bag as one tar: tag files, METS, and every payload file read from the store and
 * checked against its SHA-256 on the way. Streamed: the store uploads it in parts as the tar is
 * produced; only a chunk is in memory.
 */
async function streamBag(deps: Deps, run: PackageRun, items: PayloadItem[], mets: Buffer): Promise<{ put: PutResult; payloadFiles: number }> {
  const { bookId, now } = run;
  const metsSha = createHash('sha256').update(mets).digest('hex');
  const payload: PayloadFile[] = [...items.map(({ path, size, sha256 }) => ({ path, size, sha256 })), { path: 'data/mets.xml', size: mets.length, sha256: metsSha }];
  // Who made the bag comes from the configuration (BAG_* in config/env.ts), so each archive names itself.
  const org = deps.config.bag;
  const tags = bagTagFiles(payload, {
    sourceOrganization: org.sourceOrganization, externalIdentifier: bookId, baggingDate: now, externalDescription: describeBook(run.book).title,
    extra: {
      ...(org.organizationAddress ? { 'Organization-Address': org.organizationAddress } : {}),
      ...(org.contactName ? { 'Contact-Name': org.contactName } : {}),
      ...(org.contactEmail ? { 'Contact-Email': org.contactEmail } : {}),
      'Bag-Group-Identifier': `book-${bookId}`,
      'Arkiva-Package-Basis': run.basis, 'Arkiva-Package-Format': PACKAGE_FORMAT,
    },
  });

  const root = `book-${bookId}`;
  const entries = function* (): Generator<TarEntry> {
    const byPath = new Map(tags.map((t) => [t.path, t]));
    for (const name of ['bagit.txt', 'bag-info.txt']) yield { path: `${root}/${name}`, size: byPath.get(name)!.content.length, mtime: now, body: byPath.get(name)!.content };
    yield { path: `${root}/data/mets.xml`, size: mets.length, mtime: now, body: mets };
    for (const it of items) {
      yield { path: `${root}/${it.path}`, size: it.size, mtime: it.created ?? now, body: it.body ?? (() => Promise.resolve(checkedStream(deps, it.storeKey!, it.sha256, run.signal))) };
    }
    for (const name of ['manifest-sha256.txt', 'tagmanifest-sha256.txt']) yield { path: `${root}/${name}`, size: byPath.get(name)!.content.length, mtime: now, body: byPath.get(name)!.content };
  };
  const put = await deps.store.putContentAddressed('packages', Readable.from(tarStream(entries())), { contentType: 'application/x-tar' });
  return { put, payloadFiles: payload.length };
}

/**
 * Records the PDF and the package as the book's next generation and supersedes the previous one,
 * with their PREMIS creation events (the package's names its basis), and sweeps what other runs of
 * the basis left. Undefined when another run recorded the same basis first.
 */
async function recordPackage(
  deps: Deps, run: PackageRun, built: { pdf: PutResult; tar: PutResult; payloadFiles: number; started: number },
): Promise<{ generation: number; pdf: StoredObject; package: StoredObject } | undefined> {
  const { bookId, basis } = run;
  const { pdf, tar } = built;
  return deps.db.transaction(async (tx) => {
    await lockBook(tx, bookId);
    // Another run may have finished the same basis while this one was streaming.
    if (await currentPackageHasBasis(tx, bookId, basis)) {
      await sweepPackageParts(deps, tx, run);
      return undefined;
    }
    // A page replaced or corrected, or a keyed entry verified or linked, while this one was
    // streaming: this package is already out of date, and must not become current over a newer
    // one. The retry builds the book as it is now.
    if ((await currentBasis(tx, bookId)) !== basis) throw new StalePackageError(bookId);
    const generation = await nextPackageGeneration(tx, bookId);
    await supersedeCurrentPackage(tx, bookId);
    const { object: pdfObj } = await recordObject(tx, { bookId, role: 'pdf', variant: PDF_VARIANT, revision: generation }, pdf, 'application/pdf');
    const { object: pkgObj } = await recordObject(tx, { bookId, role: 'package', variant: PACKAGE_VARIANT, revision: generation }, tar, 'application/x-tar');
    await recordEvent(tx, { bookId, objectId: pdfObj.id, type: 'creation', agent: AGENT, outcome: 'success', detail: `PDF/A-2b of ${run.pages.length} pages, ${pdf.size} bytes, sha256 ${pdf.sha256}` });
    await recordEvent(tx, {
      bookId, objectId: pkgObj.id, type: 'creation', agent: AGENT, outcome: 'success', durationMs: Date.now() - built.started,
      detail: `package basis ${basis}; generation ${generation}; BagIt tar of ${built.payloadFiles} payload files, ${tar.size} bytes, sha256 ${tar.sha256}`,
    });
    await sweepPackageParts(deps, tx, run);
    return { generation, pdf: pdfObj, package: pkgObj };
  });
}

/**
 * Once a basis's package is recorded: removes from the store what runs of the basis stored under
 * keys no row names. A re-run writes the same bytes (packageDate), so this finds nothing unless a
 * run differed anyway; then its PDF or bag would stay in the store, unrecorded, for good. Runs of
 * the basis still streaming store the recorded bytes or skip, so none of them needs what is removed.
 * Parts of other bases stay: one of them may yet be recorded. Called holding the book row, which
 * every recording takes first.
 */
async function sweepPackageParts(deps: Deps, tx: Queryable, run: PackageRun): Promise<void> {
  const done: string[] = [];
  for (const part of await packageParts(tx, run.bookId, run.basis)) {
    if (!part.recorded) {
      try {
        await deps.store.delete(part.storeKey);
        deps.log.warn({ bookId: run.bookId, basis: run.basis, key: part.storeKey }, 'removed a package part an interrupted run stored with other bytes');
      } catch (e) {
        // Left noted: the object is not lost track of, though no row names it.
        deps.log.warn({ err: e, bookId: run.bookId, key: part.storeKey }, 'could not remove an unrecorded package part');
        continue;
      }
    }
    done.push(part.storeKey);
  }
  await forgetPackageParts(tx, run.bookId, run.basis, done);
}

/** The book changed while its package was being built; retried (not permanent), the job builds it again. */
class StalePackageError extends Error {
  constructor(bookId: string) {
    super(`book ${bookId} changed while its package was built; building it again`);
  }
}

/** A page's text as ALTO and the PDF carry it, with the OCR object it was read from. */
interface PageText {
  ocr: ArchivedOcr;
  ocrObject: StoredObject;
  /** How many of its words clerks corrected. */
  corrected: number;
}

/**
 * A page's text for ALTO and the PDF: its current archived OCR reading with the corrections of
 * its current text revision laid over. Read in one transaction holding the page row, so a
 * correction or re-OCR cannot land between the reading and the words (both take the row FOR
 * UPDATE). The reading itself is content-addressed and checked against its SHA-256.
 */
async function pageText(deps: Deps, p: Page): Promise<PageText | undefined> {
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
  const now = await lockPageRevisions(tx, p.id);
  if (!now || now.revision !== p.revision || now.textRevision !== p.textRevision) throw new StalePackageError(p.bookId);
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

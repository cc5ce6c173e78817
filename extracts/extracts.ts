import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { SignPdf } from '@signpdf/signpdf';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { AppError } from '../common/index.ts';
import type { ExtractStatus, ExtractType } from '../common/vocabulary.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Queryable } from '../db/index.ts';
import { contentKey, readObject } from '../storage/index.ts';
import { findObject, findPageObjects, getBook, getPage, recordObject } from '../archive/index.ts';
import { bookClosure, delegationDetail, type AuthUser } from '../auth/index.ts';
import { appendInTransaction } from '../audit/index.ts';
import { emitArchiveEvent } from '../events/index.ts';
import { requireEntry, type Entry } from '../entries/index.ts';
import { linksOfItem } from '../records/index.ts';
import { getItemRetention, lockUntilFor, toIsoDate } from '../retention/index.ts';
import { renderExtract, type ExtractContent } from './render.ts';
import { newSerial, normaliseSerial } from './serial.ts';
import { verifyPdfSignature, type ExtractSigner, type PdfSignatureCheck } from './signing.ts';
import { discardUpload, EXTRACTS_PREFIX, sweepAbandonedUploads } from './uploads.ts';
import {
  extractBySha256, findExtracts, getExtract, insertExtract, markRevoked, markSuperseded, noteUpload, serialTaken, takeUpload, type ExtractQuery, type ExtractRow,
} from './extracts.store.ts';

/** What issuing needs: the ports, the configuration (office, public URL) and the signer opened at start. */
export type ExtractDeps = Pick<AppDeps, 'db' | 'store' | 'config' | 'log'> & { signer: ExtractSigner };

/** Who acts, from where, and how they state a purpose (for the closure refusal's wording). */
export interface ExtractActor {
  user: AuthUser;
  /** Client address, or `cli`. */
  from?: string | undefined;
  /** Where the purpose goes, named in the refusal of a closed book (API: body field or header; CLI: --purpose). */
  purposeGoes?: string | undefined;
}

/** Longest request reference and revocation reason accepted. */
export const MAX_REFERENCE_LENGTH = 200;
export const MAX_REASON_LENGTH = 1000;
/** Width, in pixels, the crop of the entry is reduced to at most (about 190 dpi across the A4 page). */
export const CROP_MAX_WIDTH = 1400;
/** Bytes reserved for the CMS signature (hex doubles it): the chain of a national CA and a timestamp fit. */
const SIGNATURE_BYTES = 16384;

function cleanText(v: string | undefined, field: string, max: number, required: boolean): string | undefined {
  // eslint-disable-next-line no-control-regex
  const s = v?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (!s) {
    if (required) throw new AppError('ERR_VALIDATION', `${field} is required`, { field });
    return undefined;
  }
  if (s.length > max) throw new AppError('ERR_VALIDATION', `${field} is at most ${max} characters`, { field });
  return s;
}

/** The verification address printed on an extract and in its QR code. */
export function verifyUrl(publicBaseUrl: string, serial: string): string {
  return `${publicBaseUrl}/verify/${serial}`;
}

/** The crop of the entry from its page's master, as a baseline JPEG within the page's bounds. */
async function entryCrop(deps: Pick<AppDeps, 'db' | 'store' | 'config'>, entry: Entry): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const page = await getPage(deps.db, entry.pageId);
  if (!page) throw new AppError('ERR_PAGE_NOT_FOUND', `no page ${entry.pageId}`);
  const master = (await findPageObjects(deps.db, { bookId: page.bookId, pageId: page.id, revision: page.revision })).get('master');
  if (!master) throw new AppError('ERR_CONFLICT', `page ${page.sequence} has no master image yet: an extract shows the entry as it stands in the book`);
  const bytes = await readObject(deps.store, master.storeKey, { expectedSha256: master.sha256 });
  const img = () => sharp(bytes, { limitInputPixels: deps.config.ingest.maxPixels, failOn: 'error' });
  const meta = await img().metadata();
  const W = meta.width ?? 0;
  const H = meta.height ?? 0;
  const x0 = Math.max(0, Math.min(entry.box.x0, W - 1));
  const y0 = Math.max(0, Math.min(entry.box.y0, H - 1));
  const x1 = Math.max(x0 + 1, Math.min(entry.box.x1, W));
  const y1 = Math.max(y0 + 1, Math.min(entry.box.y1, H));
  const { data, info } = await img()
    .extract({ left: x0, top: y0, width: x1 - x0, height: y1 - y0 })
    .resize({ width: CROP_MAX_WIDTH, withoutEnlargement: true })
    .toColourspace('srgb')
    .jpeg({ quality: 85, progressive: false, mozjpeg: false })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height };
}

/** The registry record an entry is linked to (its original-entry link first), if any. */
async function linkedRecord(db: Queryable, entryId: string): Promise<ExtractContent['record']> {
  const links = await linksOfItem(db, { kind: 'entry', entryId });
  const link = links.find((l) => l.linkType === 'original-entry') ?? links[0];
  return link ? { id: link.record.id, system: link.record.system, recordType: link.record.recordType, recordId: link.record.recordId } : null;
}

/** Input of `issueExtract`. */
export interface IssueInput {
  entryId: string;
  /** The citizen's or office's request the extract answers (e.g. a case number). */
  requestReference: string;
  /** Why a closed book is read; required when the entry's book is under closure. */
  purpose?: string | undefined;
}

/**
 * Issues a signed extract of a verified entry: applies the book's closure as reads do (a closed
 * book needs the purpose and a role that may read it; the issue is then audited as restricted,
 * with the purpose), renders the PDF/A-3B with the entry's fields, crop, linked registry record,
 * book reference, office, official, serial and QR code, signs it (PAdES B-B), notes the upload,
 * stores it content-addressed under its book's Object Lock retention where the store has it and
 * reads it back, then writes in one transaction the register row, the PDF's stored object row (one
 * of the book's archive objects), the audit event and the outbox event. A PDF whose transaction
 * fails is removed again (or, when the process died, by a later issue's sweep).
 */
export async function issueExtract(deps: ExtractDeps, input: IssueInput, by: ExtractActor, opts: { supersedes?: string } = {}): Promise<ExtractRow> {
  const requestReference = cleanText(input.requestReference, 'requestReference', MAX_REFERENCE_LENGTH, true)!;
  const purpose = cleanText(input.purpose, 'purpose', 500, false);
  const entry = await requireEntry(deps.db, input.entryId);
  const closure = await bookClosure(deps.db, by.user, entry.bookId, purpose, by.purposeGoes);
  if (closure.refused) throw closure.refused;
  if (entry.status !== 'verified') {
    throw new AppError('ERR_CONFLICT', `entry ${entry.id} is ${entry.status}: only entries verified by staff (checked OCR, or keyed twice and agreed) are extracted`);
  }
  const book = await getBook(deps.db, entry.bookId);
  if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${entry.bookId}`);
  const [crop, record] = await Promise.all([entryCrop(deps, entry), linkedRecord(deps.db, entry.id)]);
  // What an earlier issue left in the store when its process died between upload and register.
  await sweepAbandonedUploads(deps).catch((e: unknown) => deps.log.warn({ err: e }, 'could not sweep the PDFs of extracts never issued'));

  // Whole seconds: what the PDF's dates hold, so the register and the document agree exactly.
  const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  let serial = newSerial(issuedAt);
  for (let i = 0; await serialTaken(deps.db, serial); i++) {
    if (i >= 5) throw new AppError('ERR_INTERNAL', 'could not draw an unused serial');
    serial = newSerial(issuedAt);
  }
  const { issuingOffice, publicBaseUrl } = deps.config.extracts;
  const type: ExtractType = entry.eventType;
  const content: ExtractContent = {
    serial, type, issuedAt, issuingOffice, issuedBy: by.user.username, requestReference, verifyUrl: verifyUrl(publicBaseUrl, serial),
    book: { id: book.id, registerType: book.registerType, municipality: book.municipality, yearFrom: book.yearFrom, yearTo: book.yearTo, volume: book.volume ?? null },
    page: entry.pageSequence,
    entry: {
      id: entry.id, entryNumber: entry.entryNumber, eventDate: entry.eventDate, place: entry.place, names: entry.names,
      marginalNotes: entry.marginalNotes, source: entry.source, verifiedBy: entry.verifiedBy,
    },
    record, supersedes: opts.supersedes ?? null, signer: deps.signer.identity.subject,
  };
  const pdf = await signedPdf(deps.signer, content, crop);
  const sha256 = createHash('sha256').update(pdf).digest('hex');

  // Noted before the upload: if the register transaction below fails or the process dies, the
  // note is how the PDF that no row names is found and removed (uploads.ts).
  const storeKey = contentKey(EXTRACTS_PREFIX, sha256);
  await noteUpload(deps.db, { storeKey, sha256, serial, bookId: book.id });
  let registered = false;
  try {
    // Locked from its first byte under its book's retention, like the archive's other objects
    // (the lock sync extends it from then on: it is one of the book's stored objects).
    const retainUntil = lockUntilFor(await getItemRetention(deps.db, book.id), toIsoDate(issuedAt));
    const put = await deps.store.putContentAddressed(EXTRACTS_PREFIX, pdf, {
      contentType: 'application/pdf', ...(retainUntil && deps.store.capabilities().objectLock ? { retention: { mode: 'GOVERNANCE' as const, retainUntil } } : {}),
    });
    if (put.key !== storeKey) throw new Error(`the store put the extract under ${put.key}, not ${storeKey}`);
    await readObject(deps.store, put.key, { expectedSha256: sha256, ...(put.versionId ? { versionId: put.versionId } : {}) });

    await deps.db.transaction(async (tx) => {
      if (!(await takeUpload(tx, storeKey))) throw new AppError('ERR_CONFLICT', `storing extract ${serial} took so long that its PDF was taken for abandoned and removed: issue it again`);
      await insertExtract(tx, {
        serial, type, entryId: entry.id, recordId: record?.id ?? null, bookId: book.id, requestReference, purpose: closure.closed ? purpose ?? null : null,
        restricted: closure.closed, issuingOffice, issuedBy: by.user.username, issuedAt, pdfSha256: sha256, pdfKey: put.key, pdfVersionId: put.versionId ?? null,
        pdfSize: pdf.length, signerSubject: deps.signer.identity.subject, supersedes: opts.supersedes ?? null,
      });
      // One of the book's archive objects: fixity re-reads it, the lock sync keeps it, the fault checks count it.
      await recordObject(tx, { bookId: book.id, role: 'extract', variant: serial }, put, 'application/pdf');
      if (opts.supersedes) {
        const old = await getExtract(tx, opts.supersedes, { lock: true });
        if (!old) throw new AppError('ERR_NOT_FOUND', `no extract ${opts.supersedes}`);
        if (!(await markSuperseded(tx, opts.supersedes, serial))) throw new AppError('ERR_CONFLICT', `extract ${opts.supersedes} is ${old.status}: only a valid extract is re-issued`);
      }
      await appendInTransaction(tx, {
        actorId: by.user.id, actor: by.user.username, action: opts.supersedes ? 'extract.reissue' : 'extract.issue', targetType: 'extract', targetId: serial,
        from: by.from ?? null, purpose: closure.closed ? purpose ?? null : null, outcome: 'ok',
        detail: {
          entryId: entry.id, bookId: book.id, recordId: record?.id ?? null, requestReference, sha256, signer: deps.signer.identity.subject,
          ...(opts.supersedes ? { supersedes: opts.supersedes } : {}), ...(closure.closed ? { restricted: true } : {}), ...delegationDetail(by.user),
        },
      });
      // Other systems hear of it with the register row (events/): serial and ids, never the extract's content.
      await emitArchiveEvent(tx, {
        type: 'extract.issued',
        subjects: { extractSerial: serial, entryId: entry.id, bookId: book.id, recordId: record?.id ?? null },
        data: { extractType: type, supersedes: opts.supersedes ?? null },
      });
    });
    registered = true;
  } finally {
    if (!registered) {
      // The error that got here is the one to report; a PDF that cannot be removed now stays noted for the sweep.
      await discardUpload(deps, storeKey).catch((e: unknown) => deps.log.warn({ err: e, serial, key: storeKey }, 'could not remove the PDF of an extract not issued; the next sweep will'));
    }
  }
  return (await getExtract(deps.db, serial))!;
}

/** Renders, adds the signature placeholder and signs: the bytes of the issued extract. */
async function signedPdf(signer: ExtractSigner, content: ExtractContent, crop: { jpeg: Buffer; width: number; height: number }): Promise<Buffer> {
  const doc = await renderExtract(content, crop);
  pdflibAddPlaceholder({
    pdfDoc: doc, reason: `Extract ${content.serial}`, contactInfo: content.verifyUrl, name: content.issuingOffice, location: content.issuingOffice,
    signingTime: content.issuedAt, subFilter: SUBFILTER_ETSI_CADES_DETACHED, signatureLength: SIGNATURE_BYTES, appName: 'Arkiva',
  });
  const unsigned = Buffer.from(await doc.save({ useObjectStreams: false }));
  return new SignPdf().sign(unsigned, signer.cms, content.issuedAt);
}

/** Revokes a valid extract; the reason is required and is shown by the public verification. */
export async function revokeExtract(deps: Pick<AppDeps, 'db'>, serial: string, reasonInput: string, by: ExtractActor): Promise<ExtractRow> {
  const reason = cleanText(reasonInput, 'reason', MAX_REASON_LENGTH, true)!;
  const s = requireSerial(serial);
  await deps.db.transaction(async (tx) => {
    const row = await getExtract(tx, s, { lock: true });
    if (!row) throw new AppError('ERR_NOT_FOUND', `no extract ${s}`);
    if (!(await markRevoked(tx, s, by.user.username, reason))) throw new AppError('ERR_CONFLICT', `extract ${s} is ${row.status}: only a valid extract is revoked`);
    await appendInTransaction(tx, {
      actorId: by.user.id, actor: by.user.username, action: 'extract.revoke', targetType: 'extract', targetId: s, from: by.from ?? null, outcome: 'ok',
      detail: { reason, entryId: row.entryId, bookId: row.bookId, sha256: row.pdfSha256, ...delegationDetail(by.user) },
    });
    // The reason is free text a clerk typed: receivers read it from the public verification, not from the event.
    await emitArchiveEvent(tx, { type: 'extract.revoked', subjects: { extractSerial: s, entryId: row.entryId, bookId: row.bookId, recordId: row.recordId }, data: { extractType: row.type } });
  });
  return (await getExtract(deps.db, s))!;
}

/**
 * Issues a new extract of the same entry (its current fields) that supersedes a valid one; the
 * old one then verifies as superseded, naming the new serial. The request reference defaults to
 * the old one's.
 */
export async function reissueExtract(deps: ExtractDeps, serial: string, input: { requestReference?: string | undefined; purpose?: string | undefined }, by: ExtractActor): Promise<ExtractRow> {
  const s = requireSerial(serial);
  const old = await getExtract(deps.db, s);
  if (!old) throw new AppError('ERR_NOT_FOUND', `no extract ${s}`);
  if (old.status !== 'valid') throw new AppError('ERR_CONFLICT', `extract ${s} is ${old.status}: only a valid extract is re-issued`);
  return issueExtract(deps, { entryId: old.entryId, requestReference: input.requestReference ?? old.requestReference, purpose: input.purpose }, by, { supersedes: s });
}

function requireSerial(input: string): string {
  const s = normaliseSerial(input);
  if (!s) throw new AppError('ERR_VALIDATION', 'a serial looks like 2026-7K3QX-M9PAD', { field: 'serial' });
  return s;
}

/** The register row of a serial, or ERR_NOT_FOUND. */
export async function requireExtract(db: Queryable, serial: string): Promise<ExtractRow> {
  const s = requireSerial(serial);
  const row = await getExtract(db, s);
  if (!row) throw new AppError('ERR_NOT_FOUND', `no extract ${s}`);
  return row;
}

/**
 * The signed PDF of an extract, for staff: its book's closure applies as to any read of the entry.
 * Returns the row too (the caller records the read).
 */
export async function extractPdf(deps: Pick<AppDeps, 'db' | 'store'>, serial: string, by: ExtractActor & { purpose?: string | undefined }): Promise<{ row: ExtractRow; pdf: Buffer; restricted: boolean }> {
  const row = await requireExtract(deps.db, serial);
  const closure = await bookClosure(deps.db, by.user, row.bookId, by.purpose, by.purposeGoes);
  if (closure.refused) throw closure.refused;
  // The stored object row, not the register's copy of the place: a fixity repair points the row at the restored version.
  const object = await findObject(deps.db, { bookId: row.bookId, role: 'extract', variant: row.serial });
  const key = object?.storeKey ?? row.pdfKey;
  const versionId = object ? object.versionId : row.pdfVersionId;
  const pdf = await readObject(deps.store, key, { expectedSha256: row.pdfSha256, ...(versionId ? { versionId } : {}) });
  return { row, pdf, restricted: closure.closed };
}

/** Filters of the register listing (see `ExtractQuery`), as callers give them. */
export type ExtractSearch = Partial<Omit<ExtractQuery, 'limit' | 'before'>> & { limit?: number; cursor?: string };

/** The register of extracts, newest first: who issued what, when, for which request, entry and record, with the hash. */
export async function listExtracts(db: Queryable, q: ExtractSearch): Promise<{ extracts: ExtractRow[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
  let before: ExtractQuery['before'];
  if (q.cursor) {
    const [t, s] = Buffer.from(q.cursor, 'base64url').toString('utf8').split('|');
    const at = new Date(t ?? '');
    if (Number.isNaN(at.getTime()) || !s || !normaliseSerial(s)) throw new AppError('ERR_VALIDATION', 'cursor is not one this listing gave', { field: 'cursor' });
    before = { issuedAt: at, serial: s };
  }
  const serial = q.serial ? requireSerial(q.serial) : undefined;
  const rows = await findExtracts(db, { ...q, ...(serial ? { serial } : {}), limit: limit + 1, ...(before ? { before } : {}) });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    extracts: page,
    nextCursor: rows.length > limit && last ? Buffer.from(`${last.issuedAt.toISOString()}|${last.serial}`).toString('base64url') : null,
  };
}

/** What anyone may learn of a serial: no personal data, only what the holder's document already says. */
export interface PublicVerification {
  serial: string;
  issued: boolean;
  issuedAt?: string;
  type?: ExtractType;
  issuingOffice?: string;
  status?: ExtractStatus;
  revokedAt?: string | null;
  revokeReason?: string | null;
  supersededBy?: string | null;
  sha256?: string;
}

function publicFacts(row: ExtractRow): PublicVerification {
  return {
    serial: row.serial, issued: true, issuedAt: row.issuedAt.toISOString(), type: row.type, issuingOffice: row.issuingOffice, status: row.status,
    revokedAt: row.revokedAt?.toISOString() ?? null, revokeReason: row.revokeReason, supersededBy: row.supersededBy, sha256: row.pdfSha256,
  };
}

/** The public verification of a serial (typed by a person: case and O/0, I/L/1 forgiven). */
export async function verifyBySerial(db: Queryable, serialInput: string): Promise<PublicVerification> {
  const s = normaliseSerial(serialInput);
  if (!s) return { serial: serialInput.slice(0, 40), issued: false };
  const row = await getExtract(db, s);
  return row ? publicFacts(row) : { serial: s, issued: false };
}

/** What `verifyPdf` says of a PDF someone holds. */
export interface PdfVerification {
  /** True when the file is byte for byte an issued extract and its signature verifies over the whole file. */
  authentic: boolean;
  sha256: string;
  /** The issued extract with this SHA-256, if any (public facts only). */
  extract: PublicVerification | null;
  signature: Pick<PdfSignatureCheck, 'signed' | 'intact' | 'coversWholeFile' | 'subFilter' | 'signerSubject'>;
}

/** Checks a PDF: is it an issued extract (SHA-256 in the register), unaltered (signature intact over the whole file)? */
export async function verifyPdf(db: Queryable, pdf: Buffer): Promise<PdfVerification> {
  if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new AppError('ERR_BAD_INPUT_FILE', 'not a PDF file');
  const sha256 = createHash('sha256').update(pdf).digest('hex');
  const [row, sig] = await Promise.all([extractBySha256(db, sha256), verifyPdfSignature(pdf)]);
  return {
    authentic: row !== undefined && sig.intact && sig.coversWholeFile,
    sha256,
    extract: row ? publicFacts(row) : null,
    signature: { signed: sig.signed, intact: sig.intact, coversWholeFile: sig.coversWholeFile, subFilter: sig.subFilter, signerSubject: sig.signerSubject },
  };
}

/**
 * Keyed entries in the package (issue 20, point 6): verified keyed entries land in the bag as one
 * JSON file each and one CSV, listed in the manifest and referenced from METS; the same entries
 * make the same bag; a book without verified keyed entries packages exactly as before. On embedded
 * PGlite and the filesystem store, like workers/stages/package-book.test.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { loadConfig } from '../config/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import {
  completeBook, createBook, listPages, markPageDone, recordEvent, recordObject, setPageImageInfo, setPageOcr, upsertPage,
} from '../archive/index.ts';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import type { ObjectStore } from '../storage/index.ts';
import { decideZone, proposeZones, submitKeying, type KeyedFields } from '../keying/index.ts';
import { createLink, importRecords } from '../records/index.ts';
import { parseCsv } from '../records/csv.ts';
import { exportPackage, verifyBagDir } from './index.ts';
import { haveXmllint, PROFILE_SCHEMAS, xmllintSchema } from '../test-support/xml-schema.ts';
import { enqueueRepackageWhenKeyed, packageBasis, packageBook } from './package-book.ts';

/** The store, except that the run dies right after its bag is stored, before anything is recorded. */
function dyingAfterTheBag(store: ObjectStore): ObjectStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'putContentAddressed') {
        return async (prefix: string, body: Readable | Buffer, opts?: Parameters<ObjectStore['putContentAddressed']>[2]) => {
          const put = await target.putContentAddressed(prefix, body, opts);
          if (prefix === 'packages') throw new Error(`worker killed after storing ${put.key}`);
          return put;
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const birth = (over: Record<string, string> = {}): KeyedFields => {
  const v: Record<string, string> = {
    entryNumber: '17', dateOfBirth: '12.03.1958', firstName: 'Arbën', surname: 'Çitaku', sex: 'M', fatherName: 'Gëzim', mother: 'Drita Hoxha', placeOfBirth: 'Pejë', ...over,
  };
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { value: x }]));
};

describe('keyed entries in the book package', () => {
  let dir: string;
  let deps: AppDeps & { close(): Promise<void> };

  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-package-keyed-'));
    deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: path.join(dir, 'data') }), silentLogger());
  });

  afterEach(async () => {
    await deps?.close();
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  /** A finished book of two pages, each with a master and an OCR reading, as the page stages leave it. */
  async function finishedBook(): Promise<{ bookId: string; pageIds: string[] }> {
    const { book } = await createBook(deps.db, {
      registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
    });
    const pageIds: string[] = [];
    for (const sequence of [1, 2]) {
      const page = await upsertPage(deps.db, book.id, sequence);
      const master = await sharp({ create: { width: 240, height: 160, channels: 3, background: { r: 230 + sequence, g: 230, b: 230 } } }).png().toBuffer();
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master', revision: 1 }, await deps.store.putContentAddressed('masters', master, { contentType: 'image/png' }), 'image/png');
      await setPageImageInfo(deps.db, page.id, { width: 240, height: 160, dpiX: 300, dpiY: 300, orientation: 0 });
      const ocr: ArchivedOcr = {
        engine: 'test', languages: ['sqi'], width: 240, height: 160, meanConfidence: 90, text: `Emri ${sequence}`,
        words: [{ text: 'Emri', confidence: 90, bbox: { x0: 10, y0: 10, x1: 60, y1: 30 }, line: 0, block: 0 }],
        lines: [{ text: 'Emri', confidence: 90, bbox: { x0: 10, y0: 10, x1: 60, y1: 30 }, block: 0 }],
      };
      const ocrPut = await deps.store.putContentAddressed('ocr', Buffer.from(JSON.stringify(ocr)), { contentType: 'application/json' });
      await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'ocr', variant: 'ocr-json', revision: 1 }, ocrPut, 'application/json');
      await setPageOcr(deps.db, page.id, ocr.text, 90, 'test');
      await markPageDone(deps.db, page.id, 1);
      pageIds.push(page.id);
    }
    await completeBook(deps.db, book.id, 'complete', { pages: 2, done: 2, failed: 0, meanOcrConfidence: 90, failures: [], processingSeconds: 1, pagesPerMinute: 120 });
    await recordEvent(deps.db, { bookId: book.id, type: 'accession', agent: 'arkiva book.complete', outcome: 'success', detail: '2 of 2 pages archived, 0 failed' });
    return { bookId: book.id, pageIds };
  }

  async function bagFiles(bookId: string, name: string): Promise<string> {
    const out = path.join(dir, name);
    await exportPackage(deps, bookId, out);
    return out;
  }

  it('a book whose zones are not verified packages exactly as one without zones, with no keyed files', async () => {
    const { bookId, pageIds } = await finishedBook();
    const pages = await listPages(deps.db, bookId);
    expect(packageBasis(pages, undefined)).toBe(packageBasis(pages));
    const first = await packageBook(deps, bookId);
    expect(first.outcome).toBe('done');
    // Zones drawn and keyed once, none verified: nothing the package carries changed.
    const [zone] = await proposeZones(deps.db, pageIds[0]!, { source: 'drawn', zones: [{ box: { x0: 5, y0: 40, x1: 235, y1: 60 } }] }, { user: 'clerk' });
    await submitKeying(deps.db, zone!.id, 'keyer-a', birth());
    expect((await packageBook(deps, bookId)).outcome).toBe('skipped');
    // A zone still waits for its second keying: no rebuild is queued for it.
    expect(await enqueueRepackageWhenKeyed(deps, bookId)).toBe(false);
    expect(await deps.queue.liveJobs(['book.package'])).toEqual([]);
    const bag = await bagFiles(bookId, 'bag');
    expect(fs.existsSync(path.join(bag, 'data/keyed-entries'))).toBe(false);
    expect(await fs.promises.readFile(path.join(bag, 'manifest-sha256.txt'), 'utf8')).not.toContain('keyed');
  });

  it('carries each verified keyed entry as JSON and all of them as CSV, in the manifest and METS; the same entries make the same bag', async () => {
    const { bookId, pageIds } = await finishedBook();
    expect((await packageBook(deps, bookId)).generation).toBe(1);

    const [agreed, disputed] = await proposeZones(deps.db, pageIds[1]!, {
      source: 'drawn', zones: [{ box: { x0: 5, y0: 40, x1: 235, y1: 60 } }, { box: { x0: 5, y0: 62, x1: 235, y1: 82 } }],
    }, { user: 'clerk' });
    // One zone verified by agreement, with an explicit answer; one settled by an arbitrator.
    await submitKeying(deps.db, agreed!.id, 'keyer-a', { ...birth(), sex: { answer: 'illegible' } });
    const verified = await submitKeying(deps.db, agreed!.id, 'keyer-b', { ...birth(), sex: { answer: 'illegible' } });
    expect(verified.zoneStatus).toBe('verified');
    await submitKeying(deps.db, disputed!.id, 'keyer-a', birth({ entryNumber: '18', firstName: 'Besa', surname: 'Krasniqi' }));
    await submitKeying(deps.db, disputed!.id, 'keyer-b', birth({ entryNumber: '18', firstName: 'Besa', surname: 'Krasnići' }));
    // While one zone is disputed the book is not rebuilt; once it is settled, the rebuild is queued.
    expect(await enqueueRepackageWhenKeyed(deps, bookId)).toBe(false);
    const decided = await decideZone(deps.db, disputed!.id, 'arbiter', { surname: { pick: 'a' } });
    expect(await enqueueRepackageWhenKeyed(deps, bookId)).toBe(true);
    expect((await deps.queue.liveJobs(['book.package'])).length).toBe(1);
    const report = await importRecords(deps.db, [{ system: 'CRS', recordType: 'birth', recordId: 'B-1958-0017', personNames: ['Arbën Çitaku'], eventDate: '1958-03-12', municipality: 'Pejë' }], { user: 'rm' });
    expect(report.errors).toEqual([]);
    const recordId = (await deps.db.query<{ id: string }>(`SELECT id FROM registry_records WHERE record_id = 'B-1958-0017'`)).rows[0]!.id;
    const entryOfAgreed = (await deps.db.query<{ entry_id: string }>('SELECT entry_id FROM entry_zones WHERE id = $1', [agreed!.id])).rows[0]!.entry_id;
    await createLink(deps.db, { recordId, target: { kind: 'entry', entryId: entryOfAgreed }, linkType: 'original-entry' }, { user: 'clerk' });

    // A run of the new basis dies after storing its bag; the re-run writes the very same bytes.
    await expect(packageBook({ ...deps, store: dyingAfterTheBag(deps.store) }, bookId)).rejects.toThrow(/worker killed/);
    const stored: string[] = [];
    for await (const o of deps.store.list('packages/')) stored.push(o.key);
    const second = await packageBook(deps, bookId);
    expect(second.generation).toBe(2);
    expect(stored).toContain(second.package!.storeKey);
    expect((await packageBook(deps, bookId)).outcome).toBe('skipped');

    const bag = await bagFiles(bookId, 'bag2');
    expect((await verifyBagDir(bag)).problems).toEqual([]);
    const one = JSON.parse(await fs.promises.readFile(path.join(bag, 'data/keyed-entries/0002', `${entryOfAgreed}.json`), 'utf8')) as Record<string, unknown>;
    expect(one).toMatchObject({
      format: 'arkiva-keyed-entry-1', bookId, entryId: entryOfAgreed, zoneId: agreed!.id, page: 2, box: { x0: 5, y0: 40, x1: 235, y1: 60 },
      layout: { key: 'birth-default', version: 1 }, verified: { by: 'keyer-b' },
      links: [{ linkType: 'original-entry', system: 'CRS', recordType: 'birth', recordId: 'B-1958-0017' }],
    });
    const fields = one.fields as { column: string; field: string; value?: string; answer?: string }[];
    expect(fields.map((f) => f.column)).toEqual(['entryNumber', 'dateOfBirth', 'firstName', 'surname', 'sex', 'fatherName', 'mother', 'placeOfBirth']);
    expect(fields.find((f) => f.column === 'sex')).toEqual({ column: 'sex', field: 'sex', answer: 'illegible' });
    expect(fields.find((f) => f.column === 'surname')).toEqual({ column: 'surname', field: 'surname', value: 'Çitaku' });
    const other = JSON.parse(await fs.promises.readFile(path.join(bag, 'data/keyed-entries/0002', `${decided.entryId}.json`), 'utf8')) as { verified: { by: string }; links: unknown[]; fields: { column: string; value?: string }[] };
    expect(other.verified.by).toBe('arbiter');
    expect(other.links).toEqual([]);
    expect(other.fields.find((f) => f.column === 'surname')?.value).toBe('Krasniqi');

    const csv = parseCsv(await fs.promises.readFile(path.join(bag, 'data/keyed-entries/keyed-entries.csv'), 'utf8'));
    expect(csv[0]!.slice(0, 3)).toEqual(['page', 'entry_id', 'zone_id']);
    expect(csv.slice(1).map((r) => r[csv[0]!.indexOf('surname')])).toEqual(['Çitaku', 'Krasniqi']);
    expect(csv[1]![csv[0]!.indexOf('sex')]).toBe('[illegible]');
    expect(csv[1]![csv[0]!.indexOf('linked_records')]).toBe('CRS/birth/B-1958-0017 (original-entry)');

    const manifest = await fs.promises.readFile(path.join(bag, 'manifest-sha256.txt'), 'utf8');
    expect(manifest).toContain(`data/keyed-entries/0002/${entryOfAgreed}.json`);
    expect(manifest).toContain('data/keyed-entries/keyed-entries.csv');
    const mets = await fs.promises.readFile(path.join(bag, 'data/mets.xml'), 'utf8');
    expect(mets).toContain('<mets:fileGrp USE="keyed-entry">');
    expect(mets).toContain(`xlink:href="keyed-entries/0002/${entryOfAgreed}.json"`);
    // The entry's file hangs from its page in the structMap.
    const page2 = mets.slice(mets.indexOf('<mets:div ID="PAGE_2"'), mets.indexOf('</mets:div>', mets.indexOf('<mets:div ID="PAGE_2"')));
    const fileId = new RegExp(`<mets:file ID="(FILE_\\d+)"[^>]*>\\s*<mets:FLocat[^>]*keyed-entries/0002/${entryOfAgreed}\\.json`).exec(mets)?.[1];
    expect(fileId).toBeDefined();
    expect(page2).toContain(`FILEID="${fileId}"`);
    if (haveXmllint()) expect(xmllintSchema(PROFILE_SCHEMAS.mets, path.join(bag, 'data/mets.xml')).out).toContain('validates');

    // Unlinking changes what the entry's file says: a new basis, a new package.
    await deps.db.query('UPDATE record_links SET unlinked_by = $1, unlinked_at = now() WHERE entry_id = $2', ['clerk', entryOfAgreed]);
    expect((await packageBook(deps, bookId)).generation).toBe(3);
  });
});

/**
 * A clerk's correction reaches the archival package on real services: the correction route queues
 * a rebuild, the new ALTO and the PDF's text layer carry the corrected word, and everything the
 * earlier package was built from stays in the store as its rows record it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, type FixtureFiles } from '../fixtures/index.ts';
import { ingestBook } from '../ingest/index.ts';
import { createBook, getBook, getPageBySequence, listEvents } from '../archive/index.ts';
import { buildApp } from '../api/index.ts';
import { userHeaders } from '../api/test-kit.ts';
import type { AppDeps } from '../app/deps.ts';
import { pageWordsForReview } from '../review/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { startWorkers } from '../workers/index.ts';
import { altoVariant, enqueueRepackage, listPackages, ALTO_VARIANT, type PackageVersion } from './package-book.ts';
import { verifyStoredPackage } from './export.ts';
import { PROFILE_SCHEMAS, xmllintSchema } from '../test-support/xml-schema.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

// A word nothing on a register page reads as; with ë, so the PDF's Unicode mapping is exercised too.
const CORRECTED = 'Korrigjuarë';

async function waitForGeneration(deps: AppDeps, bookId: string, generation: number, timeoutMs: number): Promise<PackageVersion[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const all = await listPackages(deps.db, bookId);
    if (all.some((p) => p.current && p.generation === generation)) return all;
    if (Date.now() > until) throw new Error(`no package generation ${generation} after ${timeoutMs} ms (book ${(await getBook(deps.db, bookId))?.status})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface ObjectRow { id: string; variant: string; store_key: string; sha256: string; superseded_at: Date | null }

async function altoRows(deps: AppDeps, pageId: string): Promise<ObjectRow[]> {
  return (await deps.db.query<ObjectRow>(`SELECT id, variant, store_key, sha256, superseded_at FROM stored_objects WHERE page_id = $1 AND role = 'alto' ORDER BY created_at`, [pageId])).rows;
}

async function storedBytes(deps: AppDeps, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await deps.store.get(key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const contents = (alto: string) => [...alto.matchAll(/CONTENT="([^"]*)"/g)].map((m) => m[1]!);

describe.skipIf(!ready)('corrections in the archival package (PostgreSQL + BullMQ/Redis + S3)', () => {
  let dir: string;
  let files: FixtureFiles;
  let env: Awaited<ReturnType<typeof openRealDeps>>;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-corrections-'));
    files = await generateFixtureFiles({ outDir: path.join(dir, 'in'), pages: 2, seed: 43, formats: ['tiff'], scale: 0.4, style: 'printed' });
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '2' }));
  });

  afterAll(async () => {
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('a correction rebuilds ALTO and the PDF with the corrected word; the earlier package, PDF and ALTO stay as recorded', async () => {
    const { deps } = env;
    const workers = await startWorkers(deps);
    const app = await buildApp(deps, { logRequests: false });
    try {
      const t = files.truth.book;
      const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: t.municipality, yearFrom: t.yearFrom, yearTo: t.yearTo, languages: 'sqi' });
      const gen1 = (await waitForGeneration(deps, book.id, 1, 120_000)).find((p) => p.generation === 1)!;
      const page1 = (await getPageBySequence(deps.db, book.id, 1))!;
      const page2 = (await getPageBySequence(deps.db, book.id, 2))!;
      const [alto1Before] = await altoRows(deps, page1.id);
      const [alto2Before] = await altoRows(deps, page2.id);
      expect(alto1Before!.variant).toBe(ALTO_VARIANT);
      const oldAlto = (await storedBytes(deps, alto1Before!.store_key)).toString('utf8');

      // A word read once on page 1 (letters only, so it stands as it is in the XML and the PDF text).
      const review = await pageWordsForReview(deps.db, page1.id);
      const counts = new Map<string, number>();
      for (const w of review.words) counts.set(w.text, (counts.get(w.text) ?? 0) + 1);
      const word = review.words.find((w) => /^\p{L}{4,}$/u.test(w.text) && counts.get(w.text) === 1)!;
      expect(word, 'a word read once on page 1').toBeDefined();
      expect(contents(oldAlto)).not.toContain(CORRECTED);
      const old = word.text;
      expect(contents(oldAlto).filter((c) => c === old)).toHaveLength(1);

      // The clerk corrects it through the API; the route queues the package's rebuild.
      // The register is closed under the default schedule (issue 18): the clerk states why she corrects it.
      const clerk = { ...(await userHeaders(deps.db, ['clerk'])), 'x-access-purpose': 'OCR correction of page 1' };
      const res = await app.inject({ method: 'POST', url: `/books/${book.id}/pages/1/corrections`, headers: clerk, payload: { textRevision: 0, corrections: [{ wordIndex: word.wordIndex, text: CORRECTED }] } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().textRevision).toBe(1);

      const all = await waitForGeneration(deps, book.id, 2, 120_000);
      expect(all.map((p) => [p.generation, p.current])).toEqual([[2, true], [1, false]]);
      const gen2 = all[0]!;

      // Page 1: a new ALTO for text revision 1 with the corrected word, the earlier one superseded, not changed.
      const rows1 = await altoRows(deps, page1.id);
      expect(rows1.map((r) => [r.variant, r.superseded_at !== null])).toEqual([[ALTO_VARIANT, true], [altoVariant(1), false]]);
      expect(rows1[0]!.id).toBe(alto1Before!.id);
      const newAlto = (await storedBytes(deps, rows1[1]!.store_key)).toString('utf8');
      expect(contents(newAlto)).toContain(CORRECTED);
      expect(contents(newAlto)).not.toContain(old);
      expect(newAlto).toContain(`CONTENT="${CORRECTED}" WC="1"`);
      expect(newAlto).toContain('up to text revision 1');
      // Only that word changed.
      expect(contents(newAlto).length).toBe(contents(oldAlto).length);
      expect(contents(newAlto).filter((c, i) => c !== contents(oldAlto)[i])).toEqual([CORRECTED]);
      const altoFile = path.join(dir, 'alto-t1.xml');
      await fs.promises.writeFile(altoFile, newAlto);
      const valid = xmllintSchema(PROFILE_SCHEMAS.alto, altoFile);
      expect(valid.status, valid.out).toBe(0);
      // Page 2 was not corrected: its ALTO is the same object, still current.
      expect((await altoRows(deps, page2.id)).map((r) => [r.id, r.superseded_at])).toEqual([[alto2Before!.id, null]]);

      // The PREMIS event of the new ALTO names the text revision and counts, never the words.
      const events = await listEvents(deps.db, book.id, { pageId: page1.id });
      const created = events.filter((e) => e.objectId === rows1[1]!.id);
      expect(created.map((e) => [e.type, e.detail?.replace(/sha256 [0-9a-f]{64}/, 'sha256 …')])).toEqual([
        ['creation', "ALTO 4 from OCR with clerks' corrections up to text revision 1 (1 word(s) corrected), sha256 …"],
      ]);
      expect(events.some((e) => e.detail?.includes(CORRECTED) || e.detail?.includes(old))).toBe(false);

      // The new PDF reads the corrected word on page 1, not the OCR's; the old PDF still reads the OCR's.
      const pdfText = async (key: string) => {
        const f = path.join(dir, `${randomBytes(4).toString('hex')}.pdf`);
        await fs.promises.writeFile(f, await storedBytes(deps, key));
        return spawnSync('pdftotext', ['-f', '1', '-l', '1', '-enc', 'UTF-8', f, '-'], { encoding: 'utf8' }).stdout.split(/\s+/);
      };
      const newWords = await pdfText(gen2.pdf!.storeKey);
      expect(newWords).toContain(CORRECTED);
      expect(newWords).not.toContain(old);
      const oldWords = await pdfText(gen1.pdf!.storeKey);
      expect(oldWords).toContain(old);
      expect(oldWords).not.toContain(CORRECTED);

      // Nothing archived is lost: the first package, its PDF and the first ALTO are in the store
      // with the bytes their rows record.
      for (const o of [gen1.object, gen1.pdf!, { storeKey: alto1Before!.store_key, sha256: alto1Before!.sha256 }]) {
        expect(sha(await storedBytes(deps, o.storeKey))).toBe(o.sha256);
      }
      expect((await verifyStoredPackage(deps, book.id, { generation: 1 })).valid).toBe(true);
      const now = await verifyStoredPackage(deps, book.id);
      expect(now.valid).toBe(true);
      expect(now.package.sha256).toBe(gen2.object.sha256);
    } finally {
      await app.close();
      await workers.close({ timeoutMs: 20_000 });
    }
  }, 300_000);

  it('does not package a book just because it was corrected when it is not packaged at all', async () => {
    const { deps } = env;
    const { book } = await createBook(deps.db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
    expect(await enqueueRepackage(deps, book.id)).toBe(false);
    expect((await deps.queue.liveJobs(['book.package'])).filter((j) => (j.data as { bookId: string }).bookId === book.id)).toEqual([]);
  });
});

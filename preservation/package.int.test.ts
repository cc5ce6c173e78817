/**
 * The preservation package end to end on real services: a finished book gets its BagIt package,
 * exported bags verify, and replacing a page builds a new package while the old one stays.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtureFiles, type FixtureFiles } from '../fixtures/index.ts';
import { ingestBook, replacePage } from '../ingest/index.ts';
import { findObject, getBook, getPageBySequence } from '../archive/index.ts';
import { readObject } from '../storage/index.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { startWorkers } from '../workers/index.ts';
import { buildApp } from '../api/index.ts';
import { userHeaders } from '../api/test-kit.ts';
import type { AppDeps } from '../app/deps.ts';
import { exportPackage, listPackages, verifyBagDir, verifyStoredPackage, type PackageVersion } from './index.ts';
import { spawnSync } from 'node:child_process';
import { surnameRecall } from '../fixtures/index.ts';
import { checkPdfA } from '../test-support/pdfa-check.ts';
import { PROFILE_SCHEMAS, xmllintSchema } from '../test-support/xml-schema.ts';

const ready = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

async function waitForGeneration(deps: AppDeps, bookId: string, generation: number, timeoutMs: number): Promise<PackageVersion[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const all = await listPackages(deps.db, bookId);
    if (all.some((p) => p.current && p.generation === generation)) return all;
    if (Date.now() > until) {
      const b = await getBook(deps.db, bookId);
      throw new Error(`no package generation ${generation} after ${timeoutMs} ms (book ${b?.status})`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe.skipIf(!ready)('book package on PostgreSQL + BullMQ/Redis + S3 (RGW)', () => {
  let dir: string;
  let files: FixtureFiles;
  let env: Awaited<ReturnType<typeof openRealDeps>>;

  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-package-'));
    files = await generateFixtureFiles({ outDir: path.join(dir, 'in'), pages: 3, seed: 41, formats: ['tiff'], scale: 0.4, style: 'printed' });
    env = await openRealDeps(realServicesEnv({ OCR_POOL_SIZE: '2', BAG_SOURCE_ORGANIZATION: 'Civil Registry Agency, Test Office', BAG_CONTACT_EMAIL: 'archive@example.org' }));
  });

  afterAll(async () => {
    await env?.cleanup();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it('builds, stores, exports and verifies the package; a replaced page rebuilds it and the old one stays', async () => {
    const { deps } = env;
    const workers = await startWorkers(deps);
    try {
      const t = files.truth.book;
      const { book } = await ingestBook(deps, { kind: 'file', path: files.tiff!.path }, { registerType: 'birth', municipality: t.municipality, yearFrom: t.yearFrom, yearTo: t.yearTo, volume: '7', languages: 'sqi' });
      const first = await waitForGeneration(deps, book.id, 1, 120_000);
      const gen1 = first.find((p) => p.generation === 1)!;
      expect(gen1.object.mediaType).toBe('application/x-tar');
      expect(gen1.pdf?.mediaType).toBe('application/pdf');
      expect(gen1.object.storeKey).toContain(gen1.object.sha256);

      // Exported unpacked: a valid bag, with every page's files and a METS listing the pages in order.
      const out1 = path.join(dir, 'bag1');
      await exportPackage(deps, book.id, out1);
      const report = await verifyBagDir(out1);
      expect(report.problems).toEqual([]);
      const mets = await fs.promises.readFile(path.join(out1, 'data/mets.xml'), 'utf8');
      expect([...mets.matchAll(/TYPE="page" ORDER="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([1, 2, 3]);
      for (const seq of ['0001', '0002', '0003']) {
        for (const f of ['master.tif', 'alto-4.xml', 'ocr-json.json', 'view-jpeg.jpg']) {
          expect(fs.existsSync(path.join(out1, 'data/pages', seq, f)), `${seq}/${f}`).toBe(true);
          expect(mets.split(`xlink:href="pages/${seq}/${f}"`).length - 1).toBe(1);
        }
      }
      expect(mets).toContain('<premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm>');
      const info = await fs.promises.readFile(path.join(out1, 'bag-info.txt'), 'utf8');
      expect(info).toContain(`External-Identifier: ${book.id}`);
      // Who made the bag comes from the configuration.
      expect(info).toContain('Source-Organization: Civil Registry Agency, Test Office\n');
      expect(info).toContain('Contact-Email: archive@example.org\n');
      expect(info).toMatch(/^Bagging-Date: \d{4}-\d{2}-\d{2}$/m);
      expect(info).toMatch(/^Payload-Oxum: \d+\.\d+$/m);

      // METS and every ALTO validate against the profile schemas (xmllint --schema).
      const metsCheck = xmllintSchema(PROFILE_SCHEMAS.mets, path.join(out1, 'data/mets.xml'));
      expect(metsCheck.out).toContain('validates');
      for (const seq of ['0001', '0002', '0003']) {
        const alto = xmllintSchema(PROFILE_SCHEMAS.alto, path.join(out1, 'data/pages', seq, 'alto-4.xml'));
        expect(alto.status, alto.out).toBe(0);
      }

      // The PDF: PDF/A structure, qpdf finds no errors, pdftotext reads the ground-truth names back.
      const pdfPath = path.join(out1, 'data/book.pdf');
      expect((await checkPdfA(await fs.promises.readFile(pdfPath))).problems).toEqual([]);
      const qpdf = spawnSync('qpdf', ['--check', pdfPath], { encoding: 'utf8' });
      expect(qpdf.stdout).toContain('No syntax or stream encoding errors found');
      let found = 0;
      let total = 0;
      for (let p = 1; p <= 3; p++) {
        const text = spawnSync('pdftotext', ['-f', String(p), '-l', String(p), pdfPath, '-'], { encoding: 'utf8' }).stdout;
        const r = surnameRecall(files.truth.pages[p - 1]!, text);
        found += r.total - r.missed.length;
        total += r.total;
      }
      expect(total).toBeGreaterThan(10);
      expect(found / total).toBeGreaterThanOrEqual(0.9);

      // The verifier reports one altered byte and one removed file of the exported bag.
      const damaged = path.join(dir, 'bag1-damaged');
      await fs.promises.cp(out1, damaged, { recursive: true });
      const alto1 = path.join(damaged, 'data/pages/0001/alto-4.xml');
      const bytes = await fs.promises.readFile(alto1);
      bytes[100] = bytes[100]! ^ 0x01;
      await fs.promises.writeFile(alto1, bytes);
      await fs.promises.rm(path.join(damaged, 'data/pages/0002/master.tif'));
      const bad = await verifyBagDir(damaged);
      expect(bad.valid).toBe(false);
      expect(bad.problems.map((p) => `${p.kind} ${p.path}`)).toEqual(expect.arrayContaining(['changed data/pages/0001/alto-4.xml', 'missing data/pages/0002/master.tif']));
      const pdf = await fs.promises.readFile(path.join(out1, 'data/book.pdf'));
      const masters = await Promise.all(['0001', '0002', '0003'].map((s) => fs.promises.stat(path.join(out1, 'data/pages', s, 'master.tif'))));
      console.log(`[package] PDF ${pdf.length} bytes vs masters ${masters.reduce((n, s) => n + s.size, 0)} bytes; tar ${gen1.object.size} bytes`);

      // The API serves the package and the PDF.
      const app = await buildApp(deps, { logRequests: false });
      // The register is closed under the default schedule (issue 18): the records manager states why she reads it.
      const headers = { ...(await userHeaders(deps.db, ['records_manager'])), 'x-access-purpose': 'preservation check of the package and PDF' };
      try {
        const res = await app.inject({ method: 'GET', url: `/books/${book.id}/pdf`, headers });
        expect(res.statusCode).toBe(200);
        expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(gen1.pdf!.sha256);
        const head = await app.inject({ method: 'HEAD', url: `/books/${book.id}/package`, headers });
        expect(head.statusCode).toBe(200);
        expect(head.headers.etag).toBe(`"${gen1.object.sha256}"`);
      } finally {
        await app.close();
      }

      // Replacing page 2 rebuilds the package; the first generation stays, superseded, and verifies.
      const page2 = (await getPageBySequence(deps.db, book.id, 2))!;
      const master2 = (await findObject(deps.db, { bookId: book.id, pageId: page2.id, role: 'master', revision: page2.revision }))!;
      const rescan = await sharp(await readObject(deps.store, master2.storeKey)).blur(0.6).png().toBuffer();
      await replacePage(deps, book.id, 2, rescan);
      const second = await waitForGeneration(deps, book.id, 2, 120_000);
      expect(second.map((p) => [p.generation, p.current])).toEqual([[2, true], [1, false]]);
      expect(second[0]!.object.sha256).not.toBe(gen1.object.sha256);
      const old = await verifyStoredPackage(deps, book.id, { generation: 1 });
      expect(old.valid).toBe(true);
      expect(old.package.sha256).toBe(gen1.object.sha256);
      const now = await verifyStoredPackage(deps, book.id);
      expect(now.valid).toBe(true);
      const out2 = path.join(dir, 'bag2');
      await exportPackage(deps, book.id, out2);
      expect((await verifyBagDir(out2)).valid).toBe(true);
      expect(fs.existsSync(path.join(out2, 'data/pages/0002/source-r2.png'))).toBe(true);
    } finally {
      await workers.close({ timeoutMs: 20_000 });
    }
  }, 240_000);
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestApp, asUser, userHeaders, type Injector, type TestApp } from '../api/test-kit.ts';
import { listAuditEvents, verifyChain } from '../audit/index.ts';
import { checkPdfA } from '../test-support/pdfa-check.ts';
import os from 'node:os';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { buildApp } from '../api/index.ts';
import { makeTestIdentityP12, SERIAL_PATTERN, TEST_P12_PASSWORD, testIdentityPaths } from './index.ts';
import { SEEDED_NAMES, seedEntry } from './seed.suite.ts';
import { VERIFY_PER_MINUTE } from '../api/routes/extracts.route.ts';
import { randomUUID } from 'node:crypto';
import { PDFArray, PDFDocument, PDFName } from 'pdf-lib';
import { createUser, type AuthUser } from '../auth/index.ts';
import { findObject } from '../archive/index.ts';
import { auditFixity, countStoredObjects, lockTargets, toIsoDate } from '../retention/index.ts';
import { unrecordedObjects } from '../fault/verify.ts';
import { contentKey } from '../storage/index.ts';
import type { Queryable } from '../db/index.ts';
import {
  EXTRACTS_PREFIX, UPLOAD_GRACE_MS, extractPdf, issueExtract, listExtracts, openExtractSigner, revokeExtract, sweepAbandonedUploads, type ExtractDeps,
} from './index.ts';
import { notedUploads, noteUpload } from './extracts.store.ts';
import { listEvents as listOutboxEvents } from '../events/index.ts';

const run = promisify(execFile);

/** Runs a Debian tool on a file; its output and exit code, never a throw. */
async function tool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('electronic extracts (embedded, through the API)', () => {
  let t: TestApp;
  let clerk: Injector;
  let manager: Injector;
  let auditor: Injector;
  let seeded: Awaited<ReturnType<typeof seedEntry>>;
  let serial: string;
  let pdf: Buffer;
  const file = (name: string) => path.join(t.dir, name);

  beforeAll(async () => {
    t = await openTestApp({ ARKIVA_PUBLIC_BASE_URL: 'https://arkiva.example.org/', ARKIVA_ISSUING_OFFICE: 'Agjencia e Regjistrimit Civil – Pejë' });
    clerk = asUser(t.app, await userHeaders(t.deps.db, ['clerk'], 'ana'));
    manager = asUser(t.app, await userHeaders(t.deps.db, ['records_manager'], 'rm'));
    auditor = asUser(t.app, await userHeaders(t.deps.db, ['auditor'], 'aud'));
    seeded = await seedEntry(t.deps);
    const res = await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id, requestReference: 'KRK-2026/0042' } });
    expect(res.statusCode, res.body).toBe(201);
    serial = res.json().extract.serial;
    const got = await clerk.inject({ method: 'GET', url: `/extracts/${serial}/pdf` });
    expect(got.statusCode, got.body).toBe(200);
    expect(got.headers['content-type']).toBe('application/pdf');
    pdf = got.rawPayload;
    fs.writeFileSync(file('extract.pdf'), pdf);
  }, 60_000);
  afterAll(async () => t?.close());

  it('registers the issue: serial, entry, record, request, office, clerk, hash; made a loud test identity', async () => {
    expect(serial).toMatch(SERIAL_PATTERN);
    const list = await manager.inject({ method: 'GET', url: `/extracts?entryId=${seeded.entry.id}` });
    expect(list.statusCode, list.body).toBe(200);
    const row = list.json().extracts[0];
    expect(row).toMatchObject({
      serial, type: 'birth', status: 'valid', entryId: seeded.entry.id, recordId: seeded.recordId, bookId: seeded.bookId, requestReference: 'KRK-2026/0042',
      issuingOffice: 'Agjencia e Regjistrimit Civil – Pejë', issuedBy: 'ana', restricted: false, purpose: null,
      pdfSha256: createHash('sha256').update(pdf).digest('hex'), pdfSize: pdf.length, verifyUrl: `https://arkiva.example.org/verify/${serial}`,
    });
    expect(row.signerSubject).toContain('NOT TRUSTED');
    expect(row.signerSubject).toContain('O=Agjencia e Regjistrimit Civil – Pejë');
    expect(row).not.toHaveProperty('pdfKey');
    expect(fs.existsSync(testIdentityPaths(t.dir).p12)).toBe(true);
    // The issue is in the audit trail, in the transaction that registered it, and the chain holds.
    const events = await listAuditEvents(t.deps.db, { action: 'extract.issue', targetId: serial });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'ana', targetType: 'extract', outcome: 'ok', purpose: null });
    expect(events[0]!.detail).toMatchObject({ entryId: seeded.entry.id, requestReference: 'KRK-2026/0042', sha256: row.pdfSha256 });
    expect((await verifyChain(t.deps.db)).ok).toBe(true);
    // Only records managers and auditors list the register.
    expect((await auditor.inject({ method: 'GET', url: '/extracts' })).statusCode).toBe(200);
    expect((await clerk.inject({ method: 'GET', url: '/extracts' })).statusCode).toBe(403);
  });

  it("pdfsig finds a valid PAdES signature, and an invalid one once a byte of the signed content changes", async () => {
    const sig = await tool('pdfsig', [file('extract.pdf')]);
    expect(sig.out).toContain('Signature Type: ETSI.CAdES.detached');
    expect(sig.out).toContain('Signature Validation: Signature is Valid.');
    expect(sig.out).toContain('Total document signed');
    // A byte in the middle of the first signed range: inside the page content, not the signature.
    const range = /\/ByteRange\s*\[\s*0\s+(\d+)/.exec(pdf.toString('latin1'))!;
    const altered = Buffer.from(pdf);
    const at = Math.floor(Number(range[1]) / 2);
    altered[at] = altered[at]! ^ 0x01;
    fs.writeFileSync(file('altered.pdf'), altered);
    const bad = await tool('pdfsig', [file('altered.pdf')]);
    expect(bad.out).not.toContain('Signature is Valid.');
    expect(bad.out).toMatch(/Signature Validation: (Digest Mismatch|Signature is Invalid)/);
  });

  it('qpdf --check is clean, and the PDF/A structure is there (3B, sRGB intent, embedded fonts, file id, extract.json)', async () => {
    const q = await tool('qpdf', ['--check', file('extract.pdf')]);
    expect(q.code, q.out).toBe(0);
    expect(q.out).toContain('No syntax or stream encoding errors found');
    const report = await checkPdfA(pdf);
    expect(report).toMatchObject({ pdfaPart: '3', pdfaConformance: 'B', encrypted: false, javascript: false, hasFileId: true });
    expect(report.fonts.length).toBeGreaterThan(0);
    expect(report.fonts.every((f) => f.embedded)).toBe(true);
    // The output intent PDF/A asks for: GTS_PDFA1 with an embedded RGB ICC profile (sRGB).
    expect(report.outputIntent).toMatchObject({ subtype: '/GTS_PDFA1', iccColourSpace: 'RGB' });
    expect(report.outputIntent!.iccBytes).toBeGreaterThan(400);
    // PDF/A-3 names its embedded file from the catalog too (/AF), not only from the name tree.
    const doc = await PDFDocument.load(pdf, { updateMetadata: false });
    const af = doc.context.lookup(doc.catalog.get(PDFName.of('AF')));
    expect(af instanceof PDFArray && af.size()).toBe(1);
    // checkPdfA is written for the archive's 2B PDFs: the only difference it may name is the part.
    expect(report.problems.filter((p) => !p.includes('not 2B'))).toEqual([]);
    const list = await tool('pdfdetach', ['-list', file('extract.pdf')]);
    expect(list.out).toContain('extract.json');
    const out = file('extract.json');
    await tool('pdfdetach', ['-save', '1', '-o', out, file('extract.pdf')]);
    const data = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(data).toMatchObject({ format: 'arkiva-extract/1', serial, type: 'birth', entry: { id: seeded.entry.id, entryNumber: '42' }, book: { municipality: 'Pejë', volume: 'II' }, page: 3 });
    expect(pdf.toString('latin1')).toMatch(/\/AFRelationship\s*\/Data/);
  });

  it('pdftotext gives the fields under Albanian and Serbian labels, the book reference, office, clerk, serial and verification address', async () => {
    const { out: text } = await tool('pdftotext', ['-enc', 'UTF-8', file('extract.pdf'), '-']);
    for (const s of [
      'Ekstrakt nga libri amë i të lindurve', 'Izvod iz matične knjige rođenih', SEEDED_NAMES.subject, SEEDED_NAMES.father, SEEDED_NAMES.mother,
      'Babai / Otac / Father', 'Nëna / Majka / Mother', '1958-03-04', 'Gjakovë', 'Zaključila brak 1980', 'Pejë', '1958–1960', 'II', '42',
      'Komuna / Opština', 'Faqja / Strana', serial, 'Agjencia e Regjistrimit Civil – Pejë', 'ana', 'KRK-2026/0042',
      `https://arkiva.example.org/verify/${serial}`, 'CRS',
    ]) expect(text, s).toContain(s);
  });

  it('verifies by serial in public (no sign-in, no personal data) and by the PDF itself', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/verify/${serial.toLowerCase()}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ serial, issued: true, type: 'birth', issuingOffice: 'Agjencia e Regjistrimit Civil – Pejë', status: 'valid', sha256: createHash('sha256').update(pdf).digest('hex') });
    for (const personal of [...Object.values(SEEDED_NAMES), 'Gjakovë', 'KRK-2026', seeded.entry.id, 'ana']) expect(res.body).not.toContain(personal);
    expect((await t.app.inject({ method: 'GET', url: '/verify/2026-00000-00000' })).json()).toEqual({ serial: '2026-00000-00000', issued: false });
    // A browser following the QR code gets the web interface's verification page.
    const page = await t.app.inject({ method: 'GET', url: `/verify/${serial}`, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe(`/ui/#/verify/${serial}`);

    const ok = await t.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': 'application/pdf' }, payload: pdf });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ authentic: true, extract: { serial, status: 'valid' }, signature: { signed: true, intact: true, coversWholeFile: true, subFilter: 'ETSI.CAdES.detached' } });
    const altered = fs.readFileSync(file('altered.pdf'));
    const bad = await t.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': 'application/pdf' }, payload: altered });
    expect(bad.json()).toMatchObject({ authentic: false, extract: null, signature: { signed: true, intact: false } });
    const notPdf = await t.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': 'application/pdf' }, payload: Buffer.from('hello') });
    expect(notPdf.statusCode).toBe(422);
  });

  it('revokes with a reason (records managers only) and the public verification says so; re-issue supersedes', async () => {
    expect((await clerk.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: { reason: 'x' } })).statusCode).toBe(403);
    expect((await manager.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: {} })).statusCode).toBe(400);
    expect((await manager.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: { reason: '   ' } })).statusCode).toBe(400);
    const rev = await manager.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: { reason: 'Issued for the wrong request' } });
    expect(rev.statusCode, rev.body).toBe(200);
    expect(rev.json().extract).toMatchObject({ status: 'revoked', revokedBy: 'rm', revokeReason: 'Issued for the wrong request' });
    expect((await t.app.inject({ method: 'GET', url: `/verify/${serial}` })).json()).toMatchObject({ status: 'revoked', revokeReason: 'Issued for the wrong request' });
    const byPdf = await t.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': 'application/pdf' }, payload: pdf });
    expect(byPdf.json()).toMatchObject({ authentic: true, extract: { status: 'revoked' } });
    expect((await manager.inject({ method: 'POST', url: `/extracts/${serial}/revoke`, payload: { reason: 'again' } })).statusCode).toBe(409);
    expect((await clerk.inject({ method: 'POST', url: `/extracts/${serial}/reissue`, payload: {} })).statusCode).toBe(409);
    expect(await listAuditEvents(t.deps.db, { action: 'extract.revoke', targetId: serial })).toHaveLength(1);

    const second = (await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id, requestReference: 'KRK-2026/0043' } })).json().extract.serial as string;
    const re = await clerk.inject({ method: 'POST', url: `/extracts/${second}/reissue`, payload: {} });
    expect(re.statusCode, re.body).toBe(201);
    expect(re.json().extract).toMatchObject({ supersedes: second, requestReference: 'KRK-2026/0043', status: 'valid' });
    const third = re.json().extract.serial;
    expect((await t.app.inject({ method: 'GET', url: `/verify/${second}` })).json()).toMatchObject({ status: 'superseded', supersededBy: third });
    const register = (await auditor.inject({ method: 'GET', url: `/extracts?status=superseded&entryId=${seeded.entry.id}` })).json();
    expect(register.extracts.map((e: { serial: string }) => e.serial)).toEqual([second]);
  });

  it('a closed book needs the purpose: refused without it (audited as restricted), issued with it and recorded', async () => {
    const closed = await seedEntry(t.deps, { closedUntil: '2099-12-31' });
    const refused = await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: closed.entry.id, requestReference: 'KRK-9' } });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error.message).toContain('closed for privacy');
    const denied = (await listAuditEvents(t.deps.db, { action: 'access.denied', actor: 'ana' })).at(-1)!;
    expect(denied.detail).toMatchObject({ route: '/extracts', restricted: true });

    const ok = await clerk.inject({ method: 'POST', url: '/extracts', headers: { 'x-access-purpose': 'Citizen request KRK-9, identity checked' }, payload: { entryId: closed.entry.id, requestReference: 'KRK-9' } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().extract).toMatchObject({ restricted: true, purpose: 'Citizen request KRK-9, identity checked' });
    const ev = await listAuditEvents(t.deps.db, { action: 'extract.issue', targetId: ok.json().extract.serial });
    expect(ev[0]).toMatchObject({ purpose: 'Citizen request KRK-9, identity checked', detail: expect.objectContaining({ restricted: true }) });
    // Reading its PDF back is a read of the closed book too.
    expect((await clerk.inject({ method: 'GET', url: `/extracts/${ok.json().extract.serial}/pdf` })).statusCode).toBe(403);
  });

  it('refuses entries not verified, unknown entries, and a missing request reference', async () => {
    const proposed = await seedEntry(t.deps, { verified: false });
    const r = await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: proposed.entry.id, requestReference: 'KRK-1' } });
    expect(r.statusCode, r.body).toBe(409);
    expect((await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: '00000000-0000-4000-8000-000000000000', requestReference: 'KRK-1' } })).statusCode).toBe(404);
    expect((await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id } })).statusCode).toBe(400);
    expect((await clerk.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id, requestReference: '  ' } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/extracts', payload: { entryId: seeded.entry.id, requestReference: 'KRK-1' } })).statusCode).toBe(401);
  });

  it(`rate-limits the public verification (${VERIFY_PER_MINUTE} a minute per address)`, async () => {
    const from = { remoteAddress: '192.0.2.77' };
    const codes: number[] = [];
    for (let i = 0; i <= VERIFY_PER_MINUTE; i++) codes.push((await t.app.inject({ method: 'GET', url: `/verify/${serial}`, ...from })).statusCode);
    expect(codes.slice(0, VERIFY_PER_MINUTE).every((c) => c === 200)).toBe(true);
    const last = await t.app.inject({ method: 'GET', url: `/verify/${serial}`, ...from });
    expect(last.statusCode).toBe(429);
    expect(last.json().error.code).toBe('ERR_RATE_LIMITED');
    // Another address is not held back.
    expect((await t.app.inject({ method: 'GET', url: `/verify/${serial}`, remoteAddress: '192.0.2.78' })).statusCode).toBe(200);
  });

  it('an entry a clerk verifies through the API (outside keying) is told to other systems once, so it can then be extracted', async () => {
    const proposed = await seedEntry(t.deps, { verified: false });
    const told = () => listOutboxEvents(t.deps.db, { type: 'entry.verified', bookId: proposed.bookId });
    expect(await told()).toEqual([]);
    for (let i = 0; i < 2; i++) {
      const res = await clerk.inject({ method: 'POST', url: `/entries/${proposed.entry.id}/verify`, payload: {} });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect((await told()).map((e) => [e.subjects.entryId, e.data.source])).toEqual([[proposed.entry.id, 'ocr']]);
  });

  describe('the extract PDF as an archive object', () => {
    let user: AuthUser;
    let deps: ExtractDeps;
    let seeded: Awaited<ReturnType<typeof seedEntry>>;
    /** Keys under extracts/ in the store. */
    const storedPdfs = async () => {
      const keys: string[] = [];
      for await (const o of t.deps.store.list(`${EXTRACTS_PREFIX}/`)) keys.push(o.key);
      return keys.sort();
    };

    beforeAll(async () => {
      user = await createUser(t.deps.db, { username: 'dora', roles: ['clerk'] });
      deps = { ...t.deps, signer: await openExtractSigner(t.deps.config, silentLogger()) };
      seeded = await seedEntry(t.deps);
    }, 60_000);

    it('is recorded among its book\'s stored objects, so `arkiva fixity --all` re-reads it and reports it corrupted', async () => {
      const row = await issueExtract(deps, { entryId: seeded.entry.id, requestReference: 'FIX-1' }, { user });
      const object = await findObject(t.deps.db, { bookId: seeded.bookId, role: 'extract', variant: row.serial });
      expect(object).toMatchObject({ pageId: null, storeKey: row.pdfKey, sha256: row.pdfSha256, size: row.pdfSize, mediaType: 'application/pdf' });
      // The retention lock sync covers it (with the book's other objects).
      expect((await lockTargets(t.deps.db, [seeded.bookId], toIsoDate(new Date()))).map((x) => x.key)).toContain(row.pdfKey);
      // Nothing in the store that no row names: the fault suite's check holds with extracts.
      expect(await unrecordedObjects(t.deps)).toEqual([]);

      const clean = await auditFixity(t.deps, { all: true });
      expect(clean.problems).toEqual([]);
      expect(clean.checked).toBe(await countStoredObjects(t.deps.db));
      // One byte of the stored PDF changes behind the archive's back.
      const file = path.join((t.deps.config.store as { dir: string }).dir, ...row.pdfKey.split('/'));
      const bytes = fs.readFileSync(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      fs.writeFileSync(file, bytes);
      const report = await auditFixity(t.deps, { all: true });
      expect(report).toMatchObject({ checked: clean.checked, ok: clean.checked - 1, damaged: 1 });
      expect(report.problems.map((p) => [p.objectId, p.key, p.outcome])).toEqual([[object!.id, row.pdfKey, 'mismatch']]);
      // Staff reading it back get a refusal, never the altered bytes.
      await expect(extractPdf(t.deps, row.serial, { user })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    });

    it('leaves no PDF in the store when the register transaction fails after the upload', async () => {
      const before = await storedPdfs();
      const first = await issueExtract(deps, { entryId: seeded.entry.id, requestReference: 'RACE-1' }, { user });
      await revokeExtract(t.deps, first.serial, 'issued twice', { user });
      // A re-issue of an extract revoked meanwhile: the check inside the transaction refuses it, after the PDF was stored.
      await expect(issueExtract(deps, { entryId: seeded.entry.id, requestReference: 'RACE-1' }, { user }, { supersedes: first.serial })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
      expect(await storedPdfs()).toEqual([...before, first.pdfKey].sort());
      expect(await notedUploads(t.deps.db)).toEqual([]);
      expect(await unrecordedObjects(t.deps)).toEqual([]);
      expect((await listExtracts(t.deps.db, { requestReference: 'RACE-1' })).extracts.map((e) => e.serial)).toEqual([first.serial]);
      expect(await listAuditEvents(t.deps.db, { action: 'extract.reissue', actor: 'dora' })).toEqual([]);
    });

    it('keeps the PDF when the commit went through but its answer was lost', async () => {
      let failed = false;
      const db = t.deps.db;
      const flaky = new Proxy(db, {
        get(target, p) {
          if (p === 'transaction') {
            return async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
              const r = await target.transaction(fn);
              // Only the register transaction (it writes the extract row) loses its answer, once.
              if (!failed && (await target.query('SELECT 1 FROM extracts e WHERE NOT EXISTS (SELECT 1 FROM extract_uploads u WHERE u.serial = e.serial) AND e.request_reference = $1', ['LOST-1'])).rows.length) {
                failed = true;
                throw new Error('connection reset after COMMIT');
              }
              return r;
            };
          }
          const v = Reflect.get(target, p, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      await expect(issueExtract({ ...deps, db: flaky }, { entryId: seeded.entry.id, requestReference: 'LOST-1' }, { user })).rejects.toThrow('connection reset after COMMIT');
      const [row] = (await listExtracts(db, { requestReference: 'LOST-1' })).extracts;
      expect(row).toBeDefined();
      expect((await extractPdf(t.deps, row!.serial, { user })).pdf.length).toBe(row!.pdfSize);
      expect(await notedUploads(db)).toEqual([]);
      expect(await unrecordedObjects(t.deps)).toEqual([]);
    });

    it('removes, after the grace period, the PDF of an issue whose process died between upload and register', async () => {
      // What the dead process left: the note and the stored PDF, and no row.
      const orphan = Buffer.from(`%PDF-1.7\n% an extract whose register transaction never ran ${randomUUID()}\n`);
      const sha256 = createHash('sha256').update(orphan).digest('hex');
      const key = contentKey(EXTRACTS_PREFIX, sha256);
      await noteUpload(t.deps.db, { storeKey: key, sha256, serial: '2026-DEAD0-00000', bookId: seeded.bookId });
      await t.deps.store.putContentAddressed(EXTRACTS_PREFIX, orphan, { contentType: 'application/pdf' });
      expect(await unrecordedObjects(t.deps)).toEqual([key]);
      // Within the grace period it may be an issue in progress: left alone.
      expect(await sweepAbandonedUploads(t.deps)).toBe(0);
      expect(await t.deps.store.head(key)).toBeDefined();
      // After it, the sweep (every issue runs it first) removes the PDF and the note.
      const later = new Date(Date.now() + UPLOAD_GRACE_MS + 1000);
      expect(await sweepAbandonedUploads(t.deps, { now: later })).toBe(1);
      expect(await t.deps.store.head(key)).toBeUndefined();
      expect(await notedUploads(t.deps.db)).toEqual([]);
      expect(await unrecordedObjects(t.deps)).toEqual([]);
      // Registered extracts have no note: the sweep never touches them.
      expect(await sweepAbandonedUploads(t.deps, { now: later })).toBe(0);
      expect((await auditFixity(t.deps, { all: true })).problems.map((p) => p.outcome)).toEqual(['mismatch']);
    });
  });
});

describe('the configured signing PKCS#12', () => {
  it('is read when the API starts: a wrong password stops the start, naming the variable', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-p12-'));
    const p12 = path.join(dir, 'agency.p12');
    fs.writeFileSync(p12, makeTestIdentityP12('Agjencia').p12);
    const deps = await openAppDeps(loadConfig({ ARKIVA_DATA_DIR: dir, OCR_POOL_SIZE: '1', ARKIVA_SIGNING_P12: p12, ARKIVA_SIGNING_P12_PASSWORD: 'wrong' }), silentLogger());
    try {
      await expect(buildApp(deps, { logRequests: false })).rejects.toThrow(/ARKIVA_SIGNING_P12_PASSWORD/);
      const ok = await buildApp({ ...deps, config: loadConfig({ ARKIVA_DATA_DIR: dir, ARKIVA_SIGNING_P12: p12, ARKIVA_SIGNING_P12_PASSWORD: TEST_P12_PASSWORD }) }, { logRequests: false });
      await ok.close();
      // Configured, no test identity is made.
      expect(fs.existsSync(testIdentityPaths(dir).p12)).toBe(false);
    } finally {
      await deps.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

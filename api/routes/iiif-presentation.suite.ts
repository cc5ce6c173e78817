/**
 * IIIF Presentation 3.0 manifests, entry annotation pages and Content Search within a book, run on
 * the embedded deps (iiif-presentation.route.test.ts) and on PostgreSQL, RGW and Redis
 * (iiif-presentation.route.int.test.ts): structure and order, the checks of tools Arkiva did not write (the IIIF JSON
 * schema with ajv, @iiif/parser), closure and roles, record links, folding of search words.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordObject, setPageImageInfo, upsertPage, type Page } from '../../archive/index.ts';
import { listAuditEvents } from '../../audit/index.ts';
import { createEntry } from '../../entries/index.ts';
import { createLink, upsertRecord } from '../../records/index.ts';
import { createBookWithRetention } from '../../retention/index.ts';
import { setClosure } from '../../test-support/closure.ts';
import { parseManifest, schemaErrors } from '../../test-support/iiif-check.ts';
import { insertPageWords, type SeedWord } from '../../test-support/seed-words.ts';
import { formatBookTitle } from '../../web/src/title-words.ts';
import { asUser, userHeaders, type Injector, type TestApp } from '../test-kit.ts';

const HOST = 'arkiva.test';
const BASE = `http://${HOST}`;
const PURPOSE = { 'x-access-purpose': 'court request 2026/17: inheritance case' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The suite, on the deps `open` gives. */
export function iiifPresentationSuite(name: string, open: () => Promise<TestApp>, enabled = true): void {
  describe.skipIf(!enabled)(`IIIF Presentation 3.0 and Content Search within a book (${name})`, () => {
    let t: TestApp;
    let clerk: Injector;
    let digitiser: Injector;
    let auditor: Injector;
    let clerkHeaders: Record<string, string>;
    let bookId: string;
    let closedId: string;
    let recordId: string;
    const pages: Page[] = [];

    const word = (text: string, line: number, x: number, y = 40 + line * 60): SeedWord => ({ text, confidence: 91, line, block: 0, box: { x0: x, y0: y, x1: x + 20 * text.length, y1: y + 40 } });

    beforeAll(async () => {
      t = await open();
      const db = t.deps.db;
      clerkHeaders = await userHeaders(db, ['clerk'], 'iiif-clerk');
      clerk = asUser(t.app, { ...clerkHeaders, host: HOST });
      digitiser = asUser(t.app, { ...(await userHeaders(db, ['digitiser'], 'iiif-digitiser')), host: HOST });
      auditor = asUser(t.app, { ...(await userHeaders(db, ['auditor'], 'iiif-auditor')), host: HOST });
      const mk = async (yearFrom: number, yearTo: number, volume?: string) => (await createBookWithRetention(db, {
        registerType: 'birth', municipality: 'Prizren', yearFrom, yearTo, ...(volume ? { volume } : {}), languages: 'sqi+srp+eng',
        sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1,
      })).book.id;
      bookId = await mk(1958, 1959, '2');
      closedId = await mk(2001, 2001);
      await setClosure(db, bookId, '2000-12-31');
      await setClosure(db, closedId, '2099-12-31');
      const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#f4efe3' } }).png().toBuffer();
      const master = await t.deps.store.putContentAddressed('masters', png, { contentType: 'image/png' });
      // Pages made out of order, page 3 without a master yet (no canvas), page 2 at its second revision.
      for (const [id, seq] of [[bookId, 2], [bookId, 1], [bookId, 3], [closedId, 1]] as const) {
        let page = await upsertPage(db, id, seq);
        if (seq === 3) continue;
        if (id === bookId && seq === 2) {
          await db.query('UPDATE pages SET revision = 2 WHERE id = $1', [page.id]);
          page = { ...page, revision: 2 };
        }
        await recordObject(db, { bookId: id, pageId: page.id, role: 'master', revision: page.revision }, master, 'image/png');
        await setPageImageInfo(db, page.id, { width: 900 + seq, height: 600, dpiX: 300, dpiY: 300, orientation: 0 });
        if (id === bookId) pages[seq - 1] = page;
      }
      const [p1, p2] = [pages[0]!, pages[1]!];
      const small = await t.deps.store.putContentAddressed('derivatives', png, { contentType: 'image/jpeg' });
      await recordObject(db, { bookId, pageId: p1.id, role: 'derivative', variant: 'thumb-jpeg', revision: 1 }, small, 'image/jpeg');
      const alto = await t.deps.store.putContentAddressed('alto', Buffer.from('<?xml version="1.0"?><alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"/>'), { contentType: 'application/xml' });
      await recordObject(db, { bookId, pageId: p2.id, role: 'alto', variant: 'alto-4', revision: 2 }, alto, 'application/xml');
      const pdf = await t.deps.store.putContentAddressed('packages', Buffer.from('%PDF-1.7 test'), { contentType: 'application/pdf' });
      await recordObject(db, { bookId, role: 'package', variant: 'bagit-tar', revision: 1 }, pdf, 'application/x-tar');
      await recordObject(db, { bookId, role: 'pdf', variant: 'pdfa-2b', revision: 1 }, pdf, 'application/pdf');

      await insertPageWords(db, { bookId, pageId: p1.id, revision: 1 }, [word('Nr', 0, 40), word('7', 0, 120), word('Đorđević', 0, 200), word('Arben', 1, 40)]);
      await insertPageWords(db, { bookId, pageId: p2.id, revision: 2 }, [word('Ђорђевић', 0, 300), word('Krasniqi', 1, 40)]);
      const entry = await createEntry(db, p1.id, { box: { x0: 30, y0: 30, x1: 500, y1: 90 }, eventType: 'birth', entryNumber: '7', eventDate: '1958-03-02', place: 'Prizren', names: [{ role: 'subject', name: 'Marko Đorđević' }, { role: 'father', name: 'Jovan' }] }, { user: 'klea' });
      await createEntry(db, p1.id, { box: { x0: 30, y0: 100, x1: 500, y1: 150 }, eventType: 'birth', entryNumber: '8' }, { user: 'klea' });
      recordId = (await upsertRecord(db, { system: 'civil-registry', recordType: 'birth', recordId: 'PZ-1958-7', personNames: ['Marko Đorđević'], eventDate: '1958-03-02', municipality: 'Prizren' }, { user: 'rm' })).record.id;
      await createLink(db, { recordId, target: { kind: 'entry', entryId: entry.id }, linkType: 'original-entry' }, { user: 'klea' });
    }, 180_000);
    afterAll(async () => t?.close(), 60_000);

    const manifestOf = async (who: Injector, id = bookId) => {
      const res = await who.inject({ method: 'GET', url: `/iiif/3/books/${id}/manifest` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/ld\+json; ?profile="http:\/\/iiif\.io\/api\/presentation\/3\/context\.json"/);
      return res.json() as Json;
    };

    it('describes the book: title and metadata in English and Albanian, a canvas per mastered page in order on the Image API, ALTO, PDF, thumbnails, search', async () => {
      const m = await manifestOf(clerk);
      expect(m['@context']).toBe('http://iiif.io/api/presentation/3/context.json');
      expect(m.id).toBe(`${BASE}/iiif/3/books/${bookId}/manifest`);
      expect(m.type).toBe('Manifest');
      const book = { registerType: 'birth', municipality: 'Prizren', yearFrom: 1958, yearTo: 1959, volume: '2' };
      // The title as the web app writes it (web/src/title-words.ts with the interface's words).
      expect(m.label).toEqual({
        en: [formatBookTitle(book, { type: () => 'Birth', volume: 'vol.' })],
        sq: [formatBookTitle(book, { type: () => 'Lindje', volume: 'vëll.' })],
      });
      expect(m.label.en).toEqual(['Birth · Prizren · 1958–1959 · vol. 2']);
      expect(m.metadata).toEqual([
        { label: { en: ['Register type'], sq: ['Lloji i regjistrit'] }, value: { en: ['Birth'], sq: ['Lindje'] } },
        { label: { en: ['Municipality'], sq: ['Komuna'] }, value: { none: ['Prizren'] } },
        { label: { en: ['Year or years'], sq: ['Viti ose vitet'] }, value: { none: ['1958–1959'] } },
        { label: { en: ['Volume'], sq: ['Vëllimi'] }, value: { none: ['2'] } },
        { label: { en: ['OCR languages'], sq: ['Gjuhët e OCR'] }, value: { en: ['Albanian, Serbian (Cyrillic), English'], sq: ['shqip, serbisht (cirilike), anglisht'] } },
        { label: { en: ['Pages'], sq: ['Faqet'] }, value: { none: ['2'] } },
      ]);
      expect(m.rights).toBe('http://rightsstatements.org/vocab/NoC-OKLR/1.0/');
      expect(m.requiredStatement.label).toEqual({ en: ['Access'], sq: ['Qasja'] });
      expect(m.rendering).toEqual([{ id: `${BASE}/books/${bookId}/pdf`, type: 'Text', label: { en: ['The book as PDF'], sq: ['Libri si PDF'] }, format: 'application/pdf' }]);
      expect(m.service).toEqual([
        { id: `${BASE}/iiif/3/books/${bookId}/search`, type: 'SearchService2', label: expect.any(Object) },
        { '@id': `${BASE}/iiif/3/books/${bookId}/search/v1`, '@type': 'SearchService1', profile: 'http://iiif.io/api/search/1/search' },
      ]);
      // Page 3 has no master yet: no canvas. Pages in order, whatever order they were made in.
      expect(m.items.map((c: Json) => [c.id, c.label, c.width, c.height])).toEqual([
        [`${BASE}/iiif/3/books/${bookId}/canvas/1`, { none: ['1'] }, 901, 600],
        [`${BASE}/iiif/3/books/${bookId}/canvas/2`, { none: ['2'] }, 902, 600],
      ]);
      const [c1, c2] = m.items as Json[];
      const painting = c2!.items[0].items[0];
      expect(painting).toEqual({
        id: `${BASE}/iiif/3/books/${bookId}/canvas/2/page/image`, type: 'Annotation', motivation: 'painting', target: c2!.id,
        body: {
          id: `${BASE}/iiif/3/books/${bookId}/pages/2/full/max/0/default.jpg`, type: 'Image', format: 'image/jpeg', width: 902, height: 600,
          service: [{ id: `${BASE}/iiif/3/books/${bookId}/pages/2`, type: 'ImageService3', profile: 'level2' }],
        },
      });
      // ALTO where the package wrote one (page 2, at its current revision); a thumbnail where the derivative stage made one.
      expect(c1!.seeAlso).toBeUndefined();
      expect(c2!.seeAlso).toEqual([expect.objectContaining({ id: `${BASE}/books/${bookId}/pages/2/alto`, type: 'Dataset', format: 'application/xml' })]);
      expect(c1!.thumbnail).toEqual([{ id: `${BASE}/books/${bookId}/pages/1/derivatives/thumb-jpeg`, type: 'Image', format: 'image/jpeg' }]);
      expect(c2!.thumbnail).toBeUndefined();
      expect(c1!.annotations).toEqual([{ id: `${BASE}/iiif/3/books/${bookId}/annotations/1/entries`, type: 'AnnotationPage' }]);

      // The links the manifest gives work for the same caller.
      const alto = await clerk.inject({ method: 'GET', url: `/books/${bookId}/pages/2/alto` });
      expect(alto.statusCode, alto.body).toBe(200);
      expect(alto.body).toContain('alto xmlns');
      expect((await clerk.inject({ method: 'GET', url: `/books/${bookId}/pages/1/alto` })).statusCode).toBe(404);
      expect((await clerk.inject({ method: 'GET', url: `/books/${bookId}/pdf` })).statusCode).toBe(200);
    });

    it('passes the IIIF Presentation 3 JSON schema and @iiif/parser, as every role that may read it gets it', async () => {
      for (const who of [clerk, digitiser]) {
        const m = await manifestOf(who);
        expect(schemaErrors(m)).toEqual([]);
        const parsed = parseManifest(m);
        expect(parsed.manifest).toMatchObject({ id: m.id, type: 'Manifest' });
        expect(parsed.canvases).toEqual(m.items.map((c: Json) => c.id));
        expect(parsed.warnings).toEqual([]);
      }
      // The schema is not a rubber stamp: a canvas without its size, a label that is not a language map, a foreign rights URI are refused.
      const m = await manifestOf(clerk);
      expect(schemaErrors({ ...m, items: [{ ...m.items[0], width: undefined }] })).not.toEqual([]);
      expect(schemaErrors({ ...m, label: 'Birth · Prizren' })).not.toEqual([]);
      expect(schemaErrors({ ...m, rights: 'https://example.org/our-terms' })).not.toEqual([]);
    });

    it('gives a digitiser the pages but neither entries nor the PDF; refuses an auditor; refuses a closed book without a purpose', async () => {
      const m = await manifestOf(digitiser);
      expect(m.items).toHaveLength(2);
      expect(m.items.every((c: Json) => c.annotations === undefined)).toBe(true);
      expect(m.rendering).toBeUndefined();
      expect(JSON.stringify(m)).not.toContain('/annotations/');
      const entries = await digitiser.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/annotations/1/entries` });
      expect(entries.statusCode).toBe(403);
      expect((await auditor.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/manifest` })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/manifest` })).statusCode).toBe(401);

      for (const url of [`/iiif/3/books/${closedId}/manifest`, `/iiif/3/books/${closedId}/annotations/1/entries`, `/iiif/3/books/${closedId}/search?q=Nr`, `/iiif/3/books/${closedId}/search/v1?q=Nr`]) {
        const res = await clerk.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(403);
        expect(res.json().error.message, url).toMatch(/closed for privacy/);
      }
      const withPurpose = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${closedId}/manifest`, headers: PURPOSE });
      expect(withPurpose.statusCode, withPurpose.body).toBe(200);
      expect(withPurpose.json().items).toHaveLength(1);
      const [event] = await listAuditEvents(t.deps.db, { action: 'iiif.manifest.read', targetId: closedId, limit: 10 }).then((es) => es.filter((e) => e.outcome === 'ok'));
      expect(event).toMatchObject({ actor: 'iiif-clerk', targetType: 'book', purpose: PURPOSE['x-access-purpose'], detail: expect.objectContaining({ restricted: true, canvases: 1 }) });
      expect((await clerk.inject({ method: 'GET', url: `/iiif/3/books/${randomUUIDLike()}/manifest` })).statusCode).toBe(404);
    });

    it("gives a page's entries as commenting annotations on their boxes, with their registry records", async () => {
      const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/annotations/1/entries` });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as Json;
      expect(schemaErrors(page)).toEqual([]);
      expect(page).toMatchObject({ '@context': 'http://iiif.io/api/presentation/3/context.json', id: `${BASE}/iiif/3/books/${bookId}/annotations/1/entries`, type: 'AnnotationPage' });
      const canvas = `${BASE}/iiif/3/books/${bookId}/canvas/1`;
      expect(page.items.map((a: Json) => [a.motivation, a.target])).toEqual([['commenting', `${canvas}#xywh=30,30,470,60`], ['commenting', `${canvas}#xywh=30,100,470,50`]]);
      expect(page.items[0].body).toEqual([
        { type: 'TextualBody', value: 'Nr. 7 · 1958-03-02 · Marko Đorđević · Jovan (father) · Prizren', format: 'text/plain', purpose: 'describing' },
        { id: `${BASE}/records/${recordId}`, type: 'Dataset', format: 'application/json', label: { none: ['civil-registry birth PZ-1958-7'] } },
      ]);
      // The entry without a link has its text only.
      expect(page.items[1].body).toEqual([{ type: 'TextualBody', value: 'Nr. 8', format: 'text/plain', purpose: 'describing' }]);
      // The record it names is readable by the same caller.
      expect((await clerk.inject({ method: 'GET', url: `/records/${recordId}` })).statusCode).toBe(200);
      const empty = (await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/annotations/2/entries` })).json();
      expect(empty.items).toEqual([]);
      expect((await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/annotations/9/entries` })).statusCode).toBe(404);
    });

    it('finds words within the book with their boxes on the canvases, folded as the archive folds them (Djordjevic finds Đorđević and Ђорђевић)', async () => {
      const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search?q=Djordjevic` });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/ld\+json; ?profile="http:\/\/iiif\.io\/api\/search\/2\/context\.json"/);
      const a = res.json() as Json;
      expect(a).toMatchObject({ '@context': 'http://iiif.io/api/search/2/context.json', id: `${BASE}/iiif/3/books/${bookId}/search?q=Djordjevic`, type: 'AnnotationPage' });
      expect(a.ignored).toBeUndefined();
      expect(a.items.map((i: Json) => [i.body.value, i.target, i.motivation])).toEqual([
        ['Đorđević', `${BASE}/iiif/3/books/${bookId}/canvas/1#xywh=200,40,160,40`, 'supplementing'],
        ['Ђорђевић', `${BASE}/iiif/3/books/${bookId}/canvas/2#xywh=300,40,160,40`, 'supplementing'],
      ]);
      // Each hit is also given as a highlighting annotation on the matching annotation, with the text to show.
      expect(a.annotations[0].items.map((h: Json) => [h.motivation, h.target.source, h.target.selector[0].exact])).toEqual(a.items.map((i: Json) => ['highlighting', i.id, i.body.value]));
      // Its matches are a Presentation 3 annotation page (the search context and the hit page aside).
      const { annotations: _hits, ...matchPage } = a;
      expect(schemaErrors({ ...matchPage, '@context': 'http://iiif.io/api/presentation/3/context.json' })).toEqual([]);

      // Parameters the archive does not search by are accepted and listed as ignored.
      const ignored = (await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search?q=krasniqi&motivation=painting&user=someone` })).json();
      expect(ignored.ignored).toEqual(['motivation', 'user']);
      expect(ignored.items.map((i: Json) => i.target)).toEqual([`${BASE}/iiif/3/books/${bookId}/canvas/2#xywh=40,100,160,40`]);
      // Nothing found is an empty page, not an error; an empty query is refused naming q.
      expect((await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search?q=Zzyzzx` })).json().items).toEqual([]);
      for (const q of ['', '%20%20']) {
        const bad = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search?q=${q}` });
        expect(bad.statusCode, q).toBe(400);
        expect(bad.json().error).toMatchObject({ code: 'ERR_VALIDATION', field: 'q' });
      }
      expect((await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search` })).statusCode).toBe(400);
      // A digitiser may search what the pages say, as she may read their OCR.
      expect((await digitiser.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search?q=Arben` })).json().items).toHaveLength(1);
      // Each search is audited on its book, with the query and the pages it found.
      const events = await listAuditEvents(t.deps.db, { action: 'book.search', actor: 'iiif-clerk', targetId: bookId, limit: 100 });
      expect(events.find((e) => e.detail?.query === 'Djordjevic')).toMatchObject({ targetType: 'book', outcome: 'ok', detail: expect.objectContaining({ version: 2, pages: [1, 2] }) });
    });

    it('answers the same search in Content Search 1.0 for viewers that speak only 1.0', async () => {
      const res = await clerk.inject({ method: 'GET', url: `/iiif/3/books/${bookId}/search/v1?q=dordevic&date=1958` });
      expect(res.statusCode, res.body).toBe(200);
      const a = res.json() as Json;
      expect(a['@type']).toBe('sc:AnnotationList');
      expect(a.within).toEqual({ '@type': 'sc:Layer', total: 2, ignored: ['date'] });
      expect(a.resources.map((r: Json) => [r.resource.chars, r.on])).toEqual([
        ['Đorđević', `${BASE}/iiif/3/books/${bookId}/canvas/1#xywh=200,40,160,40`],
        ['Ђорђевић', `${BASE}/iiif/3/books/${bookId}/canvas/2#xywh=300,40,160,40`],
      ]);
      expect(a.hits.map((h: Json) => [h.match, h.annotations])).toEqual(a.resources.map((r: Json) => [r.resource.chars, [r['@id']]]));
    });
  });
}

function randomUUIDLike(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

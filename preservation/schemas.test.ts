import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchivedOcr } from '../archive/archived-ocr.ts';
import { buildAlto } from './alto.ts';
import { buildMets } from './mets.ts';
import { haveXmllint as xmllintInstalled, PROFILE_SCHEMAS, xmllintSchema } from '../test-support/xml-schema.ts';

const SCHEMAS = PROFILE_SCHEMAS;
const xmllint = xmllintSchema;

const OCR: ArchivedOcr = {
  engine: 'tesseract.js 6', languages: ['sqi', 'srp'], width: 1000, height: 700, meanConfidence: 88.5, text: 'Gjergj Kastrioti\nЂорђе',
  words: [
    { text: 'Gjergj', confidence: 91, bbox: { x0: 100, y0: 100, x1: 220, y1: 130 }, line: 0, block: 0 },
    { text: 'Kastrioti', confidence: 80.4, bbox: { x0: 240, y0: 100, x1: 400, y1: 130 }, line: 0, block: 0 },
    { text: 'Ђорђе&<"', confidence: 70, bbox: { x0: 100, y0: 400, x1: 260, y1: 432 }, line: 1, block: 1 },
  ],
  lines: [
    { text: 'Gjergj Kastrioti', confidence: 85, bbox: { x0: 100, y0: 100, x1: 400, y1: 130 }, block: 0 },
    { text: 'Ђорђе&<"', confidence: 70, bbox: { x0: 100, y0: 400, x1: 260, y1: 432 }, block: 1 },
  ],
};

function mets(): string {
  return buildMets({
    bookId: '00000000-0000-4000-8000-000000000001', title: 'Birth register, Prizren, 1958 & "1959"', createdAt: new Date('2024-05-01T10:00:00Z'), creatorAgent: 'arkiva book.package',
    dc: { title: 'Birth register', type: 'birth register', coverage: 'Prizren, 1958', date: '1958', identifier: 'urn:uuid:x', description: 'Civil birth register' },
    pages: [{ sequence: 2, label: 'Page 2' }, { sequence: 1, label: 'Page 1' }],
    files: [
      { id: 'FILE_00001', href: 'book.pdf', use: 'pdf', mimeType: 'application/pdf', size: 12, sha256: 'c'.repeat(64), created: new Date('2024-05-01T10:00:00Z') },
      { id: 'FILE_00002', href: 'pages/0001/master.tif', use: 'master', mimeType: 'image/tiff', size: 11, sha256: 'b'.repeat(64), page: 1, objectId: 'o1' },
      { id: 'FILE_00003', href: 'pages/0002/master.tif', use: 'master', mimeType: 'image/tiff', size: 10, sha256: 'a'.repeat(64), page: 2, objectId: 'o2' },
      { id: 'FILE_00004', href: 'pages/0001/alto-4.xml', use: 'alto', mimeType: 'application/xml', size: 9, sha256: 'd'.repeat(64), page: 1 },
    ],
    events: [
      { id: 'EVENT_1', type: 'normalization', at: new Date('2024-05-01T09:00:00Z'), agent: 'sharp', outcome: 'success', detail: 'master <lossless>', fileIds: ['FILE_00002'] },
      { id: 'EVENT_2', type: 'ingestion', at: new Date('2024-05-01T08:00:00Z'), agent: 'arkiva ingest', outcome: 'success', detail: null, fileIds: [] },
    ],
  });
}

const haveXmllint = xmllintInstalled();
if (!haveXmllint && process.env.CI === 'true') throw new Error('xmllint (Debian libxml2-utils) is required under CI');

describe.skipIf(!haveXmllint)('ALTO and METS against the profile schemas (xmllint --schema)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-xsd-'));
  });
  afterAll(async () => fs.promises.rm(dir, { recursive: true, force: true }));
  const write = async (name: string, text: string) => {
    const f = path.join(dir, name);
    await fs.promises.writeFile(f, text);
    return f;
  };

  it('ALTO 4 of a page validates', async () => {
    const f = await write('alto.xml', buildAlto(OCR, { sequence: 3, imageFileName: 'master.tif', processedAt: new Date('2024-05-01T10:00:00Z') }));
    const r = xmllint(SCHEMAS.alto, f);
    expect(r.out).toContain('validates');
    expect(r.status).toBe(0);
  });

  it('an ALTO word confidence out of 0..1 or a String without CONTENT is refused', async () => {
    const good = buildAlto(OCR, { sequence: 1, imageFileName: 'master.tif' });
    const wc = xmllint(SCHEMAS.alto, await write('bad-wc.xml', good.replace('WC="0.91"', 'WC="91"')));
    expect(wc.status).not.toBe(0);
    expect(wc.out).toMatch(/WC/);
    const content = xmllint(SCHEMAS.alto, await write('bad-content.xml', good.replace(/ CONTENT="Gjergj"/, '')));
    expect(content.status).not.toBe(0);
    expect(content.out).toMatch(/CONTENT/);
  });

  it('METS with PREMIS objects and events validates', async () => {
    const r = xmllint(SCHEMAS.mets, await write('mets.xml', mets()));
    expect(r.out).toContain('validates');
    expect(r.status).toBe(0);
  });

  it('every METS reference (FILEID, ADMID, DMDID) names an element of the document', () => {
    // libxml2's XSD validation types IDREFs but does not resolve them, so they are resolved here.
    const xml = mets();
    const ids = new Set([...xml.matchAll(/ ID="([^"]+)"/g)].map((m) => m[1]));
    const refs = [...xml.matchAll(/ (?:FILEID|ADMID|DMDID)="([^"]+)"/g)].flatMap((m) => m[1]!.split(' '));
    expect(refs.length).toBeGreaterThan(5);
    expect(refs.filter((r) => !ids.has(r))).toEqual([]);
  });

  it('METS with an unknown LOCTYPE or CHECKSUMTYPE, or PREMIS out of order, is refused', async () => {
    const loctype = xmllint(SCHEMAS.mets, await write('bad-loctype.xml', mets().replace('LOCTYPE="URL"', 'LOCTYPE="FILE"')));
    expect(loctype.status).not.toBe(0);
    expect(loctype.out).toMatch(/LOCTYPE/);
    const checksum = xmllint(SCHEMAS.mets, await write('bad-checksum.xml', mets().replace('CHECKSUMTYPE="SHA-256"', 'CHECKSUMTYPE="SHA256"')));
    expect(checksum.status).not.toBe(0);
    const order = mets().replace(/(<premis:size>\d+<\/premis:size>)(\s*)(<premis:format>.*?<\/premis:format>)/, '$3$2$1');
    const premis = xmllint(SCHEMAS.mets, await write('bad-premis.xml', order));
    expect(premis.status).not.toBe(0);
    expect(premis.out).toMatch(/size/);
  });
});

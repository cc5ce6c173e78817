import { describe, expect, it } from 'vitest';
import {
  CatalogueFormatError, auditSegmentKey, catalogueKey, contentSha256, parseAuditSegment, parseCatalogueKey, parseCatalogueObject, rowLines,
  serialiseAuditSegment, serialiseObject, type CatalogueData, type CatalogueHeader, type CatalogueRef,
} from './format.ts';
import { latestObjects } from './read.ts';
import { GENESIS_HASH, eventHash } from '../audit/index.ts';

const BOOK = '6f1c2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';

function object(ref: CatalogueRef, version: number, data: CatalogueData): { key: string; bytes: Buffer } {
  const sha = contentSha256(ref.kind, data);
  const key = catalogueKey(ref, version, sha);
  const header: CatalogueHeader = {
    format: 'arkiva-catalogue', formatVersion: 1, kind: ref.kind, scope: ref.scope, version, contentSha256: sha, previous: null,
    migration: '027_catalogue_write', writtenAt: '2026-12-06T01:00:00.000Z', writtenBy: 'test',
  };
  return { key, bytes: serialiseObject(header, data) };
}

describe('catalogue format', () => {
  it('names each version by kind, scope, number and content hash, and reads the key back', () => {
    const ref = { kind: 'book', scope: BOOK } as const;
    const key = catalogueKey(ref, 3, 'a'.repeat(64));
    expect(key).toBe(`catalogue/books/${BOOK}/book/0000000003-${'a'.repeat(64)}.json`);
    expect(parseCatalogueKey(key)).toEqual({ ref, version: 3, contentSha256: 'a'.repeat(64) });
    expect(catalogueKey({ kind: 'registry-records', scope: '7f' }, 1, 'b'.repeat(64))).toBe(`catalogue/global/registry-records/7f/0000000001-${'b'.repeat(64)}.jsonl`);
    expect(parseCatalogueKey(`catalogue/global/rules/0000000001-${'b'.repeat(64)}.json`)).toMatchObject({ ref: { kind: 'rules', scope: '' } });
    // A kind in the wrong place, or the wrong extension, is not a key Arkiva writes.
    expect(parseCatalogueKey(`catalogue/global/book/0000000001-${'b'.repeat(64)}.json`)).toBeUndefined();
    expect(parseCatalogueKey(`catalogue/books/${BOOK}/events/0000000001-${'b'.repeat(64)}.json`)).toBeUndefined();
    expect(() => catalogueKey({ kind: 'book', scope: 'not-a-uuid' }, 1, 'a'.repeat(64))).toThrow(/expected a book id/);
    expect(auditSegmentKey(10001)).toBe('catalogue/audit/segments/0000000000010001.jsonl');
  });

  it('hashes the content, not the key order or the envelope, and refuses an altered object', () => {
    const ref = { kind: 'book', scope: BOOK } as const;
    const a = contentSha256('book', { books: [{ id: BOOK, volume: 'I' }] });
    const b = contentSha256('book', { books: [{ volume: 'I', id: BOOK }] });
    expect(a).toBe(b);
    const { key, bytes } = object(ref, 1, { books: [{ id: BOOK, volume: 'I' }], pages: [], stored_objects: [] });
    expect(parseCatalogueObject(key, bytes).data.books).toEqual([{ id: BOOK, volume: 'I' }]);
    const altered = Buffer.from(bytes.toString('utf8').replace('"I"', '"II"'));
    expect(() => parseCatalogueObject(key, altered)).toThrow(CatalogueFormatError);
    expect(() => parseCatalogueObject(key, altered)).toThrow(/altered or damaged/);
    const foreign = Buffer.from(bytes.toString('utf8').replace('"pages"', '"users"'));
    expect(() => parseCatalogueObject(key, foreign)).toThrow(/holds table users/);
  });

  it('refuses a JSON Lines object cut short', () => {
    const ref = { kind: 'events', scope: BOOK } as const;
    const rows = [{ id: 1, event_type: 'ingest' }, { id: 2, event_type: 'split' }];
    const { key, bytes } = object(ref, 1, { processing_events: rows });
    expect(parseCatalogueObject(key, bytes).data.processing_events).toEqual(rows);
    const text = bytes.toString('utf8');
    expect(() => parseCatalogueObject(key, Buffer.from(text.slice(0, text.lastIndexOf('{'))))).toThrow(/declares 2 rows but holds 1/);
    expect(() => parseCatalogueObject(key, Buffer.from(text.slice(0, -3)))).toThrow(/cut off/);
  });

  it('checks an audit segment chains from its prevHash to its anchor', () => {
    const events = [1, 2].reduce<Record<string, string | number | null>[]>((acc, seq) => {
      const prevHash = acc.length ? String(acc[acc.length - 1]!.hash) : GENESIS_HASH;
      const e = { seq, at: '2026-12-06T01:00:00.000Z', actorId: null, actor: 'system', action: 'x', targetType: null, targetId: null, from: null, purpose: null, outcome: 'ok', detail: null, prevHash };
      acc.push({ seq, at: e.at, actor_id: null, actor: 'system', action: 'x', target_type: null, target_id: null, from_addr: null, purpose: null, outcome: 'ok', detail: null, prev_hash: prevHash, hash: eventHash(e) });
      return acc;
    }, []);
    const header = {
      format: 'arkiva-catalogue' as const, formatVersion: 1, kind: 'audit-segment' as const, table: 'audit_events' as const, firstSeq: 1, lastSeq: 2,
      prevHash: GENESIS_HASH, lastHash: String(events[1]!.hash), rows: 2, contentSha256: rowLines(events).sha256, migration: 'x', writtenAt: 'x', writtenBy: 'x',
    };
    const key = auditSegmentKey(1);
    expect(parseAuditSegment(key, serialiseAuditSegment(header, events)).rows).toHaveLength(2);
    const broken = events.map((e, i) => (i === 1 ? { ...e, prev_hash: 'f'.repeat(64) } : e));
    expect(() => parseAuditSegment(key, serialiseAuditSegment({ ...header, contentSha256: rowLines(broken).sha256 }, broken))).toThrow(/does not follow the one before it/);
  });

  it('lists the newest version of each object, and refuses to choose between two of one number', async () => {
    const store = {
      async *list(prefix: string) {
        const keys = [
          `catalogue/books/${BOOK}/book/0000000001-${'a'.repeat(64)}.json`,
          `catalogue/books/${BOOK}/book/0000000002-${'b'.repeat(64)}.json`,
          `catalogue/books/${BOOK}/entries/0000000001-${'c'.repeat(64)}.json`,
          `catalogue/books/${BOOK}/entries/0000000001-${'d'.repeat(64)}.json`,
          'catalogue/books/stray.txt',
        ];
        for (const key of keys) if (key.startsWith(prefix)) yield { key, size: 1 };
      },
    };
    const problems: string[] = [];
    const got = [];
    for await (const o of latestObjects(store, { onProblem: (p) => problems.push(p.reason) })) got.push([o.ref.kind, o.version]);
    expect(got).toEqual([['book', 2]]);
    expect(problems).toEqual([expect.stringMatching(/^two versions numbered 1/), expect.stringMatching(/not a catalogue object/)]);
  });
});

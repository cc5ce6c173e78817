import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../test-support/services.ts';
import { createBook, recordObject, listEvents, type ObjectRole } from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { upsertRecord } from '../records/records.ts';
import { createLink, unlink } from '../records/links.ts';
import { linksOfRecord } from '../records/links.store.ts';
import { tarStream } from '../preservation/tar.ts';
import { openRetentionDeps } from '../test-support/retention-deps.ts';
import { recomputeStale, saveRuleAndRecompute, type RuleInput } from './rules.ts';
import { getItemRetention, retentionHistory } from './rules.store.ts';
import { endOfDay, syncObjectLocks } from './object-lock.ts';
import { placeHold, placeHoldOnSearch, releaseHold } from './holds.ts';
import { listEvents as listOutboxEvents } from '../events/index.ts';
import { canonicalJson, decideBatch, executeBatch, executeBatchBypassingGovernance, GOVERNANCE_BYPASS_ACTION, listDue, proposeBatch, verifyCertificate } from './disposal.ts';
import { booksWithheld, createUser } from '../auth/index.ts';
import { listAuditEvents } from '../audit/index.ts';
import { getDisposalRecord, tombstoneStatus } from './disposal.store.ts';
import { auditFixity, type FixityReport } from './fixity.ts';
import { certificatePdf } from './certificate-pdf.ts';
import { silentLogger } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { CommandContext } from '../cli/main.ts';
import { runFixity } from '../cli/retention.command.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

async function smallBook(deps: AppDeps, registerType: 'birth' | 'death' = 'birth') {
  const { book } = await createBook(deps.db, {
    registerType, municipality: 'Prizren', yearFrom: 1930, yearTo: 1935, languages: 'sqi', sourceFormat: 'images',
    sourceSha256: randomBytes(32).toString('hex'), sourceSize: 10,
  });
  const page = (await deps.db.query<{ id: string }>('INSERT INTO pages (book_id, sequence, status) VALUES ($1, 1, $2) RETURNING id', [book.id, 'done'])).rows[0]!;
  const objects: { key: string; versionId: string | null; id: string; role: ObjectRole }[] = [];
  const put = async (role: ObjectRole, pageId: string | null) => {
    const r = await deps.store.putContentAddressed(`books/${book.id}`, randomBytes(2048), { contentType: 'application/octet-stream' });
    const { object } = await recordObject(deps.db, { bookId: book.id, pageId, role }, r, 'application/octet-stream');
    objects.push({ key: r.key, versionId: r.versionId ?? null, id: object.id, role });
  };
  await put('original', null);
  await put('master', page.id);
  await put('derivative', page.id);
  await put('ocr', page.id);
  await deps.db.query(
    `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
     VALUES ($1, 1, 0, $2, 'Gjon', 90, 0, 0, 1, 1, 5, 5, 'gjon')`, [page.id, book.id],
  );
  await deps.db.query(`INSERT INTO processing_events (book_id, page_id, event_type, agent, outcome) VALUES ($1, $2, 'ingestion', 'test', 'success')`, [book.id, page.id]);
  return { book, pageId: page.id, objects };
}

/** Every version and delete marker of exactly `key`, as the store lists them. */
async function versionsOfKey(deps: AppDeps, key: string) {
  const out = [];
  for await (const v of deps.store.listVersions(key)) if (v.key === key) out.push(v);
  return out;
}

/** The bytes of one version of a key (test objects are small). */
async function bytesOf(deps: AppDeps, key: string, versionId: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await deps.store.get(key, { versionId })) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Records a preservation package of the book whose tar holds `bytes` at `path`, as a BagIt tar does. */
async function packageHolding(deps: AppDeps, bookId: string, path: string, bytes: Buffer): Promise<void> {
  const parts: Buffer[] = [];
  for await (const c of tarStream([{ path, size: bytes.length, body: bytes }])) parts.push(c);
  const pkg = await deps.store.putContentAddressed('packages', Buffer.concat(parts), { contentType: 'application/x-tar' });
  await recordObject(deps.db, { bookId, role: 'package', variant: 'bagit-tar', revision: 1 }, pkg, 'application/x-tar');
}

const rule = (months: number): RuleInput => ({ kind: 'retention', name: 'Births, test', registerType: 'birth', trigger: 'creation', periodMonths: months, action: 'destroy' });

describe.skipIf(!enabled)('retention, holds and disposal on PostgreSQL + RGW with Object Lock', () => {
  let deps: AppDeps;
  let config: Readonly<Config>;
  let cleanup: () => Promise<void>;
  /** `arkiva <command>` run against the test's services, its output lines collected. */
  const cli = (args: string[], lines: string[]): CommandContext => ({
    args, json: args.includes('--json'), config, log: silentLogger(),
    open: async () => ({ ...deps, close: async () => undefined }), out: (l) => lines.push(l),
  });
  beforeAll(async () => {
    ({ deps, config, cleanup } = await openRetentionDeps());
    expect(deps.store.capabilities().objectLock).toBe(true);
  });
  afterAll(async () => cleanup?.());

  it('locks, extends, never shortens, holds, refuses self-approval, skips held items and disposes of every copy', async () => {
    const { book, pageId, objects } = await smallBook(deps);
    const uniqueWord = `qx${book.id.replace(/-/g, '').slice(0, 10)}`;
    await deps.db.query(
      `INSERT INTO page_words (page_id, revision, word_index, book_id, text, confidence, line_index, block_index, x0, y0, x1, y1, norm)
       VALUES ($1, 1, 1, $2, $3, 90, 0, 0, 6, 1, 9, 5, $3)`, [pageId, book.id, uniqueWord],
    );
    expect((await deps.db.query(`SELECT 1 FROM search_terms WHERE norm = $1`, [uniqueWord])).rows).toHaveLength(1);
    const v1 = await saveRuleAndRecompute(deps.db, 'births-test', rule(1), { user: 'ana', reason: 'initial schedule' });
    expect(v1.recomputed).toEqual([book.id]);
    const r1 = (await getItemRetention(deps.db, book.id))!;
    expect(r1.explanation).toMatch(/^rule 'Births, test' \(births-test v1\): retained until \d{4}-\d{2}-\d{2}, 1 month after the item's creation/);

    // Object Lock: GOVERNANCE retain-until on every object. Each was locked from its first byte by the
    // bucket's default retention (a day, issue 17 point 4), which the book's date extends.
    const first = await syncObjectLocks(deps, { bookIds: [book.id], repair: true });
    expect(first.drift.map((d) => d.kind)).toEqual(Array(4).fill('retention-short'));
    for (const o of objects) {
      const h = await deps.store.head(o.key, { versionId: o.versionId! });
      expect(h?.retention).toEqual({ mode: 'GOVERNANCE', retainUntil: endOfDay(r1.retainUntil!) });
    }

    // A later date extends the lock; the change and its reason are recorded.
    await saveRuleAndRecompute(deps.db, 'births-test', rule(3), { user: 'besa', reason: 'audit finding 12' });
    const r2 = (await getItemRetention(deps.db, book.id))!;
    expect(r2.retainUntil! > r1.retainUntil!).toBe(true);
    await syncObjectLocks(deps, { bookIds: [book.id], repair: true });
    const extended = await deps.store.head(objects[0]!.key, { versionId: objects[0]!.versionId! });
    expect(extended?.retention?.retainUntil).toEqual(endOfDay(r2.retainUntil!));
    expect((await retentionHistory(deps.db, book.id)).map((h) => h.reason)).toEqual([
      'rule births-test v1 created by ana: initial schedule',
      'rule births-test changed v1 → v2 by besa: audit finding 12',
    ]);

    // Shortening: the store refuses it without the bypass, and sync only reports it.
    await expect(deps.store.setRetention(objects[0]!.key, { mode: 'GOVERNANCE', retainUntil: endOfDay(r1.retainUntil!) }, { versionId: objects[0]!.versionId! }))
      .rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    await saveRuleAndRecompute(deps.db, 'births-test', rule(1), { user: 'ana', reason: 'back to one month' });
    const shorter = await syncObjectLocks(deps, { bookIds: [book.id], repair: true });
    expect(shorter.drift.map((d) => d.kind)).toEqual(Array(4).fill('retention-later'));
    expect((await deps.store.head(objects[0]!.key, { versionId: objects[0]!.versionId! }))?.retention?.retainUntil).toEqual(endOfDay(r2.retainUntil!));

    // Due far in the future: proposed, and approved by another records manager (four eyes), before any hold.
    const later = '2099-01-01';
    const batch = await proposeBatch(deps, { bookIds: [book.id], by: 'ana', today: later });
    await expect(decideBatch(deps, batch.id, 'approve', { user: ' ANA ' })).rejects.toThrow(/four eyes/);
    await decideBatch(deps, batch.id, 'approve', { user: 'besa' });

    // A legal hold on the page reaches the page's objects and the book-level original.
    const { hold } = await placeHold(deps, { name: 'Case 2025/17', reason: 'inheritance dispute', authority: 'Basic Court Prizren', by: 'ana', items: [{ bookId: book.id, pageId }] });
    for (const o of objects) expect((await deps.store.head(o.key, { versionId: o.versionId! }))?.legalHold).toBe(true);
    await expect(deps.store.delete(objects[1]!.key, { versionId: objects[1]!.versionId!, bypassGovernance: true })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });

    // Held: listed as blocked, refused at proposal (issue 17, point 5: it used to be proposed and only
    // skipped at execution), and skipped by the batch approved before the hold came.
    const due = await listDue(deps.db, later);
    expect(due.find((d) => d.bookId === book.id)?.blockedBy).toEqual(['hold']);
    await expect(proposeBatch(deps, { bookIds: [book.id], by: 'ana', today: later })).rejects.toMatchObject({
      code: 'ERR_CONFLICT',
      message: `book ${book.id} is under legal hold 'Case 2025/17' (hold ${hold.id}, Basic Court Prizren: inheritance dispute): a held book cannot be proposed for disposal until the hold is released`,
      details: { bookId: book.id, holds: [{ id: hold.id, name: 'Case 2025/17' }] },
    });
    const held = await executeBatch(deps, batch.id, { today: later });
    expect(held.skipped).toEqual([{ bookId: book.id, reason: 'under legal hold: Case 2025/17' }]);
    expect(held.disposed).toEqual([]);
    expect((await deps.db.query('SELECT 1 FROM books WHERE id = $1', [book.id])).rows).toHaveLength(1);

    // A registry record linked to the book: the link must outlive the book (issue 5: links are never erased).
    const { record } = await upsertRecord(deps.db, { system: 'civil', recordType: 'birth', recordId: `B-${book.id.slice(0, 8)}`, personNames: ['Gjon Test'], eventDate: '1931-04-02', municipality: 'Prizren' }, { user: 'ana' });
    const link = await createLink(deps.db, { recordId: record.id, target: { kind: 'page', pageId }, linkType: 'original-entry' }, { user: 'ana' });
    const ended = await createLink(deps.db, { recordId: record.id, target: { kind: 'book', bookId: book.id }, linkType: 'marginal-note' }, { user: 'ana' });
    await unlink(deps.db, ended.id, { user: 'besa', reason: 'wrong book' });

    // Released: a new batch disposes of every copy and every row, leaving tombstone and certificate.
    await releaseHold(deps, hold.id, { user: 'besa', reason: 'case closed' });
    expect((await deps.store.head(objects[0]!.key, { versionId: objects[0]!.versionId! }))?.legalHold).toBe(false);
    const b2 = await proposeBatch(deps, { bookIds: [book.id], by: 'besa', today: later });
    await decideBatch(deps, b2.id, 'approve', { user: 'ana' });
    // The store still locks the objects (the three months of rule v2, for real): the disposal never
    // bypasses that by itself, fails naming the lock, and deletes nothing (issue 17, point 4).
    const locked = await executeBatch(deps, b2.id, { today: later });
    expect(locked).toMatchObject({ disposed: [], skipped: [] });
    expect(locked.failed).toEqual([{ bookId: book.id, reason: expect.stringMatching(new RegExp(
      `^book ${book.id}: 4 of its 4 stored object version\\(s\\) are still under Object Lock \\(retention until ${endOfDay(r2.retainUntil!).toISOString()}\\), past its retention .*nothing was deleted.*arkiva disposal execute ${b2.id} --bypass-governance`,
    )) }]);
    for (const o of objects) expect(await deps.store.head(o.key, { versionId: o.versionId! })).toBeDefined();
    expect(await tombstoneStatus(deps.db, book.id)).toBeUndefined();
    // Only an admin may have it bypass GOVERNANCE retention, with a reason, and that is audited.
    const rm = await createUser(deps.db, { username: 'besa', roles: ['records_manager'] });
    await expect(executeBatchBypassingGovernance(deps, b2.id, rm, { reason: 'rule shortened', today: later })).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    const admin = await createUser(deps.db, { username: 'root', roles: ['admin', 'records_manager'] });
    await expect(executeBatchBypassingGovernance(deps, b2.id, admin, { reason: ' ', today: later })).rejects.toMatchObject({ code: 'ERR_VALIDATION' });
    const done = await executeBatchBypassingGovernance(deps, b2.id, admin, { reason: 'rule births-test went back to one month', today: later });
    expect(done).toMatchObject({ disposed: [book.id], skipped: [], failed: [] });
    const bypassEvents = await listAuditEvents(deps.db, { action: GOVERNANCE_BYPASS_ACTION });
    expect(bypassEvents.map((e) => [e.actor, e.targetId, e.detail])).toEqual([['root', b2.id, { reason: 'rule births-test went back to one month' }]]);
    for (const o of objects) {
      const left = [];
      for await (const v of deps.store.listVersions(o.key)) left.push(v);
      expect(left).toEqual([]);
    }
    for (const [table, col] of [['books', 'id'], ['pages', 'book_id'], ['stored_objects', 'book_id'], ['page_words', 'book_id'], ['page_terms', 'book_id'], ['processing_events', 'book_id'], ['item_retention', 'book_id'], ['retention_history', 'book_id'], ['legal_hold_items', 'book_id']] as const) {
      expect((await deps.db.query(`SELECT 1 FROM ${table} WHERE ${col} = $1`, [book.id])).rows, table).toHaveLength(0);
    }
    // The word only this book had is gone from the search vocabulary too.
    expect((await deps.db.query(`SELECT 1 FROM search_terms WHERE norm = $1`, [uniqueWord])).rows).toHaveLength(0);
    const rec = await getDisposalRecord(deps.db, book.id);
    expect(rec.status).toBe('disposed');
    expect(rec.certificate).not.toBeNull();
    expect(verifyCertificate(rec.certificate!)).toBe(true);
    expect(rec.certificate!.content).toMatchObject({
      bookId: book.id, approvals: { proposedBy: 'besa', approvedBy: 'ana' }, storeVersionsDeleted: 4,
      governanceBypass: { by: 'root', reason: 'rule births-test went back to one month' },
    });
    expect((rec.tombstone.objects as { sha256: string }[]).map((o) => o.sha256).sort()).toHaveLength(4);
    // Other systems hear of it from the outbox, written with the deletion (and of the links before it).
    const told = await listOutboxEvents(deps.db, { bookId: book.id });
    expect(told.map((e) => e.type).reverse()).toEqual(['link.made', 'link.made', 'link.ended', 'book.disposed']);
    expect(told[0]!.data).toEqual({ batchId: b2.id, disposedAt: rec.certificate!.content.disposedAt });

    // The link row stays with its item side tombstoned: the record's history still names the page.
    const history = await linksOfRecord(deps.db, record.id, { history: true });
    expect(history.map((l) => [l.id, l.item.bookId, l.item.pageId, l.unlinkReason])).toEqual([
      [link.id, book.id, pageId, `item disposed of under disposal batch ${b2.id}`],
      [ended.id, book.id, null, 'wrong book'],
    ]);
    expect(history[0]!.unlinkedAt).not.toBeNull();
    expect((await linksOfRecord(deps.db, record.id)).length).toBe(0);
    const tomb = await deps.db.query<{ item_disposal_batch_id: string }>('SELECT item_disposal_batch_id FROM record_links WHERE id = $1', [link.id]);
    expect(tomb.rows[0]!.item_disposal_batch_id).toBe(b2.id);

    // The PDF certificate: same bytes every time, the hash printed, the canonical JSON attached.
    const pdf = Buffer.from(await certificatePdf(rec));
    expect(Buffer.from(await certificatePdf(rec)).equals(pdf)).toBe(true);
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-cert-'));
    try {
      await fs.promises.writeFile(path.join(dir, 'c.pdf'), pdf);
      const text = execFileSync('pdftotext', ['-layout', path.join(dir, 'c.pdf'), '-'], { encoding: 'utf8' });
      expect(text).toContain('Certificate of disposal');
      expect(text).toContain(rec.certificate!.sha256);
      expect(text).toContain(book.id);
      expect(text).toMatch(/Proposed by besa/);
      expect(text).toMatch(/Approved by ana/);
      execFileSync('pdfdetach', ['-save', '1', '-o', path.join(dir, 'c.json'), path.join(dir, 'c.pdf')]);
      const attached = await fs.promises.readFile(path.join(dir, 'c.json'));
      expect(attached.toString('utf8')).toBe(canonicalJson(rec.certificate!.content));
      expect(createHash('sha256').update(attached).digest('hex')).toBe(rec.certificate!.sha256);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  });

  it('recomputes retention when a registry link or a linked event changes (death + 50 years, hand-worked)', async () => {
    const { book, pageId } = await smallBook(deps, 'death');
    const deathRule: RuleInput = { kind: 'retention', name: 'Deaths', registerType: 'death', trigger: 'registry-event', triggerEvent: 'death', periodYears: 50, action: 'review' };
    await saveRuleAndRecompute(deps.db, `deaths-${book.id.slice(0, 8)}`, deathRule, { user: 'ana', reason: 'schedule' });
    expect((await getItemRetention(deps.db, book.id))!.retainUntil).toBeNull();

    const { record } = await upsertRecord(deps.db, { system: 'civil', recordType: 'death', recordId: `D-${book.id.slice(0, 8)}`, personNames: ['Test Person'], eventDate: '1934-06', municipality: 'Prizren' }, { user: 'ana' });
    const link = await createLink(deps.db, { recordId: record.id, target: { kind: 'page', pageId }, linkType: 'original-entry' }, { user: 'ana' });
    expect(await recomputeStale(deps.db)).toContain(book.id);
    const r1 = (await getItemRetention(deps.db, book.id))!;
    // 1934-06 means at the latest 1934-06-30; + 50 years = 1984-06-30.
    expect(r1.retainUntil).toBe('1984-06-30');
    expect(r1.computedReason).toBe(`registry-event trigger re-read: registry link ${link.id} made`);

    // The record's death date corrected: the book is recomputed again, and the history says why.
    await upsertRecord(deps.db, { system: 'civil', recordType: 'death', recordId: `D-${book.id.slice(0, 8)}`, personNames: ['Test Person'], eventDate: '1935-01-15', municipality: 'Prizren' }, { user: 'besa' });
    expect(await recomputeStale(deps.db)).toContain(book.id);
    expect((await getItemRetention(deps.db, book.id))!.retainUntil).toBe('1985-01-15');
    expect((await retentionHistory(deps.db, book.id)).at(-1)!.reason).toBe(`registry-event trigger re-read: registry record ${record.id} event changed`);
    expect(await recomputeStale(deps.db)).not.toContain(book.id);
  });

  it('places a hold on the results of a search and mirrors it to the pages\' objects', async () => {
    const { book, pageId, objects } = await smallBook(deps);
    // The test book has no computed closure, so it is closed (issue 18): its pages are held only
    // when the records manager states a purpose, as through the API.
    const input = { name: `Search hold ${book.id.slice(0, 8)}`, reason: 'court order', authority: 'Basic Court Prizren', by: 'ana', search: { q: 'Gjon', bookId: book.id } };
    await expect(placeHoldOnSearch(deps, input)).rejects.toThrow(/matches no page: nothing to hold; 1 page\(s\) of closed books were left out/);
    const purpose = 'court order 2025/17: hold every page naming Gjon';
    const rm = { id: '00000000-0000-4000-8000-000000000001', username: 'ana', roles: ['records_manager' as const] };
    const { hold, matchedPages } = await placeHoldOnSearch(deps, { ...input, purpose, withhold: (ids) => booksWithheld(deps.db, { user: rm, purpose }, ids) });
    expect(matchedPages).toBe(1);
    expect(hold.items).toEqual([{ bookId: book.id, pageId }]);
    expect(hold.query).toMatchObject({ search: { q: 'Gjon', bookId: book.id }, scope: 'pages', matchedPages: 1, purpose });
    for (const o of objects) expect((await deps.store.head(o.key, { versionId: o.versionId! }))?.legalHold).toBe(true);
    await expect(placeHoldOnSearch(deps, { name: 'nothing', reason: 'r', authority: 'a', by: 'ana', search: { q: 'Zzzyxw', bookId: book.id } })).rejects.toThrow(/matches no page/);
    await releaseHold(deps, hold.id, { user: 'besa', reason: 'done' });
  });

  it('fixity audit reports exactly the object written over (an intrusion above its intact recorded version) and the one whose version was deleted behind the archive', async () => {
    const { book, objects } = await smallBook(deps);
    const clean = await auditFixity(deps, { bookId: book.id });
    expect(clean).toMatchObject({ checked: 4, ok: 4, problems: [] });

    const [, altered, gone] = objects;
    await deps.store.put(altered!.key, randomBytes(2048));
    await deps.store.delete(gone!.key, { versionId: gone!.versionId!, bypassGovernance: true });
    const report = await auditFixity(deps, { bookId: book.id });
    expect(report.checked).toBe(4);
    // Issue 17: bytes written over a key leave the recorded version whole; that is an intrusion, no longer a mismatch.
    expect(report.problems.map((p) => [p.objectId, p.outcome]).sort()).toEqual([[altered!.id, 'intruded'], [gone!.id, 'missing']].sort());
    const events = (await listEvents(deps.db, book.id)).filter((e) => e.type === 'fixity check');
    expect(events).toHaveLength(8);
    expect(events.filter((e) => e.outcome === 'failure').map((e) => e.objectId).sort()).toEqual([altered!.id, gone!.id].sort());
  });

  it('restores damaged objects from the package, says so when no good copy exists, and restores nothing over an intact recorded version', async () => {
    const { book, objects } = await smallBook(deps);
    const [original, master, derivative, ocr] = objects;
    // A package of the book holding the derivative's bytes (as a BagIt tar does).
    await packageHolding(deps, book.id, 'bag/data/pages/0001/derivative.bin', await bytesOf(deps, derivative!.key, derivative!.versionId!));

    await deps.store.put(master!.key, randomBytes(2048)); // written over: the recorded version is intact
    await deps.store.delete(derivative!.key, { versionId: derivative!.versionId!, bypassGovernance: true }); // gone: only the package has it
    await deps.store.delete(ocr!.key, { versionId: ocr!.versionId!, bypassGovernance: true }); // gone everywhere
    const report = await auditFixity(deps, { bookId: book.id }, { repair: true });
    const byId = new Map(report.problems.map((p) => [p.objectId, p]));
    expect([...byId.keys()].sort()).toEqual([master!.id, derivative!.id, ocr!.id].sort());
    // Issue 17: the recorded version is whole, so there is nothing to restore; the foreign version is an intrusion.
    expect(byId.get(master!.id)!.outcome).toBe('intruded');
    expect(byId.get(master!.id)!.repair).toBeUndefined();
    expect(byId.get(derivative!.id)!.repair).toMatchObject({ outcome: 'restored', source: 'package generation 1 (bag/data/pages/0001/derivative.bin)' });
    expect(byId.get(ocr!.id)!.repair!.outcome).toBe('no-good-copy');
    expect(byId.get(ocr!.id)!.repair!.detail).toMatch(/^no good copy of the object exists: looked at .*package generation 1: no entry with the recorded SHA-256/);
    expect(byId.has(original!.id)).toBe(false);

    // The next audit finds the restored objects whole, and reads them where downloads do; the intrusion is still reported.
    const again = await auditFixity(deps, { bookId: book.id });
    expect(again.problems.map((p) => [p.objectId, p.outcome]).sort()).toEqual([[master!.id, 'intruded'], [ocr!.id, 'missing']].sort());
    const events = (await listEvents(deps.db, book.id)).filter((e) => e.type === 'recovery');
    expect(events.map((e) => [e.objectId, e.outcome]).sort()).toEqual([[derivative!.id, 'success'], [ocr!.id, 'failure']].sort());
  });
  it('26 bytes written over a master\'s key: arkiva fixity --repair verifies the recorded version and reports the foreign version as an intrusion, not damage, and leaves it in place', async () => {
    const { book, objects } = await smallBook(deps);
    const master = objects.find((o) => o.role === 'master')!;
    const before = Date.now();
    const foreign = await deps.store.put(master.key, randomBytes(26));
    const json: string[] = [];
    expect(await runFixity(cli(['--book', book.id, '--repair', '--json'], json))).toBe(1);
    const report = JSON.parse(json[0]!) as FixityReport;
    expect(report).toMatchObject({ checked: 4, ok: 3, damaged: 0, intruded: 1 });
    expect(report.problems).toHaveLength(1);
    const p = report.problems[0]!;
    // The recorded version was read and hashes as recorded: nothing is damaged.
    expect(p).toMatchObject({ objectId: master.id, outcome: 'intruded', versionId: master.versionId, actualSha256: p.expectedSha256, actualSize: 2048 });
    expect(p.intrusions).toEqual([{ versionId: foreign.versionId, deleteMarker: false, size: 26, appearedAt: expect.any(String), foundAt: expect.any(String) }]);
    const appeared = Date.parse(String(p.intrusions[0]!.appearedAt));
    expect(appeared).toBeGreaterThanOrEqual(before - 5_000);
    expect(appeared).toBeLessThanOrEqual(Date.now() + 5_000);
    // Repair had nothing to restore, and wrote nothing over the foreign version: it stays as evidence.
    expect(p.repair).toBeUndefined();
    expect(p.detail).toMatch(/stays in the store as evidence/);
    expect((await deps.store.head(master.key))?.versionId).toBe(foreign.versionId);
    expect((await versionsOfKey(deps, master.key)).map((v) => v.versionId).sort()).toEqual([master.versionId, foreign.versionId].sort());
    expect((await deps.db.query<{ outcome: string }>('SELECT outcome FROM fixity_state WHERE object_id = $1', [master.id])).rows[0]?.outcome).toBe('intruded');

    // The text output names the foreign version, its size and when it was written; it blames no damage.
    const text: string[] = [];
    expect(await runFixity(cli(['--book', book.id], text))).toBe(1);
    expect(text[0]).toMatch(/4 object\(s\) checked, 3 ok, 0 damaged, 1 intruded/);
    expect(text.join('\n')).toContain(`intruded ${master.key}@${master.versionId}`);
    expect(text.join('\n')).toContain(`foreign version ${foreign.versionId} (26 bytes) written ${String(p.intrusions[0]!.appearedAt)}`);
    expect(text.join('\n')).not.toMatch(/mismatch|missing/);
  });

  it('a delete marker above a recorded version is an intrusion (delete marker), not missing, and repair writes nothing over it', async () => {
    const { book, objects } = await smallBook(deps);
    const master = objects.find((o) => o.role === 'master')!;
    await deps.store.delete(master.key);
    const marker = (await versionsOfKey(deps, master.key)).find((v) => v.deleteMarker)!;
    const report = await auditFixity(deps, { bookId: book.id }, { repair: true });
    expect(report).toMatchObject({ checked: 4, ok: 3, damaged: 0, intruded: 1 });
    expect(report.problems.map((p) => [p.objectId, p.outcome])).toEqual([[master.id, 'intruded']]);
    const p = report.problems[0]!;
    expect(p.actualSha256).toBe(p.expectedSha256);
    expect(p.intrusions).toEqual([{ versionId: marker.versionId, deleteMarker: true, size: 0, appearedAt: expect.any(Date), foundAt: expect.any(Date) }]);
    expect(p.detail).toMatch(/delete marker/);
    expect(p.repair).toBeUndefined();
    // Still a delete marker on top, the recorded version under it, nothing written by the repair.
    expect(await deps.store.head(master.key)).toBeUndefined();
    expect((await versionsOfKey(deps, master.key)).map((v) => [v.versionId, v.deleteMarker]).sort()).toEqual([[master.versionId, false], [marker.versionId, true]].sort());
    expect((await listEvents(deps.db, book.id)).filter((e) => e.type === 'recovery')).toEqual([]);
  });

  it('repair restores a deleted recorded version without hiding the foreign version above it: the next audit still reports the intrusion', async () => {
    const { book, objects } = await smallBook(deps);
    const master = objects.find((o) => o.role === 'master')!;
    await packageHolding(deps, book.id, 'bag/data/pages/0001/master.bin', await bytesOf(deps, master.key, master.versionId!));
    const foreign = await deps.store.put(master.key, randomBytes(26));
    await deps.store.delete(master.key, { versionId: master.versionId!, bypassGovernance: true });

    const first = await auditFixity(deps, { bookId: book.id }, { repair: true });
    expect(first).toMatchObject({ damaged: 1, intruded: 1 });
    const p = first.problems.find((x) => x.objectId === master.id)!;
    expect(p.outcome).toBe('missing');
    expect(p.intrusions.map((i) => [i.versionId, i.size])).toEqual([[foreign.versionId, 26]]);
    expect(p.repair).toMatchObject({ outcome: 'restored', source: 'package generation 1 (bag/data/pages/0001/master.bin)' });
    expect(p.repair!.detail).toContain(`foreign version ${foreign.versionId} stays in the store as evidence`);
    expect((await deps.store.head(master.key, { versionId: foreign.versionId! }))?.size).toBe(26);

    // The restored version is what the rows record now; the foreign version under it is still reported.
    const again = await auditFixity(deps, { bookId: book.id });
    expect(again.problems.map((x) => [x.objectId, x.outcome])).toEqual([[master.id, 'intruded']]);
    expect(again.problems[0]!.intrusions.map((i) => i.versionId)).toEqual([foreign.versionId]);
    expect((await deps.db.query<{ outcome: string }>('SELECT outcome FROM fixity_state WHERE object_id = $1', [master.id])).rows[0]?.outcome).toBe('intruded');
  });

  it('a second version with the recorded bytes (a stage re-run writing the same content-addressed key) is no intrusion', async () => {
    const { book, objects } = await smallBook(deps);
    const master = objects.find((o) => o.role === 'master')!;
    await deps.store.put(master.key, await bytesOf(deps, master.key, master.versionId!));
    expect(await versionsOfKey(deps, master.key)).toHaveLength(2);
    expect(await auditFixity(deps, { bookId: book.id })).toMatchObject({ checked: 4, ok: 4, problems: [] });
  });
});

/**
 * Bulk linking of keyed entries (issue 20, point 5): a records manager reviews the verified keyed
 * entries of a book whose best registry candidate is strong and unique, and links the ones they
 * accept in one go. Every pair is checked again when it is submitted, under locks, so a record that
 * stopped being the clear answer (another candidate imported since, the entry linked meanwhile)
 * is refused rather than linked.
 */
import { AppError, isAppError } from '../common/index.ts';
import type { KeyingField } from '../common/vocabulary.ts';
import type { Db, Queryable } from '../db/index.ts';
import { candidatesForEntry, type Candidate } from './candidates.ts';
import { createLink, type RecordLink } from './links.ts';
import {
  lockEntryAndRecord, recordsWithOriginalEntry, unlinkedKeyedEntries, unlinkedKeyedEntry, type UnlinkedKeyedEntry,
} from './link-proposals.store.ts';

/**
 * The least score a candidate needs to be linked in bulk. Of CANDIDATE_WEIGHTS, identical names
 * give 0.70 (surname 0.45, given name 0.25) and the same municipality 0.10: 0.80 is a namesake in
 * the right place and nothing more. 0.85 asks for one more agreement on top: the date to the month
 * at least (+0.067 or more), or the father (+0.1 × similarity). A surname a letter off (similarity
 * about 0.7, -0.135) gets there only when everything else agrees.
 */
export const BULK_LINK_MIN_SCORE = 0.85;

/**
 * How far below the best the runner-up must be, strictly. A namesake in the same municipality
 * scores at least 0.80 and no record more than 1.00, so a gap over 0.20 means that no other record
 * shares both names in the entry's municipality: such entries go to a person, never to bulk.
 */
export const BULK_LINK_MIN_MARGIN = 0.2;

/** Why an entry is not proposed for bulk linking. */
export type NotProposedReason = 'no-names' | 'no-candidate' | 'weak' | 'ambiguous' | 'record-linked';

/** An entry proposed for bulk linking: its best candidate and how far the runner-up is below it. */
export interface LinkProposal {
  entryId: string;
  zoneId: string;
  page: number;
  entryNumber: string | null;
  /** What the candidates were looked up by: the entry's names as keyed, and its date. */
  query: { surname: string; givenName: string; father: string | null; eventDate: string | null };
  candidate: Candidate;
  runnerUpScore: number | null;
}

/** A page of the proposals for a book. */
export interface LinkProposals {
  bookId: string;
  /** Unlinked verified keyed entries looked at. */
  considered: number;
  proposals: LinkProposal[];
  /** Entries looked at and not proposed, by reason. */
  notProposed: Record<NotProposedReason, number>;
  /** Where the next page starts, when more entries remain. */
  nextCursor: string | null;
}

/** An assessment of one entry: proposed with its candidate, or the reason it is not. */
type Assessment = { ok: true; proposal: LinkProposal } | { ok: false; reason: NotProposedReason; best?: Candidate; runnerUpScore?: number | null };

/** The value keyed for a field (explicit answers give none); several columns of one field are joined. */
function keyedValue(e: UnlinkedKeyedEntry, field: KeyingField): string {
  return e.columns
    .filter((c) => c.field === field)
    .map((c) => e.fields[c.key])
    .flatMap((f) => (f && 'value' in f && f.value.trim() ? [f.value.trim()] : []))
    .join(' ');
}

const thousandths = (x: number) => Math.round(x * 1000);

/** Whether the best candidate is strong and the runner-up far enough below it. */
export function isStrongAndUnique(best: number, runnerUp: number | null): { strong: boolean; unique: boolean } {
  return {
    strong: thousandths(best) >= thousandths(BULK_LINK_MIN_SCORE),
    unique: runnerUp === null || thousandths(best) - thousandths(runnerUp) > thousandths(BULK_LINK_MIN_MARGIN),
  };
}

async function assess(db: Queryable, e: UnlinkedKeyedEntry): Promise<Assessment> {
  const surname = keyedValue(e, 'surname');
  const givenName = keyedValue(e, 'given_name');
  if (!surname && !givenName) return { ok: false, reason: 'no-names' };
  const father = keyedValue(e, 'father') || null;
  const query = { surname, givenName, father, eventDate: e.eventDate };
  const candidates = await candidatesForEntry(db, {
    municipality: e.book.municipality, yearFrom: e.book.yearFrom, yearTo: e.book.yearTo, eventType: e.eventType, surname, givenName,
    ...(father ? { father } : {}), ...(e.eventDate ? { eventDate: e.eventDate } : {}),
  }, { limit: 3 });
  const [best, second] = candidates;
  if (!best) return { ok: false, reason: 'no-candidate' };
  const runnerUpScore = second?.score ?? null;
  const { strong, unique } = isStrongAndUnique(best.score, runnerUpScore);
  if (!strong) return { ok: false, reason: 'weak', best, runnerUpScore };
  if (!unique) return { ok: false, reason: 'ambiguous', best, runnerUpScore };
  // A registry record has one original entry: one already linked is for a person to sort out.
  if ((await recordsWithOriginalEntry(db, [best.record.id])).size > 0) return { ok: false, reason: 'record-linked', best, runnerUpScore };
  return { ok: true, proposal: { entryId: e.entryId, zoneId: e.zoneId, page: e.page, entryNumber: e.entryNumber, query, candidate: best, runnerUpScore } };
}

function parseCursor(cursor: string): { page: number; y0: number; entryId: string } {
  const m = /^(\d{1,6}):(\d{1,9}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(cursor);
  if (!m) throw new AppError('ERR_VALIDATION', 'cursor is not one this listing returned', { field: 'cursor' });
  return { page: Number(m[1]), y0: Number(m[2]), entryId: m[3]!.toLowerCase() };
}

/**
 * The book's verified keyed entries, not linked yet, whose best registry candidate is strong and
 * unique (BULK_LINK_MIN_SCORE, BULK_LINK_MIN_MARGIN), in page and row order; up to `limit` entries
 * are looked at per call (default 200), `nextCursor` continues.
 */
export async function linkProposals(db: Queryable, bookId: string, opts: { limit?: number; cursor?: string } = {}): Promise<LinkProposals> {
  const limit = Math.max(1, Math.min(opts.limit ?? 200, 1000));
  const entries = await unlinkedKeyedEntries(db, bookId, { limit: limit + 1, ...(opts.cursor ? { after: parseCursor(opts.cursor) } : {}) });
  const page = entries.slice(0, limit);
  const notProposed: Record<NotProposedReason, number> = { 'no-names': 0, 'no-candidate': 0, weak: 0, ambiguous: 0, 'record-linked': 0 };
  const proposals: LinkProposal[] = [];
  for (const e of page) {
    const a = await assess(db, e);
    if (a.ok) proposals.push(a.proposal);
    else notProposed[a.reason]++;
  }
  const last = page[page.length - 1];
  return { bookId, considered: page.length, proposals, notProposed, nextCursor: entries.length > limit && last ? `${last.page}:${last.y0}:${last.entryId}` : null };
}

/** One pair a records manager accepted: the entry and the record proposed for it. */
export interface BulkPair {
  entryId: string;
  recordId: string;
}

/** What became of each pair of a bulk link. */
export interface BulkLinkReport {
  linked: { entryId: string; recordId: string; link: RecordLink; score: number; runnerUpScore: number | null }[];
  refused: { entryId: string; recordId: string; error: string }[];
}

const REFUSAL: Record<NotProposedReason, string> = {
  'no-names': 'the entry has no keyed name to look its record up by',
  'no-candidate': 'no registry record is a candidate for the entry any more',
  weak: `the record's score is below ${BULK_LINK_MIN_SCORE} now`,
  ambiguous: `another record is now within ${BULK_LINK_MIN_MARGIN} of it: the entry needs a person to choose`,
  'record-linked': 'the record is already the original entry of another entry',
};

/** Most pairs in one bulk link. */
export const BULK_LINK_MAX_PAIRS = 500;

/**
 * Links each accepted pair as `original-entry`, each in its own transaction holding the entry's
 * and the record's rows, after checking again that the entry is a verified keyed entry of the book
 * with no live link and that the record is still its strong and unique best candidate. A pair that
 * fails any of these is refused with the reason and changes nothing; the others are linked.
 * `onLinked` runs inside each link's transaction (the caller's audit event commits with the link).
 */
export async function bulkLink(
  db: Db, bookId: string, pairs: readonly BulkPair[],
  by: { user: string; onLinked?: (tx: Queryable, linked: BulkLinkReport['linked'][number]) => Promise<void> },
): Promise<BulkLinkReport> {
  if (pairs.length === 0) throw new AppError('ERR_VALIDATION', 'no pairs given', { field: 'links' });
  if (pairs.length > BULK_LINK_MAX_PAIRS) throw new AppError('ERR_VALIDATION', `at most ${BULK_LINK_MAX_PAIRS} pairs at once`, { field: 'links' });
  const seen = new Set<string>();
  for (const p of pairs) {
    if (seen.has(p.entryId)) throw new AppError('ERR_VALIDATION', `entry ${p.entryId} is given twice`, { field: 'links' });
    seen.add(p.entryId);
  }
  const report: BulkLinkReport = { linked: [], refused: [] };
  for (const pair of pairs) {
    try {
      const linked = await db.transaction(async (tx) => {
        if (!(await lockEntryAndRecord(tx, pair.entryId, pair.recordId))) throw new AppError('ERR_NOT_FOUND', 'no such entry or registry record');
        const entry = await unlinkedKeyedEntry(tx, pair.entryId);
        if (!entry) throw new AppError('ERR_CONFLICT', 'the entry is not a verified keyed entry without a link (linked meanwhile, or retired)');
        if (entry.bookId !== bookId) throw new AppError('ERR_VALIDATION', `the entry is not of book ${bookId}`);
        const a = await assess(tx, entry);
        if (!a.ok) throw new AppError('ERR_CONFLICT', REFUSAL[a.reason]);
        if (a.proposal.candidate.record.id !== pair.recordId) throw new AppError('ERR_CONFLICT', 'the record is not the entry\'s best candidate now');
        const { score } = a.proposal.candidate;
        const reason = `bulk link: score ${score.toFixed(3)}, runner-up ${a.proposal.runnerUpScore === null ? 'none' : a.proposal.runnerUpScore.toFixed(3)}`;
        const link = await createLink(tx, { recordId: pair.recordId, target: { kind: 'entry', entryId: pair.entryId }, linkType: 'original-entry', reason }, { user: by.user });
        const out = { entryId: pair.entryId, recordId: pair.recordId, link, score, runnerUpScore: a.proposal.runnerUpScore };
        await by.onLinked?.(tx, out);
        return out;
      });
      report.linked.push(linked);
    } catch (e) {
      if (!isAppError(e)) throw e;
      report.refused.push({ entryId: pair.entryId, recordId: pair.recordId, error: e.message });
    }
  }
  return report;
}

import { z } from 'zod';
import type { AppDeps } from '../app/deps.ts';
import { AppError, isAppError } from '../common/index.ts';
import { readObject } from '../storage/index.ts';
import { verifyChain, type AnchorClaim, type ChainBreak, type ChainReport } from './chain.ts';
import { auditHead } from './chain.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log'>;

/** Where chain heads are written in object storage. */
export const ANCHOR_PREFIX = 'audit/anchors/';

/** Years an anchor is kept under Object Lock (GOVERNANCE: only a privileged bypass can remove it). */
export const ANCHOR_LOCK_YEARS = 10;

/** A chain head written to object storage. */
export interface Anchor {
  seq: number;
  hash: string;
  at: string;
  key: string;
}

// Zero-padded so the lexically last key is the newest head. The key names the event and the
// millisecond of writing: two anchors never share a key, so no write has to replace another.
const anchorKey = (seq: number, at: Date) => `${ANCHOR_PREFIX}${String(seq).padStart(16, '0')}-${at.toISOString().replace(/[:.]/g, '')}.json`;
const ANCHOR_KEY = /^(\d{16})-[0-9TZ-]+\.json$/;

/** What an anchor object holds. */
const anchorBody = z.object({ seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.string() });

/**
 * Writes the current chain head to object storage (with Object Lock retention where the store has
 * it). Undefined when the trail is empty or the head is already anchored. Run by the periodic
 * `audit.anchor` job (one schedule however many processes run) and by `arkiva audit anchor`.
 */
export async function writeAnchor(deps: Deps): Promise<Anchor | undefined> {
  const head = await auditHead(deps.db);
  if (!head) return undefined;
  const latest = await latestAnchor(deps);
  if (latest && latest.seq === head.seq && latest.hash === head.hash) return undefined;
  const at = new Date();
  const key = anchorKey(head.seq, at);
  // Anchors are written once: on a versioned bucket a second write would add a version (which
  // verify reports as tampering), elsewhere it would replace the anchor. A delete marker counts too.
  if ((await deps.store.keyHistory(key)).length > 0) throw new AppError('ERR_CONFLICT', `anchor ${key} already exists: anchors are written once, never replaced`);
  const body = Buffer.from(JSON.stringify({ seq: head.seq, hash: head.hash, at: at.toISOString() }));
  const locked = deps.store.capabilities().objectLock;
  const until = new Date(at);
  until.setUTCFullYear(until.getUTCFullYear() + ANCHOR_LOCK_YEARS);
  await deps.store.put(key, body, { contentType: 'application/json', ...(locked ? { retention: { mode: 'GOVERNANCE' as const, retainUntil: until } } : {}) });
  deps.log.info({ seq: head.seq }, 'audit chain head anchored');
  return { seq: head.seq, hash: head.hash, at: at.toISOString(), key };
}

/** The newest anchor in object storage, or undefined when none was written. */
export async function latestAnchor(deps: Pick<Deps, 'store'>): Promise<Anchor | undefined> {
  let last: string | undefined;
  for await (const o of deps.store.list(ANCHOR_PREFIX)) if (!last || o.key > last) last = o.key;
  if (!last) return undefined;
  const a = JSON.parse((await readObject(deps.store, last, { maxBytes: 4096 })).toString('utf8')) as { seq: number; hash: string; at: string };
  return { seq: a.seq, hash: a.hash, at: a.at, key: last };
}

/** Every anchor read from object storage, and what is wrong with the anchor objects themselves. */
export interface AnchorsRead {
  anchors: AnchorClaim[];
  /** Objects overwritten, deleted, unreadable or not anchors, in chain order. */
  problems: ChainBreak[];
}

// Anchor reads in flight at once: verify reads every anchor ever written.
const READS_AT_ONCE = 8;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Reads every version of every object under the anchor prefix. An anchor is written once, so a
 * key holding more than one version, or a delete marker, was overwritten or deleted; each of its
 * versions is still read, so an old head hidden under a forged one is checked against the chain.
 */
export async function readAnchors(deps: Pick<Deps, 'store'>): Promise<AnchorsRead> {
  const byKey = new Map<string, { versions: (string | undefined)[]; deleteMarkers: number }>();
  for await (const v of deps.store.listVersions(ANCHOR_PREFIX)) {
    const entry = byKey.get(v.key) ?? { versions: [], deleteMarkers: 0 };
    if (v.deleteMarker) entry.deleteMarkers++;
    else entry.versions.push(v.versionId);
    byKey.set(v.key, entry);
  }
  const anchors: AnchorClaim[] = [];
  const problems: ChainBreak[] = [];
  const reads: { key: string; seq: number; versionId: string | undefined }[] = [];
  for (const [key, { versions, deleteMarkers }] of byKey) {
    const named = ANCHOR_KEY.exec(key.slice(ANCHOR_PREFIX.length));
    if (!named) {
      problems.push({ seq: 0, anchor: { key, seq: 0 }, reason: `object ${key} is not an anchor Arkiva writes (${ANCHOR_PREFIX}<seq>-<time>.json): something else wrote under the anchor prefix` });
      continue;
    }
    const seq = Number(named[1]);
    if (versions.length !== 1 || deleteMarkers > 0) {
      problems.push({
        seq, anchor: { key, seq },
        reason: `anchor ${key} has ${plural(versions.length, 'version')}${deleteMarkers ? ` and ${plural(deleteMarkers, 'delete marker')}` : ''}: anchors are written once, so it was overwritten or deleted in object storage`,
      });
    }
    for (const versionId of versions) reads.push({ key, seq, versionId });
  }
  const read = async ({ key, seq, versionId }: (typeof reads)[number]) => {
    const where = { key, ...(versionId ? { versionId } : {}), seq };
    let parsed;
    try {
      parsed = anchorBody.safeParse(JSON.parse((await readObject(deps.store, key, { maxBytes: 4096, ...(versionId ? { versionId } : {}) })).toString('utf8')));
    } catch (e) {
      if (e instanceof SyntaxError || isAppError(e, 'ERR_PAYLOAD_TOO_LARGE')) parsed = { success: false as const };
      else throw e;
    }
    if (!parsed.success) problems.push({ seq, anchor: where, reason: `anchor ${key}${versionId ? ` (version ${versionId})` : ''} does not hold an anchor ({seq, hash, at})` });
    else if (parsed.data.seq !== seq) problems.push({ seq, anchor: where, reason: `anchor ${key} names event ${seq} in its key but holds event ${parsed.data.seq}` });
    else anchors.push({ ...parsed.data, key, ...(versionId ? { versionId } : {}) });
  };
  for (let i = 0; i < reads.length; i += READS_AT_ONCE) await Promise.all(reads.slice(i, i + READS_AT_ONCE).map(read));
  problems.sort((a, b) => a.seq - b.seq || (a.anchor?.key ?? '').localeCompare(b.anchor?.key ?? ''));
  return { anchors, problems };
}

/**
 * Verifies the chain against every anchor in object storage (every version of each), and the
 * anchor objects themselves; reports the first problem in chain order.
 */
export async function verifyWithAnchors(deps: Deps): Promise<ChainReport> {
  const { anchors, problems } = await readAnchors(deps);
  const report = await verifyChain(deps.db, anchors);
  // At the same event a chain that differs from an anchor says more than an anchor written twice.
  const first = [...(report.broken ? [report.broken] : []), ...problems].sort((a, b) => a.seq - b.seq)[0] ?? null;
  return { ...report, ok: first === null, broken: first };
}

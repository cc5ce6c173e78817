import type { AppDeps } from '../app/deps.ts';
import { readObject } from '../storage/index.ts';
import { verifyChain, type ChainReport } from './chain.ts';
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

// Zero-padded so the lexically last key is the newest head.
const anchorKey = (seq: number, at: Date) => `${ANCHOR_PREFIX}${String(seq).padStart(16, '0')}-${at.toISOString().replace(/[:.]/g, '')}.json`;

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

/** Verifies the chain against the newest anchor in object storage. */
export async function verifyWithAnchor(deps: Deps): Promise<ChainReport> {
  return verifyChain(deps.db, await latestAnchor(deps));
}

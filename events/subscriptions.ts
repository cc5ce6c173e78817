import { AppError } from '../common/index.ts';
import type { Db, Queryable } from '../db/index.ts';
import { OUTBOX_EVENT_TYPES, type OutboxEventType } from '../common/vocabulary.ts';
import { insertSubscription, selectSubscription, selectSubscriptions, updateSubscription, type SubscriptionRow } from './outbox.store.ts';
import { newSecret, sealSecret, secretKey } from './secrets.ts';

/** A subscription as admins see it: never its secret. */
export interface Subscription {
  id: string;
  name: string;
  url: string;
  eventTypes: OutboxEventType[];
  /** The purpose under which personal data is sent to it; null: identifiers only. */
  purpose: string | null;
  purposeGrantedBy: string | null;
  active: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What creating a subscription (or rotating its secret) gives: the secret, shown this once. */
export interface SubscriptionWithSecret {
  subscription: Subscription;
  secret: string;
}

function view(r: SubscriptionRow): Subscription {
  const { secretSealed: _sealed, ...rest } = r;
  return rest;
}

/** Refuses a URL the delivery job should not post to: not http(s), with credentials in it, or too long. */
export function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError('ERR_VALIDATION', 'url is not a URL', { field: 'url' });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AppError('ERR_VALIDATION', 'url must be http or https', { field: 'url' });
  // Credentials in a URL end up in logs and listings; receivers authenticate deliveries by the signature.
  if (u.username || u.password) throw new AppError('ERR_VALIDATION', 'url must not hold a user name or password: the signature authenticates deliveries', { field: 'url' });
  if (url.length > 2000) throw new AppError('ERR_VALIDATION', 'url is longer than 2000 characters', { field: 'url' });
  return u.toString();
}

/** Refuses an empty, repeated or unknown list of event types. */
export function checkEventTypes(types: readonly string[]): OutboxEventType[] {
  if (types.length === 0) throw new AppError('ERR_VALIDATION', 'name at least one event type', { field: 'eventTypes' });
  for (const t of types) {
    if (!(OUTBOX_EVENT_TYPES as readonly string[]).includes(t)) throw new AppError('ERR_VALIDATION', `event type ${t} is not one of ${OUTBOX_EVENT_TYPES.join(', ')}`, { field: 'eventTypes' });
  }
  return [...new Set(types)] as OutboxEventType[];
}

function checkSecret(secret: string): string {
  if (secret.length < 24 || secret.length > 200) throw new AppError('ERR_VALIDATION', 'a secret is 24 to 200 characters (or leave it out and one is made)', { field: 'secret' });
  return secret;
}

function checkPurpose(purpose: string | null | undefined): string | null {
  if (purpose === undefined || purpose === null) return null;
  const p = purpose.trim();
  if (p.length === 0 || p.length > 500) throw new AppError('ERR_VALIDATION', 'a purpose is 1 to 500 characters', { field: 'purpose' });
  return p;
}

function checkName(name: string): string {
  const n = name.trim();
  if (n.length === 0 || n.length > 100) throw new AppError('ERR_VALIDATION', 'a name is 1 to 100 characters', { field: 'name' });
  return n;
}

/**
 * Registers a receiving system. Without `secret`, a random one is made; either way it is returned
 * here once and stored sealed. A `purpose` grants the system the personal data events hold.
 */
export async function createSubscription(
  db: Db,
  input: { name: string; url: string; eventTypes: readonly string[]; secret?: string; purpose?: string | null },
  by: { user: string },
): Promise<SubscriptionWithSecret> {
  const name = checkName(input.name);
  const url = checkUrl(input.url);
  const eventTypes = checkEventTypes(input.eventTypes);
  const secret = input.secret === undefined ? newSecret() : checkSecret(input.secret);
  const purpose = checkPurpose(input.purpose);
  const row = await db.transaction(async (tx) =>
    insertSubscription(tx, { name, url, eventTypes, secretSealed: sealSecret(await secretKey(tx), secret), purpose, purposeGrantedBy: purpose ? by.user : null, createdBy: by.user }),
  );
  return { subscription: view(row), secret };
}

/** Every subscription, inactive ones too. */
export async function listSubscriptions(db: Queryable): Promise<Subscription[]> {
  return (await selectSubscriptions(db)).map(view);
}

/** One subscription; ERR_NOT_FOUND when there is none. */
export async function getSubscription(db: Queryable, id: string): Promise<Subscription> {
  const r = await selectSubscription(db, id);
  if (!r) throw new AppError('ERR_NOT_FOUND', `no event subscription ${id}`);
  return view(r);
}

/**
 * Changes a subscription: its name, URL, event types, whether it is active, its purpose grant
 * (null withdraws it), and with `rotateSecret` a new secret (returned once).
 */
export async function changeSubscription(
  db: Db,
  id: string,
  c: { name?: string; url?: string; eventTypes?: readonly string[]; active?: boolean; purpose?: string | null; rotateSecret?: boolean },
  by: { user: string },
): Promise<{ subscription: Subscription; secret?: string }> {
  const secret = c.rotateSecret ? newSecret() : undefined;
  const purpose = c.purpose === undefined ? undefined : checkPurpose(c.purpose);
  const row = await db.transaction(async (tx) =>
    updateSubscription(tx, id, {
      ...(c.name !== undefined ? { name: checkName(c.name) } : {}),
      ...(c.url !== undefined ? { url: checkUrl(c.url) } : {}),
      ...(c.eventTypes !== undefined ? { eventTypes: checkEventTypes(c.eventTypes) } : {}),
      ...(c.active !== undefined ? { active: c.active } : {}),
      ...(purpose !== undefined ? { purpose: { purpose, grantedBy: purpose ? by.user : null } } : {}),
      ...(secret ? { secretSealed: sealSecret(await secretKey(tx), secret) } : {}),
    }),
  );
  if (!row) throw new AppError('ERR_NOT_FOUND', `no event subscription ${id}`);
  return { subscription: view(row), ...(secret ? { secret } : {}) };
}

/**
 * Stops deliveries to a subscription. The row stays (its deliveries name it, for the record);
 * pending deliveries wait, and go out if it is made active again.
 */
export async function unsubscribe(db: Db, id: string, by: { user: string }): Promise<Subscription> {
  return (await changeSubscription(db, id, { active: false }, by)).subscription;
}

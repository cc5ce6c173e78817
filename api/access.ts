import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app/deps.ts';
import { AppError, sha256Hex } from '../common/index.ts';
import {
  authorize, bookClosure, cleanPurpose, csrfMatches, delegationDetail, findSession, userForToken, SESSION_COOKIE, SESSION_TTL_MS, SlidingWindowLimiter,
  type AuthUser, type Policy,
} from '../auth/index.ts';
import { appendAuditEvent, appendAuditEventOnce } from '../audit/index.ts';
import { bookOfEntry, bookOfZone } from './access.store.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route, and the audit event it writes (see auth/roles.ts). Every route must have one. */
    policy?: Policy;
  }
  interface FastifyRequest {
    /** The authenticated caller; null on public routes called without credentials. */
    auth: RequestAuth | null;
    /** What the audit event of this request names, when the route knows better than its params. */
    auditNote: AuditNote | null;
  }
  interface FastifyInstance {
    /** Every route registered, with its policy (the policy test walks it). */
    arkivaRoutes: RegisteredRoute[];
  }
}

/** How a request was authenticated. */
export interface RequestAuth {
  user: AuthUser;
  via: 'token' | 'session';
  /** The session's CSRF token (session logins only). */
  csrfToken?: string;
  sessionId?: string;
  /** The stated purpose (header x-access-purpose), recorded in the audit event. */
  purpose?: string;
  /** True when the read was of a book under a privacy closure. */
  restricted?: boolean;
}

/** A route as registered. */
export interface RegisteredRoute {
  method: string;
  url: string;
  readonly policy: Policy | undefined;
}

/** Extra facts for the audit event of a request. */
export interface AuditNote {
  targetType?: string;
  targetId?: string;
  detail?: Record<string, unknown>;
  /** Replaces the anonymous actor (login, before a session exists). */
  actor?: AuthUser;
  /**
   * What was read (e.g. a page revision), when one event per session is enough for it: successful
   * reads of the same thing by the same session (token callers: user and UTC day) with the same
   * purpose write one event (IIIF tiles: dozens of requests are one page viewed). Refusals are always written.
   */
  oncePerSession?: string;
}

/** Adds facts to the audit event the request will write. */
export function noteAudit(req: FastifyRequest, note: AuditNote): void {
  req.auditNote = { ...req.auditNote, ...note, detail: { ...req.auditNote?.detail, ...note.detail } };
}

/** The caller of a request that passed the access hook on a non-public route. */
export function caller(req: FastifyRequest): AuthUser {
  if (!req.auth) throw new AppError('ERR_UNAUTHENTICATED', 'sign in or send an API token');
  return req.auth.user;
}

type Deps = Pick<AppDeps, 'db' | 'log'>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Installs the one place where access is decided. Every route must declare `config.policy`; a
 * route without one is refused (403) for everybody. For each request: the caller is found from an
 * API token (`Authorization: Bearer`) or the session cookie (then a non-GET needs `x-csrf-token`),
 * the policy's roles are checked, reads of closed books need a purpose, and the policy's audit
 * event is appended to the audit trail before the answer leaves (a read that cannot be recorded is
 * refused).
 */
export function installAccessControl(app: FastifyInstance, deps: Deps): void {
  const routes: RegisteredRoute[] = [];
  app.decorate('arkivaRoutes', routes);
  app.decorateRequest('auth', null);
  app.decorateRequest('auditNote', null);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // Read late: plugins that declare their own routes (docs, static files) set the policy in their
    // own onRoute hooks, which run after this one.
    for (const method of methods) {
      routes.push({ method, url: route.url, get policy() { return (route.config as { policy?: Policy } | undefined)?.policy; } });
    }
  });

  // Per user, for routes whose policy sets `rateLimit` (searches: each one reads personal data).
  const limiters = new Map<number, SlidingWindowLimiter>();
  // Keys of once-per-session reads this process saw recorded, so further tiles skip the database;
  // bounded (oldest dropped first), and only a shortcut: audit_once decides across processes.
  const recordedOnce = new Map<string, number>();

  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const policy = req.routeOptions.config.policy;
    if (!policy) {
      req.log.error({ route: req.routeOptions.url }, 'route has no access policy');
      throw new AppError('ERR_FORBIDDEN', 'this route has no access policy and is refused');
    }
    req.auth = await authenticate(deps, req);
    if (req.auth?.via === 'session' && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (!csrfMatches(typeof sent === 'string' ? sent : undefined, req.auth.csrfToken!)) {
        throw new AppError('ERR_FORBIDDEN', 'missing or wrong x-csrf-token header (required with a session cookie for every change)');
      }
    }
    authorize(req.auth?.user, policy, 'this route');
    if (!req.auth) return;
    if (policy.rateLimit) {
      const limiter = limiters.get(policy.rateLimit) ?? new SlidingWindowLimiter(policy.rateLimit, 60_000);
      limiters.set(policy.rateLimit, limiter);
      const key = `${req.auth.user.id}:${req.routeOptions.url}`;
      if (limiter.blocked(key)) {
        reply.header('retry-after', String(Math.ceil(limiter.retryAfterMs(key) / 1000)));
        throw new AppError('ERR_RATE_LIMITED', `at most ${policy.rateLimit} of these requests a minute; try again shortly`);
      }
      limiter.hit(key);
    }
    const purpose = cleanPurpose(req.headers['x-access-purpose']);
    if (purpose) req.auth.purpose = purpose;
    if (policy.restricted) {
      const bookId = await bookOfRequest(deps, req);
      if (bookId) {
        const closure = await bookClosure(deps.db, req.auth.user, bookId, purpose);
        // Set before refusing, so that the refusal's audit event says the book was closed.
        req.auth.restricted = closure.closed;
        if (closure.refused) throw closure.refused;
      }
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const policy = req.routeOptions.config?.policy;
    const denied = reply.statusCode === 403 && req.auth !== null;
    const action = policy?.audit ?? (denied ? 'access.denied' : undefined);
    if (!action || req.is404) return payload;
    try {
      const once = reply.statusCode < 400 && req.auth ? onceKey(req, action) : undefined;
      if (once) {
        if ((recordedOnce.get(once.keyHash) ?? 0) > Date.now()) return payload;
        await appendAuditEventOnce(deps.db as AppDeps['db'], once.keyHash, once.expiresAt, auditInput(req, reply, action));
        recordedOnce.set(once.keyHash, once.expiresAt.getTime());
        if (recordedOnce.size > ONCE_MEMORY) recordedOnce.delete(recordedOnce.keys().next().value!);
      } else {
        await appendAuditEvent(deps.db as AppDeps['db'], auditInput(req, reply, action));
      }
    } catch (err) {
      if (reply.statusCode >= 400) {
        req.log.error({ err }, 'could not record a refused request in the audit trail');
        return payload;
      }
      // What cannot be recorded is not released.
      if (payload instanceof Readable) payload.destroy();
      req.log.error({ err }, 'audit trail unavailable: answer withheld');
      throw new AppError('ERR_UNAVAILABLE', 'the request could not be recorded in the audit trail, so its answer is withheld; try again');
    }
    return payload;
  });
}

const ONCE_MEMORY = 10_000;
const DAY_MS = 24 * 3600_000;

/**
 * The audit_once key of a read noted `oncePerSession`: a hash (session ids are secrets, never stored
 * as such) of the action, the session, or for token callers the user and UTC day, what was read,
 * the purpose and whether the book was closed. Expires with the longest a session lives.
 */
function onceKey(req: FastifyRequest, action: string): { keyHash: string; expiresAt: Date } | undefined {
  const what = req.auditNote?.oncePerSession;
  if (!what || !req.auth) return undefined;
  const now = Date.now();
  const who = req.auth.sessionId ? `session:${req.auth.sessionId}` : `user:${req.auth.user.id}:${new Date(now).toISOString().slice(0, 10)}`;
  const ttl = req.auth.sessionId ? SESSION_TTL_MS : DAY_MS - (now % DAY_MS);
  const keyHash = sha256Hex(JSON.stringify([action, who, what, req.auth.purpose ?? null, req.auth.restricted === true, req.auth.user.issuedBy?.username ?? null]));
  return { keyHash, expiresAt: new Date(now + ttl) };
}

function outcomeOf(status: number): string {
  if (status < 400) return 'ok';
  if (status === 401 || status === 403) return 'denied';
  if (status === 429) return 'rate_limited';
  if (status < 500) return 'refused';
  return 'failed';
}

const TARGET_PARAMS: [param: string, type: string][] = [
  ['entryId', 'entry'], ['recordId', 'record'], ['linkId', 'link'], ['username', 'user'], ['ruleKey', 'retention_rule'], ['bookId', 'book'],
];

function auditInput(req: FastifyRequest, reply: FastifyReply, action: string) {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const note = req.auditNote;
  let targetType = note?.targetType;
  let targetId = note?.targetId;
  if (!targetType) {
    for (const [param, type] of TARGET_PARAMS) {
      if (typeof params[param] === 'string') {
        targetType = type;
        targetId = params[param] as string;
        break;
      }
    }
  }
  if (!targetType && typeof params.id === 'string') {
    // '/retention/holds/:id' → 'retention/holds'
    targetType = req.routeOptions.url?.split('/:')[0]?.replace(/^\//, '') ?? 'item';
    targetId = params.id;
  }
  const user = req.auth?.user ?? note?.actor;
  // Through a token an admin made for someone, both names go with every action (a token's own
  // creation names the token's issuer and user in the route's note instead).
  const detail: Record<string, unknown> = { method: req.method, route: req.routeOptions.url, status: reply.statusCode, ...delegationDetail(user), ...note?.detail };
  if (params.sequence !== undefined) detail.page = Number(params.sequence);
  if (typeof params.variant === 'string') detail.variant = params.variant;
  if (req.auth?.restricted) detail.restricted = true;
  return {
    actorId: user?.id ?? null,
    actor: user?.username ?? 'anonymous',
    action,
    targetType: targetType ?? null,
    targetId: targetId ?? null,
    from: req.ip,
    purpose: req.auth?.purpose ?? null,
    outcome: outcomeOf(reply.statusCode),
    detail,
  };
}

async function authenticate(deps: Deps, req: FastifyRequest): Promise<RequestAuth | null> {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new AppError('ERR_UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
    const user = await userForToken(deps.db, m[1]!);
    if (!user) throw new AppError('ERR_UNAUTHENTICATED', 'the API token is unknown, expired or revoked');
    return { user, via: 'token' };
  }
  const sessionId = (req.cookies as Record<string, string | undefined> | undefined)?.[SESSION_COOKIE];
  if (!sessionId) return null;
  const session = await findSession(deps.db, sessionId);
  if (!session) {
    // A stale cookie on a public route (the login form) must not block it.
    if (req.routeOptions.config.policy?.roles === 'public') return null;
    throw new AppError('ERR_UNAUTHENTICATED', 'the session has ended; sign in again');
  }
  return { user: session.user, via: 'session', csrfToken: session.csrfToken, sessionId };
}

/** The book a restricted route reads: its `bookId` param, or the book of its `entryId` or `zoneId`. */
async function bookOfRequest(deps: Deps, req: FastifyRequest): Promise<string | undefined> {
  const params = (req.params ?? {}) as Record<string, unknown>;
  // Params are not validated yet at this point: anything not a uuid is left to the route's 400/404.
  if (typeof params.bookId === 'string') return UUID_RE.test(params.bookId) ? params.bookId : undefined;
  if (typeof params.entryId === 'string' && UUID_RE.test(params.entryId)) {
    return bookOfEntry(deps.db, params.entryId);
  }
  if (typeof params.zoneId === 'string' && UUID_RE.test(params.zoneId)) return bookOfZone(deps.db, params.zoneId);
  return undefined;
}

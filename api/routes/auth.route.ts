import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { AppError } from '../../common/index.ts';
import { checkCredentials, createSession, revokeSession, SESSION_COOKIE, SESSION_TTL_MS, SlidingWindowLimiter } from '../../auth/index.ts';
import { caller, noteAudit } from '../access.ts';
import { errorResponses } from '../schemas.ts';

type Deps = Pick<AppDeps, 'db' | 'config'>;

/**
 * Login throttles: failures per username from one client address, and attempts per address. Never
 * per username alone: then anyone could lock a clerk out by failing with her name from anywhere.
 */
export interface LoginLimits {
  perUserAddress: { max: number; windowMs: number };
  perIp: { max: number; windowMs: number };
}

/** Default login throttles: 5 failures per username and address in 15 minutes; 30 attempts per address in 5 minutes. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUserAddress: { max: 5, windowMs: 15 * 60_000 }, perIp: { max: 30, windowMs: 5 * 60_000 } };

const userSchema = { type: 'object', properties: { id: { type: 'string' }, username: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } } } as const;
const sessionSchema = { type: 'object', properties: { user: userSchema, csrfToken: { type: ['string', 'null'] } } } as const;

/** Session login for the web UI: login, who am I, logout. */
export async function authRoutes(app: FastifyInstance, opts: { deps: Deps; limits?: LoginLimits }): Promise<void> {
  const { deps } = opts;
  const limits = opts.limits ?? DEFAULT_LOGIN_LIMITS;
  const perUserAddress = new SlidingWindowLimiter(limits.perUserAddress.max, limits.perUserAddress.windowMs);
  const perIp = new SlidingWindowLimiter(limits.perIp.max, limits.perIp.windowMs);
  const tags = ['auth'];

  app.post<{ Body: { username: string; password: string } }>('/auth/login', {
    bodyLimit: 4096,
    schema: {
      tags, summary: 'Sign in: sets the arkiva_session cookie and returns the CSRF token to send as x-csrf-token',
      body: {
        type: 'object', additionalProperties: false, required: ['username', 'password'],
        properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
      response: { 200: sessionSchema, ...errorResponses },
    },
    config: { policy: { roles: 'public', audit: 'auth.login' } },
  }, async (req, reply) => {
    const username = req.body.username.trim().toLowerCase();
    noteAudit(req, { targetType: 'user', targetId: username });
    // The answer carries the session's CSRF token.
    reply.header('cache-control', 'no-store');
    const ipKey = req.ip;
    const userKey = JSON.stringify([username, ipKey]);
    if (perIp.blocked(ipKey) || perUserAddress.blocked(userKey)) {
      const wait = Math.max(perIp.retryAfterMs(ipKey), perUserAddress.blocked(userKey) ? perUserAddress.retryAfterMs(userKey) : 0);
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new AppError('ERR_RATE_LIMITED', 'too many sign-in attempts; wait and try again');
    }
    perIp.hit(ipKey);
    const user = await checkCredentials(deps.db, username, req.body.password);
    if (!user) {
      perUserAddress.hit(userKey);
      throw new AppError('ERR_UNAUTHENTICATED', 'wrong username or password');
    }
    perUserAddress.reset(userKey);
    const session = await createSession(deps.db, user, { ip: req.ip, ttlMs: SESSION_TTL_MS });
    noteAudit(req, { actor: user });
    reply.setCookie(SESSION_COOKIE, session.id, {
      path: '/', httpOnly: true, sameSite: 'strict', secure: deps.config.http.cookieSecure, maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    return { user, csrfToken: session.csrfToken };
  });

  app.get('/auth/me', {
    schema: { tags, summary: 'The signed-in user and the session CSRF token (null with an API token)', response: { 200: sessionSchema, ...errorResponses } },
    config: { policy: { roles: 'authenticated' } },
  }, async (req) => ({ user: caller(req), csrfToken: req.auth?.csrfToken ?? null }));

  app.post('/auth/logout', {
    schema: { tags, summary: 'Sign out: the session ends on the server and the cookie is cleared', response: { 204: { type: 'null' }, ...errorResponses } },
    config: { policy: { roles: 'authenticated', audit: 'auth.logout' } },
  }, async (req, reply) => {
    if (req.auth?.sessionId) await revokeSession(deps.db, req.auth.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.config.http.cookieSecure });
    return reply.code(204).send();
  });
}

import fs from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import type { AppDeps } from '../app/deps.ts';
import { installErrorHandling } from './errors.ts';
import { SHARED_SCHEMAS } from './schemas.ts';
import { booksRoutes } from './routes/books.route.ts';
import { pagesRoutes } from './routes/pages.route.ts';
import { downloadsRoutes } from './routes/downloads.route.ts';
import { opsRoutes } from './routes/ops.route.ts';
import { searchRoutes } from './routes/search.route.ts';
import { entriesRoutes } from './routes/entries.route.ts';
import { recordsRoutes } from './routes/records.route.ts';
import { reviewRoutes } from './routes/review.route.ts';
import { imagesRoutes } from './routes/images.route.ts';
import { iiifImageRoutes } from './routes/iiif-image.route.ts';
import { iiifPresentationRoutes } from './routes/iiif-presentation.route.ts';
import { packageRoutes } from './routes/package.route.ts';
import { retentionRoutes } from './routes/retention.route.ts';
import { keyingRoutes } from './routes/keying.route.ts';
import { extractsRoutes } from './routes/extracts.route.ts';
import { eventsRoutes } from './routes/events.route.ts';
import { installAccessControl } from './access.ts';
import { installRequestChecks } from './request-checks.ts';
import { authRoutes, type LoginLimits } from './routes/auth.route.ts';
import { usersRoutes } from './routes/users.route.ts';
import { auditRoutes } from './routes/audit.route.ts';
import { webRoutes } from './web-ui.ts';

/** Options of `buildApp`. */
export interface BuildAppOptions {
  /** Log one line per request and response (method, path, status, time). Default true. */
  logRequests?: boolean;
  /** Trust X-Forwarded-* headers from this proxy setting (Fastify's `trustProxy`). Default false. */
  trustProxy?: boolean | string | string[];
  /** Login throttles (tests lower them). Default 5 failures per username and address per 15 min, 30 attempts per address per 5 min. */
  loginLimits?: LoginLimits;
}

/** Body limit of every route that takes a JSON body; uploads stream past it with their own limit. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** Where the OpenAPI document (`/docs/json`) and Swagger UI (`/docs`) are served. */
export const DOCS_PREFIX = '/docs';

// No script, style or frame for API answers: they are data, never pages.
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// Swagger UI runs its own scripts and styles, all served from the npm package (no CDN).
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const VERSION = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Builds the HTTP API on the given ports, ready for `inject()` or `listen()`. It does not listen:
 * `arkiva serve` does. Closing the app does not close `deps`; their owner does.
 */
export async function buildApp(deps: AppDeps, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const log = deps.log.child({ component: 'api' }, { serializers: { req: requestForLog } });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: opts.logRequests === false }),
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: opts.trustProxy ?? false,
    ajv: {
      // An unknown parameter is refused, not silently dropped: a typo in a filter must not widen it.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }) as unknown as FastifyInstance;

  installErrorHandling(app);
  // Cookies are parsed (an onRequest hook of the plugin) before the access hook reads the session;
  // the access hook comes before any route, so it records every route's policy as it is registered.
  await app.register(cookie);
  installAccessControl(app, deps);
  installRequestChecks(app);
  // CSP is set per answer below (API, docs and UI each need their own); helmet sets the rest (HSTS, COOP, ...).
  await app.register(helmet, { global: true, contentSecurityPolicy: false });
  app.addHook('onSend', async (req, reply, payload) => {
    // Whatever a signed-in caller is answered may be personal data (OCR text, words, entries,
    // records, search results, images, downloads): no cache, private or shared, may keep it.
    if (req.auth) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-resource-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
    return payload;
  });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Arkiva API',
        version: VERSION,
        description: 'Electronic archive of civil registers: upload scanned books, follow their processing, download originals, masters, derivatives and OCR results.',
      },
      tags: [
        { name: 'books', description: 'Upload and follow books' },
        { name: 'pages', description: 'Pages of a book, and their replacement' },
        { name: 'downloads', description: 'Archived objects, with ETag and caching' },
        { name: 'operations', description: 'Health, readiness, metrics and the queue dashboard' },
        { name: 'search', description: 'Finding pages by the words read on them' },
        { name: 'entries', description: 'Register entries: regions of pages with structured fields' },
        { name: 'records', description: 'Registry records and their links to books, pages and entries' },
        { name: 'keying', description: 'Handwritten registers: layouts, entry zones, double blind keying and arbitration' },
        { name: 'images', description: 'Page images and crops for viewers' },
        { name: 'iiif', description: 'IIIF: Image API 3.0, Presentation 3.0 manifests and annotations, Content Search within a book' },
        { name: 'retention', description: 'Retention rules, legal holds, reviewed disposal and fixity audit' },
        { name: 'auth', description: 'Sign in and out (web sessions); API clients send Authorization: Bearer <token>' },
        { name: 'users', description: 'Users, roles and API tokens (admins)' },
        { name: 'audit', description: 'The hash-chained audit trail (auditors)' },
        { name: 'extracts', description: 'Signed electronic extracts of entries, their register, and their public verification' },
        { name: 'events', description: 'Events for other state systems: the outbox, subscriptions (admins), deliveries, dead letters and replays' },
      ],
    },
    // Shared schemas appear in components under the names they are referenced by.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(async (scope) => {
    // The docs plugin declares its own routes: documentation is public.
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object | undefined), policy: { roles: 'public' } } as typeof route.config;
    });
    await scope.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: DOCS_CSP, uiConfig: { deepLinking: true } });
  });

  await app.register(authRoutes, { deps, ...(opts.loginLimits ? { limits: opts.loginLimits } : {}) });
  await app.register(usersRoutes, { deps });
  await app.register(auditRoutes, { deps });

  await app.register(booksRoutes, { deps });
  await app.register(pagesRoutes, { deps });
  await app.register(downloadsRoutes, { deps });
  await app.register(packageRoutes, { deps });
  await app.register(retentionRoutes, { deps });
  await app.register(opsRoutes, { deps });
  await app.register(searchRoutes, { deps });
  await app.register(entriesRoutes, { deps });
  await app.register(recordsRoutes, { deps });
  await app.register(keyingRoutes, { deps });
  await app.register(extractsRoutes, { deps });
  await app.register(eventsRoutes, { deps });
  await app.register(reviewRoutes, { deps });
  await app.register(imagesRoutes, { deps });
  await app.register(iiifImageRoutes, { deps });
  await app.register(iiifPresentationRoutes, { deps });
  await app.register(webRoutes, { deps });
  await app.ready();
  return app;
}

/** What a request log line says about the request: no query string, no headers (either may hold personal data). */
function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, path: req.url.split('?')[0], remoteAddress: req.ip };
}

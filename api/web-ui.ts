import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyContextConfig, FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { AppDeps } from '../app/deps.ts';
import { uiApiRoutes } from './routes/ui.route.ts';

/** Where the web interface is served. */
export const UI_PREFIX = '/ui/';

/** The folder `npm run build:web` writes. */
export const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

// The UI loads only its own bundled scripts and styles; images come from the API as blob: URLs
// (so restricted reads can carry x-access-purpose). No inline script, no frames, no other origin.
/** Content-Security-Policy of the web interface's files. */
export const UI_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "font-src 'self'",
  "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

// Cast: the access-policy field is declared on FastifyContextConfig by the auth layer.
const PUBLIC = { policy: { roles: 'public' } } as FastifyContextConfig;

/**
 * Serves the built web interface (`web/dist`) at `/ui/` and redirects `/` there, plus the few
 * read-only lists the UI needs (`/ui-api/...`). Without a build, `/ui/` answers 503 saying how to
 * build it, so the API still starts.
 */
export async function webRoutes(app: FastifyInstance, opts: { deps: Pick<AppDeps, 'db'>; root?: string }): Promise<void> {
  await app.register(uiApiRoutes, { deps: opts.deps });
  const root = opts.root ?? WEB_DIST;
  const built = fs.existsSync(`${root}/index.html`);
  const hide = { hide: true } as const;

  app.get('/', { schema: hide, config: PUBLIC }, async (_req, reply) => reply.redirect(UI_PREFIX, 302));

  if (!built) {
    app.get('/ui/*', { schema: hide, config: PUBLIC }, async (_req, reply) =>
      reply.code(503).send({ error: { code: 'ERR_UI_NOT_BUILT', message: 'the web interface is not built: run npm run build:web' } }));
    app.get('/ui', { schema: hide, config: PUBLIC }, async (_req, reply) => reply.redirect(UI_PREFIX, 302));
    return;
  }

  await app.register(async (scope) => {
    // The static plugin declares its own routes; each gets the public policy here, and the UI's CSP
    // is set before the API's onSend hook, which only fills in a CSP when none is set.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, ...PUBLIC };
    });
    scope.addHook('onRequest', async (_req, reply) => {
      reply.header('content-security-policy', UI_CSP);
    });
    await scope.register(fastifyStatic, {
      root,
      prefix: UI_PREFIX,
      prefixAvoidTrailingSlash: false,
      redirect: true,
      wildcard: true,
      index: ['index.html'],
      serve: true,
      decorateReply: false,
      // Hashed asset names never change; index.html must be revalidated to pick up a new build.
      setHeaders: (res, filePath) => {
        res.header('cache-control', filePath.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
      schemaHide: true,
    });
  });
  app.get('/ui', { schema: hide, config: PUBLIC }, async (_req, reply: FastifyReply) => reply.redirect(UI_PREFIX, 302));
}

import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { DASHBOARD_CSP, renderDashboard } from '../dashboard.ts';
import { PROMETHEUS_CONTENT_TYPE, metricsCollector } from '../metrics.ts';
import { errorResponses } from '../schemas.ts';
import { policy } from '../policies.ts';
import { READY_PARTS, checkReadiness } from '../../app/readiness.ts';
import { listRecentFailures } from '../../archive/index.ts';
import { bookTitles } from '../book-titles.store.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'queue' | 'log' | 'ocrChoice'>;

/** Each readiness check gives up after this long: a hung dependency must not hang the probe. */
const READY_TIMEOUT_MS = 3_000;

const readySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: { type: 'object', properties: Object.fromEntries(READY_PARTS.map((p) => [p, { type: 'string', enum: ['ok', 'down'] }])) },
    message: { type: 'string' },
  },
} as const;

/** Operations: liveness, readiness, Prometheus metrics and the queue dashboard. */
export async function opsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const collect = metricsCollector(deps);

  app.get('/health', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness: the process is up',
      description: 'Checks nothing else; use /ready to know whether the archive can serve. `ocr` names the OCR engine this configuration runs (native Tesseract or tesseract.js), not its version: the probe is public.',
      response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, ocr: { type: 'string', enum: ['native', 'wasm'] } } } },
    },
    config: policy('public'),
    handler: async () => ({ status: 'ok' as const, ocr: deps.ocrChoice.kind }),
  });

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: database, object store and queue are reachable',
      response: { 200: readySchema, 503: readySchema },
    },
    // A probe for orchestrators: it says up or down, never why.
    config: policy('public'),
    handler: async (req, reply) => {
      const checks = await checkReadiness(deps, {
        timeoutMs: READY_TIMEOUT_MS,
        // The cause goes to the log, not to whoever can reach the probe.
        onDown: (part, err) => req.log.warn({ err, part }, 'readiness check failed'),
      });
      const down = READY_PARTS.filter((p) => checks[p] === 'down');
      if (down.length === 0) return { status: 'ready', checks };
      return reply.code(503).send({ status: 'not ready', checks, message: `down: ${down.join(', ')}` });
    },
  });

  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Metrics in the Prometheus text format',
      description: 'arkiva_queue_jobs{job,state}, arkiva_pages_total{status}, arkiva_books_total{status}, arkiva_pages_archived_last_hour, arkiva_pages_per_minute (10-minute average), arkiva_page_failures_total, arkiva_metrics_source_up{source}.',
      produces: ['text/plain'],
      response: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
    },
    config: policy(['digitiser', 'admin']),
    handler: async (_req, reply) => reply.header('cache-control', 'no-store').type(PROMETHEUS_CONTENT_TYPE).send(await collect()),
  });

  app.get<{ Querystring: { limit: number } }>('/processing', {
    schema: {
      tags: ['operations'],
      summary: 'Processing across books, for the web interface: jobs per stage and state, and the newest failures recorded (each with its book\'s title, page, stage and reason)',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            queues: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } } },
            failures: { type: 'array', items: { type: 'object', additionalProperties: true, properties: { bookId: { type: ['string', 'null'] }, sequence: { type: ['integer', 'null'] }, stage: { type: 'string' }, reason: { type: ['string', 'null'] }, occurredAt: { type: 'string', format: 'date-time' } } } },
          },
        },
        ...errorResponses,
      },
    },
    config: policy(['digitiser', 'admin']),
    handler: async (req) => {
      const [queues, failures] = await Promise.all([deps.queue.counts(), listRecentFailures(deps.db, req.query.limit)]);
      const titles = await bookTitles(deps.db, failures.flatMap((f) => (f.bookId ? [f.bookId] : [])));
      return { queues, failures: failures.map((f) => ({ ...f, book: f.bookId ? (titles.get(f.bookId) ?? null) : null })) };
    },
  });

  app.get('/queues', {
    schema: {
      tags: ['operations'],
      summary: 'Operator dashboard (HTML): queue depths, failed jobs with reasons, books in progress',
      produces: ['text/html'],
      response: { 200: { description: 'A self-contained page that reloads itself', content: { 'text/html': { schema: { type: 'string' } } } }, ...errorResponses },
    },
    config: policy(['digitiser', 'admin']),
    handler: async (_req, reply) =>
      reply
        .header('content-security-policy', DASHBOARD_CSP)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(await renderDashboard(deps)),
  });
}

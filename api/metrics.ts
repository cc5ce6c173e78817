import type { AppDeps } from '../app/deps.ts';
import { JOBS } from '../pipeline/index.ts';
import { archiveStats, type ArchiveStats } from '../archive/index.ts';
import { BOOK_STATUSES, PAGE_STATUSES } from './schemas.ts';

type Deps = Pick<AppDeps, 'db' | 'queue' | 'log'>;

/** The media type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;

// Several scrapers (or a short scrape interval) must not turn into several scans of the page and
// event tables: the database part is shared for a few seconds.
const DB_STATS_TTL_MS = 5_000;

/** One metric family: its samples with labels. */
interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: { labels?: Record<string, string>; value: number }[];
}

/** Renders metric families in the Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels ? Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') : '';
      out.push(`${f.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Collects the archive's metrics: queue depths per job and state, pages and books per status,
 * recent throughput and page failures. A part that cannot be read is reported as down
 * (`arkiva_metrics_source_up`) instead of failing the whole scrape.
 */
export function metricsCollector(deps: Deps): () => Promise<string> {
  let cached: { at: number; stats: Promise<ArchiveStats> } | undefined;
  const dbStats = (): Promise<ArchiveStats> => {
    const now = Date.now();
    if (!cached || now - cached.at > DB_STATS_TTL_MS) {
      const stats = archiveStats(deps.db);
      cached = { at: now, stats };
      // A failed read must not be served from the cache to the next scrape.
      stats.catch(() => { if (cached?.stats === stats) cached = undefined; });
    }
    return cached.stats;
  };

  return async () => {
    const [queue, db] = await Promise.allSettled([deps.queue.counts(), dbStats()]);
    const families: Family[] = [];
    const up: Family = { name: 'arkiva_metrics_source_up', help: 'Whether the metrics of a source could be read (1) or not (0).', type: 'gauge', samples: [] };

    up.samples.push({ labels: { source: 'queue' }, value: queue.status === 'fulfilled' ? 1 : 0 });
    if (queue.status === 'fulfilled') {
      const names = [...new Set([...Object.keys(JOBS), ...Object.keys(queue.value)])].sort();
      families.push({
        name: 'arkiva_queue_jobs',
        help: 'Jobs in the work queue by job name and state.',
        type: 'gauge',
        samples: names.flatMap((job) => QUEUE_STATES.map((state) => ({ labels: { job, state }, value: queue.value[job]?.[state] ?? 0 }))),
      });
    } else {
      deps.log.warn({ err: queue.reason }, 'metrics: queue counts unavailable');
    }

    up.samples.push({ labels: { source: 'database' }, value: db.status === 'fulfilled' ? 1 : 0 });
    if (db.status === 'fulfilled') {
      const s = db.value;
      families.push(
        {
          name: 'arkiva_pages_total',
          help: 'Pages in the archive by status.',
          type: 'gauge',
          samples: statusSamples(PAGE_STATUSES, s.pagesByStatus),
        },
        {
          name: 'arkiva_books_total',
          help: 'Books in the archive by status.',
          type: 'gauge',
          samples: statusSamples(BOOK_STATUSES, s.booksByStatus),
        },
        {
          name: 'arkiva_pages_archived_last_hour',
          help: 'Pages that finished every stage in the last hour.',
          type: 'gauge',
          samples: [{ value: s.pagesArchivedLastHour }],
        },
        {
          name: 'arkiva_pages_per_minute',
          help: 'Pages archived per minute, averaged over the last 10 minutes.',
          type: 'gauge',
          samples: [{ value: Math.round((s.pagesArchivedLast10Minutes / 10) * 100) / 100 }],
        },
        {
          name: 'arkiva_page_failures_total',
          help: 'Page stage failures recorded since the archive began (final failures, as processing events).',
          type: 'counter',
          samples: [{ value: s.pageFailureEvents }],
        },
      );
    } else {
      deps.log.warn({ err: db.reason }, 'metrics: database statistics unavailable');
    }
    families.push(up);
    return renderPrometheus(families);
  };
}

function statusSamples(known: readonly string[], counts: Record<string, number>): Family['samples'] {
  const statuses = [...new Set([...known, ...Object.keys(counts)])];
  return statuses.map((status) => ({ labels: { status }, value: counts[status] ?? 0 }));
}

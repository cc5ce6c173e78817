import { createHash } from 'node:crypto';
import type { AppDeps } from '../app/deps.ts';
import { listBooks, type Book } from '../archive/index.ts';
import type { FailedJob, QueueCounts } from '../queue/index.ts';
import { JOBS, type JobName } from '../pipeline/index.ts';

type Deps = Pick<AppDeps, 'db' | 'queue' | 'log'>;

/** Seconds between the dashboard's reloads. */
export const DASHBOARD_REFRESH_SECONDS = 10;

const FAILED_PER_JOB = 20;
const IN_PROGRESS_STATUSES = ['received', 'splitting', 'processing'] as const;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
.meta{color:#666;font-size:.85rem}
table{border-collapse:collapse;background:#fff;min-width:40rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#a40000;font-weight:600}.none{color:#666;font-style:italic}
code{font-size:.85em}.reason{max-width:48rem;word-break:break-word}
`;

/**
 * The dashboard's Content-Security-Policy: no scripts, no external anything; its one inline
 * stylesheet is allowed by hash. Reloading is a meta refresh, which needs no script.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What the dashboard shows; gathered separately so a broken part shows as such. */
interface DashboardData {
  counts: QueueCounts | Error;
  failed: { name: JobName; jobs: FailedJob[] | Error }[];
  books: Book[] | Error;
  generatedAt: Date;
}

/** Gathers queue depths, failed jobs and books in progress, and renders the operator page. */
export async function renderDashboard(deps: Deps): Promise<string> {
  const names = Object.keys(JOBS) as JobName[];
  const settle = async <T>(p: Promise<T>, what: string): Promise<T | Error> =>
    p.catch((e: unknown) => {
      deps.log.warn({ err: e }, `dashboard: ${what} unavailable`);
      return new Error(`${what} unavailable`);
    });
  const [counts, failed, books] = await Promise.all([
    settle(deps.queue.counts(), 'queue counts'),
    Promise.all(names.map(async (name) => ({ name, jobs: await settle(deps.queue.failed(name, FAILED_PER_JOB), `failed ${name} jobs`) }))),
    settle(
      Promise.all(IN_PROGRESS_STATUSES.map((status) => listBooks(deps.db, { status, limit: 100 }))).then((lists) =>
        lists.flat().sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()),
      ),
      'books in progress',
    ),
  ]);
  return dashboardHtml({ counts, failed, books, generatedAt: new Date() });
}

/** Renders the dashboard page: self-contained, every value escaped. */
export function dashboardHtml(d: DashboardData): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${DASHBOARD_REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Arkiva queues</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Arkiva queues</h1>
<p class="meta">Generated ${esc(d.generatedAt.toISOString())}; reloads every ${DASHBOARD_REFRESH_SECONDS} s. Metrics for monitoring: <a href="/metrics">/metrics</a>; API: <a href="/docs">/docs</a>.</p>
<h2>Queue depth</h2>
${queueTable(d.counts)}
<h2>Books in progress</h2>
${booksTable(d.books)}
<h2>Failed jobs</h2>
${d.failed.map((f) => failedTable(f.name, f.jobs)).join('\n')}
</body>
</html>
`;
}

function queueTable(counts: QueueCounts | Error): string {
  if (counts instanceof Error) return `<p class="bad">${esc(counts.message)}</p>`;
  const names = [...new Set([...Object.keys(JOBS), ...Object.keys(counts)])].sort();
  const rows = names.map((name) => {
    const c = counts[name] ?? { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
    return `<tr><td><code>${esc(name)}</code></td><td class="n">${c.waiting}</td><td class="n">${c.active}</td><td class="n">${c.delayed}</td><td class="n${c.failed > 0 ? ' bad' : ''}">${c.failed}</td><td class="n">${c.completed}</td></tr>`;
  });
  return `<table><thead><tr><th>Job</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th><th>Completed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function booksTable(books: Book[] | Error): string {
  if (books instanceof Error) return `<p class="bad">${esc(books.message)}</p>`;
  if (books.length === 0) return '<p class="none">No book is being processed.</p>';
  const rows = books.map((b) => {
    const years = b.yearFrom === b.yearTo ? `${b.yearFrom}` : `${b.yearFrom}-${b.yearTo}`;
    return `<tr><td><a href="/books/${esc(b.id)}"><code>${esc(b.id)}</code></a></td><td>${esc(b.registerType)}</td><td>${esc(b.municipality)}</td><td>${esc(years)}</td><td>${esc(b.status)}</td><td class="n">${b.pagesDone} / ${b.pageCount || '?'}</td><td class="n${b.pagesFailed > 0 ? ' bad' : ''}">${b.pagesFailed}</td><td>${esc(b.createdAt.toISOString())}</td></tr>`;
  });
  return `<table><thead><tr><th>Book</th><th>Register</th><th>Municipality</th><th>Years</th><th>Status</th><th>Pages done</th><th>Failed</th><th>Received</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function failedTable(name: string, jobs: FailedJob[] | Error): string {
  const title = `<h3><code>${esc(name)}</code></h3>`;
  if (jobs instanceof Error) return `${title}<p class="bad">${esc(jobs.message)}</p>`;
  if (jobs.length === 0) return `${title}<p class="none">None.</p>`;
  const rows = jobs.map((j) => {
    // Job data holds ids only; show those and nothing else that might be added to it later.
    const data = (j.data ?? {}) as Record<string, unknown>;
    const ids = ['bookId', 'pageId', 'revision'].filter((k) => typeof data[k] === 'string' || typeof data[k] === 'number').map((k) => `${k} ${String(data[k])}`);
    return `<tr><td><code>${esc(j.jobId)}</code></td><td><code>${esc(ids.join(', '))}</code></td><td class="n">${j.attempts}</td><td class="reason">${esc(j.reason.slice(0, 500))}</td></tr>`;
  });
  return `${title}<table><thead><tr><th>Job id</th><th>Data</th><th>Attempts</th><th>Reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../common/index.ts';
import { BOOK_OCR_PROFILES, DEFAULT_BOOK_LANGUAGES, DEFAULT_OCR_PROFILE, getBook, listPages, type Book, type RegisterType } from '../archive/index.ts';
import { folderPages, ingestBook, isBookOcrProfile, parseYears, replacePage, retryPages } from '../ingest/index.ts';
import { startWorkers, resumeUnfinished } from '../workers/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { actorOf } from './attribution.ts';
import { waitForBook } from './wait.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function bookIdArg(v: string | undefined): string {
  if (!v || !UUID_RE.test(v)) throw new UsageError('a book id (uuid) is required');
  return v.toLowerCase();
}

/**
 * With the in-process queue, nothing runs the jobs once this process exits, so commands that queue
 * work also process it here and wait.
 */
async function runEmbeddedWorkers(deps: AppDeps): Promise<{ close(): Promise<void> } | undefined> {
  if (deps.queue.kind !== 'memory') return undefined;
  const handle = await startWorkers(deps);
  await resumeUnfinished(deps);
  return handle;
}

function printBook(ctx: CommandContext, book: Book, extra: Record<string, unknown> = {}): void {
  if (ctx.json) {
    ctx.out(JSON.stringify({ book, ...extra }));
    return;
  }
  ctx.out(`book ${book.id}`);
  ctx.out(`  ${book.registerType} register, ${book.municipality}, ${book.yearFrom}${book.yearTo !== book.yearFrom ? `-${book.yearTo}` : ''}${book.volume ? `, volume ${book.volume}` : ''}`);
  ctx.out(`  OCR languages ${book.languages}, profile ${book.ocrProfile}`);
  ctx.out(`  status ${book.status}; pages ${book.pageCount} (done ${book.pagesDone}, failed ${book.pagesFailed})`);
  if (book.failureReason) ctx.out(`  failure: ${book.failureReason}`);
  const s = book.summary;
  if (s) {
    ctx.out(`  mean OCR confidence ${s.meanOcrConfidence?.toFixed(1) ?? 'n/a'}; ${s.processingSeconds} s; ${s.pagesPerMinute ?? 'n/a'} pages/min`);
    for (const f of s.failures) ctx.out(`  page ${f.sequence} failed: ${f.reason}`);
  }
}

/** `arkiva ingest` */
export async function runIngest(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, {
    type: { type: 'string' }, municipality: { type: 'string' }, year: { type: 'string' }, volume: { type: 'string' },
    lang: { type: 'string' }, profile: { type: 'string' }, wait: { type: 'boolean' },
  });
  const target = positionals[0];
  if (!target) throw new UsageError('a file or folder to ingest is required');
  if (!values.type || !values.municipality || !values.year) throw new UsageError('--type, --municipality and --year are required');
  const ocrProfile = values.profile ?? DEFAULT_OCR_PROFILE;
  if (!isBookOcrProfile(ocrProfile)) throw new UsageError(`--profile must be ${BOOK_OCR_PROFILES.join('|')}, got "${ocrProfile.slice(0, 40)}"`);
  const stat = await fs.promises.stat(target).catch(() => undefined);
  if (!stat) throw new AppError('ERR_VALIDATION', `no such file or folder: ${path.basename(target)}`);
  // Checksum lists, notes and the like beside the scans are not pages: said here, left out by ingest.
  const skipped = stat.isDirectory() ? (await folderPages(target)).skipped : [];
  if (!ctx.json) for (const f of skipped) process.stderr.write(`skipped ${f.name}: ${f.reason}\n`);
  const deps = await ctx.open();
  try {
    const embedded = await runEmbeddedWorkers(deps);
    const { book, duplicate } = await ingestBook(
      deps,
      stat.isDirectory() ? { kind: 'folder', path: target } : { kind: 'file', path: target },
      { registerType: values.type as RegisterType, municipality: values.municipality, ...parseYears(values.year), volume: values.volume, languages: values.lang ?? DEFAULT_BOOK_LANGUAGES, ocrProfile },
      { createdBy: actorOf(deps).username },
    );
    if (!ctx.json) ctx.out(duplicate ? `${book.id} (already archived: the same bytes were uploaded before)` : book.id);
    let final = book;
    if (values.wait || embedded) final = await waitForBook(deps.db, book.id, { progress: !ctx.json });
    await embedded?.close();
    if (ctx.json) ctx.out(JSON.stringify({ book: final, duplicate, ...(stat.isDirectory() ? { skipped } : {}) }));
    else if (final !== book) printBook(ctx, final);
    return final.status === 'failed' ? 1 : 0;
  } finally {
    await deps.close();
  }
}

/** `arkiva status` */
export async function runStatus(ctx: CommandContext): Promise<number> {
  const { positionals } = parseCommandArgs(ctx.args, {});
  const id = bookIdArg(positionals[0]);
  const deps = await ctx.open({ target: { type: 'book', id } });
  try {
    const book = await getBook(deps.db, id);
    if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${id}`);
    const pages = await listPages(deps.db, id);
    if (ctx.json) {
      ctx.out(JSON.stringify({ book, pages }));
    } else {
      printBook(ctx, book);
      for (const p of pages.filter((p) => p.status === 'failed')) ctx.out(`  page ${p.sequence}: failed at ${p.stage}: ${p.failureReason}`);
    }
    return 0;
  } finally {
    await deps.close();
  }
}

/** `arkiva retry` */
export async function runRetry(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { pages: { type: 'string' }, wait: { type: 'boolean' } });
  const id = bookIdArg(positionals[0]);
  const sequences = values.pages?.split(',').map((s) => Number(s.trim()));
  if (sequences?.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError('--pages must be page numbers separated by commas');
  const deps = await ctx.open({ target: { type: 'book', id } });
  try {
    const embedded = await runEmbeddedWorkers(deps);
    const pages = await retryPages(deps, id, sequences);
    if (!ctx.json) ctx.out(`${pages.length} page(s) queued again`);
    const book = values.wait || embedded ? await waitForBook(deps.db, id, { progress: !ctx.json }) : await getBook(deps.db, id);
    await embedded?.close();
    if (ctx.json) ctx.out(JSON.stringify({ retried: pages.map((p) => p.sequence), book }));
    else if (book && (values.wait || embedded)) printBook(ctx, book);
    return 0;
  } finally {
    await deps.close();
  }
}

/** `arkiva replace` */
export async function runReplace(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { wait: { type: 'boolean' } });
  const id = bookIdArg(positionals[0]);
  const sequence = Number(positionals[1]);
  if (!Number.isInteger(sequence) || sequence < 1) throw new UsageError('a page number is required');
  const file = positionals[2];
  if (!file) throw new UsageError('the image of the rescanned page is required');
  const deps = await ctx.open({ target: { type: 'book', id }, detail: { page: sequence } });
  try {
    const embedded = await runEmbeddedWorkers(deps);
    const page = await replacePage(deps, id, sequence, fs.createReadStream(file), { replacedBy: actorOf(deps).username });
    if (!ctx.json) ctx.out(`page ${page.sequence} replaced (revision ${page.revision})`);
    const book = values.wait || embedded ? await waitForBook(deps.db, id, { progress: !ctx.json }) : await getBook(deps.db, id);
    await embedded?.close();
    if (ctx.json) ctx.out(JSON.stringify({ page, book }));
    return 0;
  } finally {
    await deps.close();
  }
}

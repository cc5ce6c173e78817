import { BOOTSTRAP_ACTOR, restoreAdminPassword } from '../auth/index.ts';
import { appendInTransaction } from '../audit/index.ts';
import { rebuildCatalogue, type RebuildReport } from '../catalogue/rebuild.ts';
import { progressBar } from './progress.ts';
import { UsageError, type CommandContext } from './command.ts';
import { readPassword } from './prompt.ts';

/**
 * `arkiva catalogue rebuild [--json]`: recreates the catalogue from the object store into an empty
 * database (catalogue/rebuild.ts), with a progress bar on a terminal; run again after a crash or an
 * interrupt, it finishes the rebuild it started. Exit 0 when everything in the store was placed,
 * 1 when something was not (listed), or when the database already holds another catalogue.
 * `--empty-queue` empties the job queue first (stop the workers before): jobs from before the loss
 * would fail pages the rebuild queues again, so a queue holding work is refused without it.
 * With `--admin NAME` that rebuilt admin gets a password again (asked on the terminal, or
 * ARKIVA_PASSWORD): the store keeps no credentials, so without it no one could sign in.
 */
export async function runRebuild(ctx: CommandContext, opts: { admin?: string; emptyQueue?: boolean } = {}): Promise<number> {
  // Asked before the rebuild, which can take an hour: the operator is at the terminal now.
  const password = opts.admin !== undefined ? (ctx.config.cli.password ?? (await readPassword(`new password for the rebuilt admin ${opts.admin}: `))) : undefined;
  if (opts.admin !== undefined && !password) throw new UsageError('give the admin\'s new password on the terminal or in ARKIVA_PASSWORD');
  const deps = await ctx.open({ subcommand: 'rebuild' });
  const bar = progressBar('rebuilding the catalogue', { json: ctx.json });
  const stop = new AbortController();
  // Ctrl-C stops between two books, so the next run resumes without redoing one in flight.
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  let report: RebuildReport;
  try {
    report = await rebuildCatalogue(deps, {
      signal: stop.signal,
      emptyQueue: opts.emptyQueue ?? false,
      onProgress: (p) => bar?.update(p.booksDone, Math.max(p.booksTotal, p.booksDone), `${p.phase}, ${p.pagesDone} pages`),
    });
    if (opts.admin !== undefined && password) {
      const admin = opts.admin;
      await restoreAdminPassword(deps.db, { username: admin, password }, async (tx, user) => {
        await appendInTransaction(tx, {
          actor: BOOTSTRAP_ACTOR, action: 'user.password.restore', targetType: 'user', targetId: user.username, from: 'cli', outcome: 'ok',
          detail: { command: 'catalogue rebuild', reason: 'the rebuilt catalogue keeps no credentials' },
        });
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    bar?.end();
    await deps.close();
  }
  if (ctx.json) {
    ctx.out(JSON.stringify(report));
  } else {
    ctx.out(`catalogue ${report.resumed ? 'rebuild resumed and finished' : 'rebuilt'} in ${report.seconds} s: ${report.books} book(s), ${report.pages} page(s) (${report.pagesIndexed} indexed again from their OCR this run), ${report.disposed} disposed book(s) kept as tombstones, ${report.registryRecords} registry record(s), ${report.holds} hold(s), ${report.auditEvents} audit event(s)`);
    ctx.out(`queued again: ${report.requeued.pages} page(s) of ${report.requeued.books} unfinished book(s); retention is recomputed by the next retention.stale run`);
    ctx.out(opts.admin !== undefined
      ? `users and roles are back without passwords or API tokens (the store keeps no credentials); ${opts.admin} signs in with the new password and re-secures the others`
      : 'users and roles are back without passwords or API tokens (the store keeps no credentials): run `arkiva catalogue rebuild --admin NAME` again to give one admin a password');
    if (report.unplacedCount === 0) ctx.out('everything in the store was placed');
    else {
      ctx.out(`${report.unplacedCount} thing(s) in the store could not be placed${report.unplacedCount > report.unplaced.length ? ` (the first ${report.unplaced.length} listed)` : ''}:`);
      for (const u of report.unplaced) ctx.out(`  ${u.key}: ${u.reason}`);
    }
  }
  return report.unplacedCount === 0 ? 0 : 1;
}

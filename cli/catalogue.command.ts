import { checkCatalogue, writeCatalogue } from '../catalogue/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { runRebuild } from './catalogue-rebuild.command.ts';

/**
 * `arkiva catalogue write [--all]`: writes the catalogue objects the archive changed since the last
 * write (all of them with --all) and the audit events not yet in a segment; exit 1 when one could
 * not be written. `arkiva catalogue check [--skip-objects]`: lists every difference between the
 * database and the store; exit 0 when equal, 1 with differences.
 *
 * No sign-in, as `resume` and `check`: these are operations of the system (a rebuild runs on a
 * database with no users), they print identifiers and counts, never a book's content.
 */
export async function runCatalogueCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { all: { type: 'boolean' }, 'skip-objects': { type: 'boolean' }, admin: { type: 'string' }, 'empty-queue': { type: 'boolean' } });
  const sub = positionals[0];
  if (sub === 'rebuild') {
    if (values.all || values['skip-objects'] || positionals.length > 1) throw new UsageError('catalogue rebuild takes no arguments but --admin NAME, --empty-queue and --json');
    return runRebuild(ctx, { ...(values.admin !== undefined ? { admin: values.admin } : {}), emptyQueue: values['empty-queue'] ?? false });
  }
  if (values.admin !== undefined || values['empty-queue']) throw new UsageError('--admin and --empty-queue belong to catalogue rebuild');
  if (sub !== 'write' && sub !== 'check') throw new UsageError('a subcommand is required: write, check or rebuild');
  if (values.all && sub !== 'write') throw new UsageError('--all belongs to catalogue write');
  if (values['skip-objects'] && sub !== 'check') throw new UsageError('--skip-objects belongs to catalogue check');
  const deps = await ctx.open({ subcommand: sub });
  try {
    if (sub === 'write') {
      const r = await writeCatalogue(deps, { all: !!values.all, flushAudit: true });
      if (ctx.json) ctx.out(JSON.stringify(r));
      else {
        ctx.out(`catalogue written: ${r.written.length} new version(s), ${r.unchanged} unchanged, ${r.removed.length} disposed book folder(s) removed, ${r.audit.segments.length} audit segment(s) (store holds events up to ${r.audit.lastSeq})`);
        if (r.busy) ctx.out(`${r.busy} object(s) were being written by another process`);
        for (const f of r.failed) ctx.out(`NOT WRITTEN ${f.kind} ${f.scope || '-'}: ${f.error}`);
      }
      return r.failed.length ? 1 : 0;
    }
    const r = await checkCatalogue(deps, { skipObjects: !!values['skip-objects'] });
    if (ctx.json) ctx.out(JSON.stringify(r));
    else {
      ctx.out(`${r.books.database} book(s) in the database, ${r.books.store} in the store; ${r.objects} catalogue object(s); ${r.storedObjectsChecked} stored object(s) checked; audit events ${r.auditEvents.database} in the database, ${r.auditEvents.store} in segments`);
      if (r.equal) ctx.out('the store holds the catalogue: no difference');
      else {
        ctx.out(`${r.differences.length} difference(s):`);
        for (const d of r.differences) ctx.out(`  ${d.type}: ${d.detail}`);
      }
    }
    return r.equal ? 0 : 1;
  } finally {
    await deps.close();
  }
}

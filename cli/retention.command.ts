import { auditFixity, decideBatch, executeBatch, getDisposalRecord, listDue, proposeBatch, recomputeAll, syncObjectLocks, verifyCertificate } from '../retention/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './main.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidArg(v: string | undefined, what: string): string {
  if (!v || !UUID_RE.test(v)) throw new UsageError(`${what} must be a UUID`);
  return v.toLowerCase();
}

/**
 * `arkiva retention run|due|reconcile`: recompute every item and extend locks, list due items, or
 * compare Object Lock state with the database (`--repair` fixes it). Exit 1 when reconcile finds drift it did not repair.
 */
export async function runRetention(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { repair: { type: 'boolean' } });
  const sub = positionals[0];
  const deps = await ctx.open();
  try {
    if (sub === 'run') {
      const n = await recomputeAll(deps.db, 'arkiva retention run');
      const lock = await syncObjectLocks(deps, { repair: true });
      const due = await listDue(deps.db);
      if (ctx.json) ctx.out(JSON.stringify({ recomputed: n, lock, due }));
      else {
        ctx.out(`recomputed ${n} book(s); object lock: ${lock.objects} object version(s), ${lock.drift.length} drift(s) (${lock.drift.filter((d) => d.repaired).length} repaired)`);
        for (const d of due) ctx.out(`  due ${d.retainUntil} ${d.action.padEnd(8)} ${d.bookId}${d.blockedBy.length ? `  BLOCKED by ${d.blockedBy.join(', ')}` : ''}`);
      }
      return 0;
    }
    if (sub === 'due') {
      const due = await listDue(deps.db);
      if (ctx.json) ctx.out(JSON.stringify({ due }));
      else for (const d of due) ctx.out(`${d.retainUntil} ${d.action.padEnd(8)} ${d.bookId}${d.blockedBy.length ? `  BLOCKED by ${d.blockedBy.join(', ')}` : ''}  ${d.explanation}`);
      return 0;
    }
    if (sub === 'reconcile') {
      const r = await syncObjectLocks(deps, { repair: values.repair ?? false });
      if (ctx.json) ctx.out(JSON.stringify(r));
      else {
        ctx.out(`${r.objects} object version(s), ${r.drift.length} drift(s)${r.objectLock ? '' : ' (the store has no Object Lock)'}`);
        for (const d of r.drift) ctx.out(`  ${d.kind.padEnd(18)} ${d.key}${d.versionId ? `@${d.versionId}` : ''} expected ${d.expected ?? '-'} actual ${d.actual ?? '-'}${d.repaired ? ' (repaired)' : ''}`);
      }
      return r.drift.some((d) => !d.repaired && d.kind !== 'retention-later') ? 1 : 0;
    }
    throw new UsageError('expected run, due or reconcile');
  } finally {
    await deps.close();
  }
}

/** `arkiva disposal propose|approve|reject|execute|certificate`. Exit 1 when a certificate does not verify. */
export async function runDisposal(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { by: { type: 'string' }, note: { type: 'string' } });
  const [sub, ...rest] = positionals;
  const deps = await ctx.open();
  try {
    const print = (v: unknown) => ctx.out(JSON.stringify(v, null, ctx.json ? undefined : 2));
    switch (sub) {
      case 'propose':
        if (!values.by) throw new UsageError('--by NAME is required');
        print(await proposeBatch(deps, { bookIds: rest.map((r) => uuidArg(r, 'a book id')), by: values.by, ...(values.note ? { note: values.note } : {}) }));
        return 0;
      case 'approve':
      case 'reject':
        if (!values.by) throw new UsageError('--by NAME is required');
        print(await decideBatch(deps, uuidArg(rest[0], 'the batch id'), sub, { user: values.by, ...(values.note ? { note: values.note } : {}) }));
        return 0;
      case 'execute': {
        const r = await executeBatch(deps, uuidArg(rest[0], 'the batch id'));
        print(r);
        return r.failed.length ? 1 : 0;
      }
      case 'certificate': {
        const r = await getDisposalRecord(deps.db, uuidArg(rest[0], 'the book id'));
        const valid = r.certificate ? verifyCertificate(r.certificate) : false;
        print({ ...r, certificateValid: valid });
        return valid ? 0 : 1;
      }
      default:
        throw new UsageError('expected propose, approve, reject, execute or certificate');
    }
  } finally {
    await deps.close();
  }
}

/** `arkiva fixity [--book id] [--all]`: audits now; exit 1 when an object is damaged or missing. */
export async function runFixity(ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(ctx.args, { book: { type: 'string' }, all: { type: 'boolean' } });
  const bookId = values.book !== undefined ? uuidArg(values.book, '--book') : undefined;
  const deps = await ctx.open();
  try {
    const r = await auditFixity(deps, { ...(bookId ? { bookId } : {}), all: values.all ?? false });
    if (ctx.json) ctx.out(JSON.stringify(r));
    else {
      ctx.out(`fixity run ${r.runId}: ${r.checked} object(s) checked, ${r.ok} ok, ${r.problems.length} problem(s)`);
      for (const p of r.problems) ctx.out(`  ${p.outcome.padEnd(8)} ${p.key}${p.versionId ? `@${p.versionId}` : ''} (book ${p.bookId}): ${p.detail}`);
    }
    return r.problems.length ? 1 : 0;
  } finally {
    await deps.close();
  }
}

import fs from 'node:fs';
import {
  auditFixity, certificatePdf, decideBatch, describeIntrusion, executeBatch, executeBatchBypassingGovernance, getDisposalRecord, listDue, listHolds, listRules, placeHold, placeHoldOnSearch,
  proposeBatch, recomputeAll, recomputeStale, releaseHold, saveRuleAndRecompute, syncObjectLocks, verifyCertificate, type LegalHold, type RuleInput,
} from '../retention/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { actorOf, listingReader } from './attribution.ts';
import { booksWithheld } from '../auth/index.ts';
import { progressBar } from './progress.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidArg(v: string | undefined, what: string): string {
  if (!v || !UUID_RE.test(v)) throw new UsageError(`${what} must be a UUID`);
  return v.toLowerCase();
}

function describeHold(h: LegalHold): string {
  const q = h.query ? ` from search "${h.query.search.q}" (${h.query.scope}, ${h.query.matchedPages} page(s))` : '';
  return `${h.id} ${h.name}${h.releasedAt ? ' (released)' : ''}: ${h.items.length} item(s)${q}; ${h.authority}: ${h.reason}`;
}

/**
 * `arkiva retention run|stale|due|reconcile|rules|holds|hold|release`: recompute every item (or the
 * stale ones) and extend locks, list due items, compare Object Lock state with the database
 * (`--repair` fixes it), list rules and holds, place a hold on books, pages or the results of a
 * search, release one. Exit 1 when reconcile finds drift it did not repair.
 */
export async function runRetention(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, {
    repair: { type: 'boolean' }, name: { type: 'string' }, reason: { type: 'string' }, authority: { type: 'string' },
    book: { type: 'string', multiple: true }, page: { type: 'string', multiple: true }, search: { type: 'string' }, scope: { type: 'string' },
    municipality: { type: 'string' }, all: { type: 'boolean' }, file: { type: 'string' },
  });
  const sub = positionals[0];
  const deps = await ctx.open({ subcommand: sub });
  try {
    // Who acts is the signed-in user (there is no --by: nobody acts in another's name).
    const by = actorOf(deps).username;
    if (sub === 'rule') {
      const key = positionals[1];
      if (!key || !values.file || !values.reason) throw new UsageError('a rule key, --file RULE.json and --reason are required');
      let input: RuleInput;
      try {
        input = JSON.parse(await fs.promises.readFile(values.file, 'utf8')) as RuleInput;
      } catch (e) {
        throw new UsageError(`${values.file} is not a readable JSON rule: ${(e as Error).message}`);
      }
      const r = await saveRuleAndRecompute(deps.db, key, input, { user: by, reason: values.reason });
      const lock = r.recomputed.length ? await syncObjectLocks(deps, { bookIds: r.recomputed, repair: true }) : undefined;
      if (ctx.json) ctx.out(JSON.stringify({ ...r, lock }));
      else ctx.out(`rule ${r.rule.ruleKey} v${r.rule.version} saved; ${r.recomputed.length} book(s) recomputed`);
      return 0;
    }
    if (sub === 'stale') {
      const ids = await recomputeStale(deps.db);
      const lock = ids.length ? await syncObjectLocks(deps, { bookIds: ids, repair: true }) : undefined;
      if (ctx.json) ctx.out(JSON.stringify({ recomputed: ids, lock }));
      else ctx.out(`recomputed ${ids.length} book(s) whose registry links or linked events changed`);
      return 0;
    }
    if (sub === 'rules') {
      const rules = await listRules(deps.db);
      if (ctx.json) ctx.out(JSON.stringify({ rules }));
      else for (const r of rules) ctx.out(`${r.ruleKey} v${r.version} ${r.kind} ${r.registerType}${r.municipality ? `/${r.municipality}` : ''}: ${r.name}`);
      return 0;
    }
    if (sub === 'holds') {
      const holds = await listHolds(deps.db, { all: values.all ?? false });
      if (ctx.json) ctx.out(JSON.stringify({ holds }));
      else for (const h of holds) ctx.out(describeHold(h));
      return 0;
    }
    if (sub === 'hold') {
      if (!values.name || !values.reason || !values.authority) throw new UsageError('--name, --reason and --authority are required');
      const base = { name: values.name, reason: values.reason, authority: values.authority, by };
      let hold: LegalHold;
      if (values.search !== undefined) {
        const scope = values.scope ?? 'pages';
        if (scope !== 'pages' && scope !== 'books') throw new UsageError('--scope is pages or books');
        // As POST /retention/holds/search: closed books' pages only with a stated purpose (--purpose), kept with the hold.
        const reader = listingReader(deps);
        const r = await placeHoldOnSearch(deps, {
          ...base, scope, search: { q: values.search, ...(values.municipality ? { municipality: values.municipality } : {}) },
          purpose: deps.purpose, withhold: (ids) => booksWithheld(deps.db, reader, ids),
        });
        hold = r.hold;
        if (r.withheld > 0 && !ctx.json) ctx.out(`${r.withheld} page(s) of closed books left out of the hold (state why they must be held with --purpose TEXT)`);
      } else {
        const books = (values.book ?? []).map((b) => uuidArg(b, '--book'));
        const pages = values.page ?? [];
        if (books.length === 0) throw new UsageError('--book ID (with --page PAGE-ID to hold single pages) or --search QUERY is required');
        if (pages.length && books.length !== 1) throw new UsageError('--page needs exactly one --book');
        const items = pages.length ? pages.map((p) => ({ bookId: books[0]!, pageId: uuidArg(p, '--page') })) : books.map((bookId) => ({ bookId }));
        hold = (await placeHold(deps, { ...base, items })).hold;
      }
      if (ctx.json) ctx.out(JSON.stringify({ hold }));
      else ctx.out(`placed ${describeHold(hold)}`);
      return 0;
    }
    if (sub === 'release') {
      if (!values.reason) throw new UsageError('--reason is required');
      const r = await releaseHold(deps, uuidArg(positionals[1], 'the hold id'), { user: by, reason: values.reason });
      if (ctx.json) ctx.out(JSON.stringify(r));
      else ctx.out(`released ${describeHold(r.hold)}`);
      return 0;
    }
    if (sub === 'run') {
      const bar = progressBar('books', { json: ctx.json });
      let n: number;
      try {
        n = await recomputeAll(deps.db, 'arkiva retention run', undefined, (done, total) => bar?.update(done, total));
      } finally {
        bar?.end();
      }
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
    throw new UsageError('expected run, stale, due, reconcile, rules, rule, holds, hold or release');
  } finally {
    await deps.close();
  }
}

/** `arkiva disposal propose|approve|reject|execute [--bypass-governance --reason R]|certificate`. Exit 1 when a certificate does not verify. */
export async function runDisposal(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, {
    note: { type: 'string' }, pdf: { type: 'string' }, 'bypass-governance': { type: 'boolean' }, reason: { type: 'string' },
  });
  const [sub, ...rest] = positionals;
  if (values['bypass-governance'] && (sub !== 'execute' || !values.reason)) throw new UsageError('--bypass-governance goes with execute, and needs --reason R');
  const deps = await ctx.open({ subcommand: sub });
  try {
    // The signed-in user proposes, decides and executes: four eyes are two sign-ins, never two names typed by one person.
    const me = actorOf(deps);
    const print = (v: unknown) => ctx.out(JSON.stringify(v, null, ctx.json ? undefined : 2));
    switch (sub) {
      case 'propose':
        print(await proposeBatch(deps, { bookIds: rest.map((r) => uuidArg(r, 'a book id')), by: me.username, ...(values.note ? { note: values.note } : {}) }));
        return 0;
      case 'approve':
      case 'reject':
        print(await decideBatch(deps, uuidArg(rest[0], 'the batch id'), sub, { user: me.username, ...(values.note ? { note: values.note } : {}) }));
        return 0;
      case 'execute': {
        const batchId = uuidArg(rest[0], 'the batch id');
        const r = values['bypass-governance'] ? await executeBatchBypassingGovernance(deps, batchId, me, { reason: values.reason! }) : await executeBatch(deps, batchId);
        print(r);
        return r.failed.length ? 1 : 0;
      }
      case 'certificate': {
        const r = await getDisposalRecord(deps.db, uuidArg(rest[0], 'the book id'));
        const valid = r.certificate ? verifyCertificate(r.certificate) : false;
        if (values.pdf && r.certificate) await fs.promises.writeFile(values.pdf, await certificatePdf(r));
        print({ ...r, certificateValid: valid, ...(values.pdf && r.certificate ? { pdf: values.pdf } : {}) });
        return valid ? 0 : 1;
      }
      default:
        throw new UsageError('expected propose, approve, reject, execute or certificate');
    }
  } finally {
    await deps.close();
  }
}

/**
 * `arkiva fixity [--book id] [--all] [--repair]`: audits now (restoring damage from good copies with
 * --repair); exit 1 when an object stays damaged or missing, or has an intrusion above it.
 */
export async function runFixity(ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(ctx.args, { book: { type: 'string' }, all: { type: 'boolean' }, repair: { type: 'boolean' } });
  const bookId = values.book !== undefined ? uuidArg(values.book, '--book') : undefined;
  const deps = await ctx.open();
  try {
    const bar = progressBar('objects', { json: ctx.json });
    let r: Awaited<ReturnType<typeof auditFixity>>;
    try {
      r = await auditFixity(deps, { ...(bookId ? { bookId } : {}), all: values.all ?? false }, { repair: values.repair ?? false, onProgress: (done, total) => bar?.update(done, total) });
    } finally {
      bar?.end();
    }
    if (ctx.json) ctx.out(JSON.stringify(r));
    else {
      ctx.out(`fixity run ${r.runId}: ${r.checked} object(s) checked, ${r.ok} ok, ${r.damaged} damaged, ${r.intruded} intruded`);
      for (const p of r.problems) {
        ctx.out(`  ${p.outcome.padEnd(8)} ${p.key}${p.versionId ? `@${p.versionId}` : ''} (book ${p.bookId}): ${p.detail}`);
        for (const i of p.intrusions) ctx.out(`           INTRUSION: ${describeIntrusion(i)}`);
        if (p.repair) ctx.out(`           ${p.repair.outcome.toUpperCase()}: ${p.repair.detail}`);
      }
    }
    // Exit 0 only when every object is whole now (restored ones included) and nobody wrote above one.
    return r.problems.some((p) => p.intrusions.length > 0 || p.repair?.outcome !== 'restored') ? 1 : 0;
  } finally {
    await deps.close();
  }
}

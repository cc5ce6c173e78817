import fs from 'node:fs';
import { exportLinks, importLinksCsv, importRecordsCsv } from '../records/index.ts';
import { booksWithheld } from '../auth/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { actorOf, listingReader } from './attribution.ts';

/**
 * `arkiva link import <links.csv>`, `arkiva link export [--book ID] [--history]`,
 * `arkiva link records <records.csv>`: bulk links and registry records as CSV, with a per-row report.
 */
export async function runLinkCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { book: { type: 'string' }, history: { type: 'boolean' } });
  const [action, file] = positionals;
  if (action !== 'import' && action !== 'export' && action !== 'records') throw new UsageError('an action is required: import, export or records');
  if (action !== 'export' && !file) throw new UsageError('a CSV file is required');
  const deps = await ctx.open({ subcommand: action, ...(values.book ? { target: { type: 'book', id: values.book } } : {}) });
  try {
    // Who links is the signed-in user, never a name given as an option.
    const user = actorOf(deps).username;
    if (action === 'export') {
      // As GET /links/export: links of closed books are left out, only counted, unless a purpose was
      // stated (--purpose, recorded with the command) by someone who may read closed books.
      const reader = listingReader(deps);
      const r = await exportLinks(deps.db, { ...(values.book ? { bookId: values.book } : {}), history: values.history ?? false, withhold: (ids) => booksWithheld(deps.db, reader, ids) });
      process.stdout.write(r.csv);
      if (r.withheld > 0) process.stderr.write(`${r.withheld} link(s) withheld: their books are under privacy closure (state why you need them with --purpose TEXT; the read is recorded with it)\n`);
      return 0;
    }
    const csv = await fs.promises.readFile(file!, 'utf8');
    const report = action === 'import' ? await importLinksCsv(deps.db, csv, { user }) : await importRecordsCsv(deps.db, csv, { user });
    if (ctx.json) ctx.out(JSON.stringify(report));
    else {
      ctx.out(`created ${report.created}, updated ${report.updated}${'unlinked' in report ? `, unlinked ${report.unlinked}` : ''}, errors ${report.errors.length}`);
      for (const e of report.errors) ctx.out(`  line ${e.row}: ${e.error}`);
    }
    return report.errors.length ? 1 : 0;
  } finally {
    await deps.close();
  }
}

import fs from 'node:fs';
import { exportLinksCsv, importLinksCsv, importRecordsCsv } from '../records/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './main.ts';

/**
 * `arkiva link import <links.csv>`, `arkiva link export [--book ID] [--history]`,
 * `arkiva link records <records.csv>`: bulk links and registry records as CSV, with a per-row report.
 */
export async function runLinkCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { book: { type: 'string' }, history: { type: 'boolean' }, user: { type: 'string' } });
  const [action, file] = positionals;
  // The acting user (--as or ARKIVA_USER, checked by the CLI's attribution) is who links; --user only without one.
  const user = ctx.as ?? values.user ?? 'cli';
  if (action !== 'import' && action !== 'export' && action !== 'records') throw new UsageError('an action is required: import, export or records');
  if (action !== 'export' && !file) throw new UsageError('a CSV file is required');
  const deps = await ctx.open();
  try {
    if (action === 'export') {
      process.stdout.write(await exportLinksCsv(deps.db, { ...(values.book ? { bookId: values.book } : {}), history: values.history ?? false }));
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

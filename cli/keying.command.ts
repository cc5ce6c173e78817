import { exportKeyedEntries, keyedEntriesCsv, keyingStats } from '../keying/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/**
 * `arkiva keying stats [--book ID]`: keying progress per book and agreement per keyer;
 * `arkiva keying export --book ID --format csv|json`: a book's verified keyed entries.
 */
export async function runKeyingCommand(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { book: { type: 'string' }, format: { type: 'string' } });
  const sub = positionals[0];
  if (sub !== 'stats' && sub !== 'export') throw new UsageError('a subcommand is required: stats or export');
  if (values.book !== undefined && !UUID_RE.test(values.book)) throw new UsageError('--book must be a book id');
  if (sub === 'export') {
    if (!values.book) throw new UsageError('export needs --book ID');
    const format = values.format ?? (ctx.json ? 'json' : 'csv');
    if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got "${format}"`);
    // Restricted like the API's export: a closed book's entries need --purpose, recorded with the command.
    const deps = await ctx.open({ subcommand: sub, target: { type: 'book', id: values.book } });
    try {
      const x = await exportKeyedEntries(deps.db, values.book);
      process.stdout.write(format === 'csv' ? keyedEntriesCsv(x) : `${JSON.stringify(x)}\n`);
      return 0;
    } finally {
      await deps.close();
    }
  }
  if (values.format !== undefined) throw new UsageError('--format is for export');
  const deps = await ctx.open({ subcommand: sub, ...(values.book ? { target: { type: 'book', id: values.book } } : {}) });
  try {
    const stats = await keyingStats(deps.db, values.book ? { bookId: values.book } : {});
    if (ctx.json) {
      ctx.out(JSON.stringify(stats));
      return 0;
    }
    ctx.out('books: zones found, open, keyed once, disputed, verified, empty rows');
    for (const b of stats.books) ctx.out(`  ${b.bookId} ${b.registerType} ${b.municipality} ${b.yearFrom}${b.yearTo !== b.yearFrom ? `-${b.yearTo}` : ''}: ${b.zones} found, ${b.open} open, ${b.keyedOnce} keyed once, ${b.disputed} disputed, ${b.verified} verified, ${b.empty} empty`);
    ctx.out('keyers: keyings, agreement (of those compared), fields overruled');
    for (const k of stats.keyers) ctx.out(`  ${k.keyer}: ${k.keyings} keyed, agreement ${pct(k.agreementRate)} of ${k.compared}, ${k.fieldsOverruled} overruled`);
    return 0;
  } finally {
    await deps.close();
  }
}

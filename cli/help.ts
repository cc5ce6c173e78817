/**
 * Help and typo suggestions for the CLI's hand-written dispatch (issue 22): `--help`/`-h` on any
 * command or subcommand prints its usage, and an unknown command, subcommand or option is answered
 * with the nearest known one. Kept in one place so commands need no code of their own for it.
 */

/** What help needs of a command: one line of what it does and its usage (alternatives split by ` | `). */
export interface CommandDoc {
  summary: string;
  usage: string;
}

/** The lines every command's help ends with: how commands sign in and state a purpose. */
export const SIGN_IN_NOTES = [
  'Every command but demo, worker, serve, resume, check and catalogue signs in: ARKIVA_TOKEN (an API token), or --as NAME',
  '(ARKIVA_USER) with its password typed on the terminal; embedded (no DATABASE_URL) the name alone is enough.',
  'Reads of books under privacy closure state why: --purpose TEXT (ARKIVA_PURPOSE).',
] as const;

/** True when the arguments ask for help: `--help` or `-h` before a `--` that ends the options. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Edit distance with adjacent transpositions (optimal string alignment), so 'serach' is 1 from 'search'. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known word nearest to a mistyped one, or undefined when none is near enough to be a typo
 * (at most one edit in four letters, at least one; or the start of exactly one known word).
 */
export function suggest(input: string, known: readonly string[]): string | undefined {
  const word = input.toLowerCase();
  if (!word) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(word, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (best && best.distance <= Math.max(1, Math.floor(word.length / 4))) return best.name;
  const prefixed = word.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(word)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** ` (did you mean "x"?)` when a suggestion exists, else ''. */
export function didYouMean(input: string, known: readonly string[], prefix = ''): string {
  const s = suggest(input, known);
  return s ? `; did you mean "${prefix}${s}"?` : '';
}

/**
 * What `arkiva help <topic>` says when the topic is no command: the nearest command's help is
 * offered like for `arkiva <unknown>`, or, with nothing near, where the list of commands is.
 */
export function unknownHelpTopic(topic: string, known: readonly string[]): string {
  const s = suggest(topic, known);
  return `arkiva help: no command "${topic}"${s ? `; did you mean "arkiva help ${s}"?` : ''}\narkiva --help lists the commands.`;
}

/** The alternatives of a usage line, without `arkiva <name>` and without a trailing ` [--json]` they share. */
function alternatives(name: string, usage: string): { alts: string[]; shared: string } {
  let body = usage.startsWith(`arkiva ${name}`) ? usage.slice(`arkiva ${name}`.length).trim() : usage;
  let shared = '';
  if (splitTopLevel(body).length > 1 && body.endsWith(' [--json]')) {
    body = body.slice(0, -' [--json]'.length);
    shared = ' [--json]';
  }
  return { alts: splitTopLevel(body), shared };
}

/** Splits on ` | ` outside brackets: `hold (--book ID | --search Q)` is one alternative. */
function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0 && body.startsWith(' | ', i)) {
      out.push(body.slice(start, i));
      start = i + 3;
      i += 2;
    }
  }
  out.push(body.slice(start));
  return out;
}

const SUBCOMMAND_WORDS = /^[a-z][a-z-]*(\|[a-z][a-z-]*)*$/;

/**
 * The subcommands a usage line names (`retention run|stale | reconcile …` gives run, stale,
 * reconcile, …), or [] for a command without subcommands (its first word is an argument or option).
 */
export function subcommandsOf(name: string, doc: CommandDoc): string[] {
  const { alts } = alternatives(name, doc.usage);
  const heads = alts.map((a) => a.split(' ')[0] ?? '');
  if (heads.length === 0 || !heads.every((w) => SUBCOMMAND_WORDS.test(w))) return [];
  return [...new Set(heads.flatMap((w) => w.split('|')))];
}

/**
 * The help of a command, or of one of its subcommands when `sub` is one: what it does, its usage
 * lines (each alternative on a line of its own) and how commands sign in.
 */
export function commandHelp(name: string, doc: CommandDoc, sub?: string): string {
  const { alts, shared } = alternatives(name, doc.usage);
  const subs = subcommandsOf(name, doc);
  const shown = sub && subs.includes(sub) ? alts.filter((a) => (a.split(' ')[0] ?? '').split('|').includes(sub)) : alts;
  const lines = [`arkiva ${name}${sub && subs.includes(sub) ? ` ${sub}` : ''}: ${doc.summary}`, '', 'usage:'];
  for (const a of shown) lines.push(`  arkiva ${name}${a ? ` ${a}` : ''}${shared}`);
  if (subs.length > 0 && !(sub && subs.includes(sub))) lines.push('', `subcommands: ${subs.join(', ')}; arkiva ${name} <subcommand> --help for one of them`);
  lines.push('', 'options every command takes: --json (machine-readable output), --as NAME, --purpose TEXT, --help (-h)', '', ...SIGN_IN_NOTES);
  return lines.join('\n');
}

import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { createBook, upsertPage } from '../archive/index.ts';
import { insertPageWords } from '../test-support/seed-words.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { requireService } from '../test-support/services.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Config } from '../config/index.ts';
import type { CommandContext } from './main.ts';
import { runSearchCommand } from './search.command.ts';
import { setClosure } from '../test-support/closure.ts';

const run = requireService('databaseUrl');
const CLERK_ID = randomUUID();

describe.skipIf(!run)('arkiva search', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let bookId: string;
  const ctx = (args: string[], lines: string[]): CommandContext => ({
    args, json: args.includes('--json'), config: real.config as Readonly<Config>, log: silentLogger(),
    // Signed in as the clerk the command acts as (the CLI's sign-in itself is tested in cli/attribution.int.test.ts).
    open: async () => ({ ...(real.deps as AppDeps), actor: { id: CLERK_ID, username: 'clerk-cli', roles: ['clerk'] }, close: async () => undefined }), out: (l) => lines.push(l),
  });

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
    const db = real.deps.db;
    ({ book: { id: bookId } } = await createBook(db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    // Open: a book without a computed closure is closed (issue 18).
    await setClosure(db, bookId, '2000-12-31');
    for (let s = 1; s <= 3; s++) {
      const page = await upsertPage(db, bookId, s);
      await insertPageWords(db, { bookId, pageId: page.id, revision: 1 }, [
        { text: String(s), confidence: 90, line: 0, block: 0, box: { x0: 10, y0: 10, x1: 30, y1: 40 } },
        { text: 'Arbën', confidence: 80 + s, line: 0, block: 0, box: { x0: 40, y0: 10, x1: 120, y1: 40 } },
        { text: s === 2 ? 'Krasnlqi' : 'Krasniqi', confidence: 80 + s, line: 0, block: 0, box: { x0: 130, y0: 10, x1: 260, y1: 40 } },
      ]);
    }
  });
  afterAll(async () => real?.cleanup());

  it('prints pages with snippet and boxes, and pages on with --cursor', async () => {
    const lines: string[] = [];
    expect(await runSearchCommand(ctx(['krasniqi', '--limit', '2', '--municipality', 'Peje', '--years', '1950-1960'], lines))).toBe(0);
    expect(lines[0]).toMatch(new RegExp(`^${bookId} page 3 \\(score [0-9.]+\\) — birth, Pejë 1958$`));
    expect(lines[1]).toBe('  3 Arbën «Krasniqi»');
    expect(lines[2]).toBe('  "Krasniqi" at 130,10-260,40');
    const more = lines.find((l) => l.startsWith('more: --cursor '));
    expect(more).toBeDefined();
    const next: string[] = [];
    await runSearchCommand(ctx(['krasniqi', '--limit', '2', '--json', '--cursor', more!.slice('more: --cursor '.length)], next));
    const page2 = JSON.parse(next[0]!) as { hits: { sequence: number; words: { text: string }[] }[]; nextCursor: string | null };
    // The OCR-damaged reading ranks last, found by fuzzy matching.
    expect(page2.hits.map((h) => h.sequence)).toEqual([2]);
    expect(page2.hits[0]!.words[0]!.text).toBe('Krasnlqi');
    expect(page2.nextCursor).toBeNull();
  });

  it('honours --exact, --mode phrase and filters, and refuses bad usage', async () => {
    const json = async (args: string[]) => {
      const lines: string[] = [];
      await runSearchCommand(ctx([...args, '--json'], lines));
      return (JSON.parse(lines[0]!) as { hits: { sequence: number }[] }).hits.map((h) => h.sequence);
    };
    expect(await json(['krasniqi', '--exact'])).toEqual([3, 1]);
    // Pages 3 and 1 hold the phrase as read (equal matches: several words rank by match, then page
    // id, so their order is not fixed); the OCR-damaged page 2 comes last.
    const phrase = await json(['arben krasniqi', '--mode', 'phrase', '--book', bookId]);
    expect([...phrase.slice(0, 2)].sort()).toEqual([1, 3]);
    expect(phrase.slice(2)).toEqual([2]);
    expect(await json(['krasniqi arben', '--mode', 'phrase', '--book', bookId])).toEqual([]);
    expect(await json(['krasniqi', '--type', 'death'])).toEqual([]);
    const none: string[] = [];
    expect(await runSearchCommand(ctx(['zzzzqqq', '--exact'], none))).toBe(0);
    expect(none).toEqual(['no pages found']);
    await expect(runSearchCommand(ctx([], []))).rejects.toThrow(/words to search for/);
    await expect(runSearchCommand(ctx(['x', '--mode', 'fuzzy'], []))).rejects.toThrow(/--mode must be/);
    await expect(runSearchCommand(ctx(['x', '--years', '58'], []))).rejects.toThrow(/--years/);
    await expect(runSearchCommand(ctx(['x', '--limit', '0'], []))).rejects.toThrow(/--limit/);
  });

  it('withholds pages of books under privacy closure and says how many', async () => {
    await setClosure(real.deps.db, bookId, new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10));
    try {
      const json: string[] = [];
      await runSearchCommand(ctx(['krasniqi', '--json'], json));
      const r = JSON.parse(json[0]!) as { hits: unknown[]; withheld: number };
      expect(r.hits).toEqual([]);
      expect(r.withheld).toBe(3);
      const text: string[] = [];
      await runSearchCommand(ctx(['krasniqi'], text));
      // Issue 18 point 2: the CLI reads closed books with a stated purpose too, so it says how (no longer "through the API").
      expect(text).toEqual(['no pages found', '3 result(s) withheld: their books are under privacy closure (state why you need them with --purpose TEXT; the read is recorded with it)']);
    } finally {
      await setClosure(real.deps.db, bookId, '2000-12-31');
    }
  });
});

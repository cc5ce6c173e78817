import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../common/index.ts';
import { createBook, upsertPage } from '../archive/index.ts';
import { findRecordByKey, linksOfRecord, parseCsv } from '../records/index.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { requireService } from '../test-support/services.ts';
import type { AppDeps } from '../app/deps.ts';
import type { Config } from '../config/index.ts';
import type { CommandContext } from './main.ts';
import { runLinkCommand } from './link.command.ts';
import { setClosure } from '../test-support/closure.ts';

const run = requireService('databaseUrl');
const CLERK_ID = randomUUID();

describe.skipIf(!run)('arkiva link', () => {
  let real: Awaited<ReturnType<typeof openRealDeps>>;
  let dir: string;
  let bookId: string;
  const ctx = (args: string[], lines: string[]): CommandContext => ({
    args, json: args.includes('--json'), config: real.config as Readonly<Config>, log: silentLogger(),
    // Signed in as the clerk the command acts as (the CLI's sign-in itself is tested in cli/attribution.int.test.ts).
    open: async () => ({ ...(real.deps as AppDeps), actor: { id: CLERK_ID, username: 'clerk-cli', roles: ['clerk'] }, close: async () => undefined }), out: (l) => lines.push(l),
  });
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  beforeAll(async () => {
    real = await openRealDeps(realServicesEnv());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkiva-link-'));
    ({ book: { id: bookId } } = await createBook(real.deps.db, { registerType: 'birth', municipality: 'Pejë', yearFrom: 1958, yearTo: 1958, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 }));
    // Open: a book without a computed closure is closed, and its links are left out of the export (issue 18).
    await setClosure(real.deps.db, bookId, '2000-12-31');
    await upsertPage(real.deps.db, bookId, 1);
    await upsertPage(real.deps.db, bookId, 2);
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await real?.cleanup();
  });

  it('imports records and links from CSV with a per-line error report, unlinks with history, exports', async () => {
    const out: string[] = [];
    const records = file('records.csv', 'system,record_type,record_id,person_names,event_date,municipality\nCRS,birth,B-1,Arbën Krasniqi,1958-03-02,Pejë\nCRS,birth,B-2,Ana Gashi,19x8,Pejë\n');
    expect(await runLinkCommand(ctx(['records', records], out))).toBe(1);
    expect(out).toEqual(['created 1, updated 0, errors 1', '  line 3: eventDate must be YYYY, YYYY-MM or YYYY-MM-DD']);

    const links = file('links.csv', [
      'action,system,record_type,record_id,book_id,page,entry_id,link_type,reason',
      `link,CRS,birth,B-1,${bookId},1,,original-entry,"matched by name, date"`,
      `link,CRS,birth,B-1,${bookId},,,marginal-note,`,
      `link,CRS,birth,B-9,${bookId},1,,original-entry,`,
      `link,CRS,birth,B-1,${bookId},7,,original-entry,`,
      `link,CRS,birth,B-1,not-a-uuid,,,original-entry,`,
    ].join('\n'));
    const report: string[] = [];
    expect(await runLinkCommand(ctx(['import', links, '--json'], report))).toBe(1);
    expect(JSON.parse(report[0]!)).toEqual({
      created: 2, updated: 0, unlinked: 0,
      errors: [
        { row: 4, error: 'no registry record CRS/birth/B-9' },
        { row: 5, error: `book ${bookId} has no page 7` },
        { row: 6, error: 'book_id (a uuid) is required' },
      ],
    });
    const record = (await findRecordByKey(real.deps.db, { system: 'CRS', recordType: 'birth', recordId: 'B-1' }))!;
    const live = await linksOfRecord(real.deps.db, record.id);
    expect(live.map((l) => [l.linkType, l.item.kind, l.item.pageSequence, l.createdBy])).toEqual([
      ['original-entry', 'page', 1, 'clerk-cli'], ['marginal-note', 'book', null, 'clerk-cli'],
    ]);

    const unlink = file('unlink.csv', `action,system,record_type,record_id,book_id,page,link_type,reason\nunlink,CRS,birth,B-1,${bookId},1,original-entry,wrong page\n`);
    const u: string[] = [];
    expect(await runLinkCommand(ctx(['import', unlink], u))).toBe(0);
    expect(u).toEqual(['created 0, updated 0, unlinked 1, errors 0']);

    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await runLinkCommand(ctx(['export', '--book', bookId, '--history'], []))).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const rows = parseCsv(written.join(''));
    expect(rows[0]!.slice(0, 9)).toEqual(['action', 'system', 'record_type', 'record_id', 'book_id', 'page', 'entry_id', 'link_type', 'reason']);
    const body = rows.slice(1).map((r) => [r[0], r[5], r[7], r[8], r[12]]);
    expect(body).toEqual([
      ['unlink', '1', 'original-entry', 'matched by name, date', 'clerk-cli'],
      ['link', '', 'marginal-note', '', ''],
    ]);
  });

  it('refuses bad usage', async () => {
    await expect(runLinkCommand(ctx([], []))).rejects.toThrow(/an action is required/);
    await expect(runLinkCommand(ctx(['import'], []))).rejects.toThrow(/a CSV file is required/);
  });
});

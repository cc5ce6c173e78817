import fs from 'node:fs';
import { exportPackage, packageBook, verifyBagDir, verifyStoredPackage, type BagReport } from '../preservation/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';
import { progressBar } from './progress.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function generationArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('--generation must be a positive integer');
  return n;
}

/** `arkiva export <book-id> <dir>`: the book's BagIt package, unpacked into a folder. */
export async function runExport(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { generation: { type: 'string' } });
  const [bookId, dir] = positionals;
  if (!bookId || !UUID_RE.test(bookId) || !dir) throw new UsageError('a book id and a target folder are required');
  const generation = generationArg(values.generation);
  // The book is checked for closure as GET /books/{id}/package checks it (a purpose, a role that may
  // read it) and the export is audited with the book and the purpose, before anything is read.
  const deps = await ctx.open({ target: { type: 'book', id: bookId.toLowerCase() }, ...(generation !== undefined ? { detail: { generation } } : {}) });
  try {
    // Builds the package here when no worker has yet (embedded mode, or a book finished moments ago).
    if (generation === undefined) await packageBook(deps, bookId.toLowerCase());
    const bar = progressBar('bytes', { json: ctx.json });
    let r: Awaited<ReturnType<typeof exportPackage>>;
    try {
      r = await exportPackage(deps, bookId.toLowerCase(), dir, { ...(generation !== undefined ? { generation } : {}), onProgress: (done, total) => bar?.update(done, total) });
    } finally {
      bar?.end();
    }
    if (ctx.json) ctx.out(JSON.stringify({ dir, files: r.files, bytes: r.bytes, package: { generation: r.package.revision, sha256: r.package.sha256, size: r.package.size } }));
    else ctx.out(`exported package generation ${r.package.revision} (sha256 ${r.package.sha256}): ${r.files} files, ${r.bytes} bytes in ${dir}`);
    return 0;
  } finally {
    await deps.close();
  }
}

/** `arkiva verify-package <dir|book-id>`: checks a bag; exit 1 when it is not valid. */
export async function runVerifyPackage(ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(ctx.args, { generation: { type: 'string' } });
  const target = positionals[0];
  if (!target) throw new UsageError('a bag folder or a book id is required');
  const stat = await fs.promises.stat(target).catch(() => undefined);
  let report: BagReport;
  let what: string;
  if (stat?.isDirectory()) {
    report = await verifyBagDir(target);
    what = target;
  } else if (UUID_RE.test(target)) {
    const generation = generationArg(values.generation);
    const deps = await ctx.open({ target: { type: 'book', id: target.toLowerCase() } });
    try {
      const r = await verifyStoredPackage(deps, target.toLowerCase(), generation !== undefined ? { generation } : {});
      report = r;
      what = `package generation ${r.package.revision} of book ${target}`;
    } finally {
      await deps.close();
    }
  } else {
    throw new UsageError(`${target} is neither a folder nor a book id`);
  }
  if (ctx.json) ctx.out(JSON.stringify({ target: what, ...report }));
  else {
    ctx.out(`${what}: ${report.valid ? 'valid' : 'INVALID'} (${report.files} files, payload ${report.payloadOctets}.${report.payloadStreams})`);
    for (const p of report.problems) ctx.out(`  ${p.kind.padEnd(7)} ${p.path ?? ''}  ${p.message}`);
  }
  return report.valid ? 0 : 1;
}

import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { AppError } from '../common/index.ts';
import type { StoredObject } from '../archive/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { listPackages } from './package-book.ts';
import { readTar } from './tar.ts';
import { verifyBagTar, type BagReport } from './verify.ts';

type Deps = Pick<AppDeps, 'db' | 'store'>;

/** The current package of a book, or a given generation (superseded ones included). */
export async function findPackage(deps: Pick<AppDeps, 'db'>, bookId: string, generation?: number): Promise<StoredObject> {
  const all = await listPackages(deps.db, bookId);
  const p = generation === undefined ? all.find((x) => x.current) : all.find((x) => x.generation === generation);
  if (!p) throw new AppError('ERR_OBJECT_NOT_FOUND', generation === undefined ? `book ${bookId} has no package yet` : `book ${bookId} has no package generation ${generation}`);
  return p.object;
}

async function openPackage(deps: Deps, obj: StoredObject): Promise<AsyncIterable<Buffer>> {
  return (await deps.store.get(obj.storeKey, obj.versionId ? { versionId: obj.versionId } : {})) as AsyncIterable<Buffer>;
}

/**
 * Writes a book's package, unpacked, into `dir` (created; must be empty or absent): the bag's base
 * directory is `dir` itself. Returns the number of files written.
 */
export async function exportPackage(
  deps: Deps, bookId: string, dir: string, opts: { generation?: number; onProgress?: (bytes: number, total: number) => void } = {},
): Promise<{ files: number; bytes: number; package: StoredObject }> {
  const obj = await findPackage(deps, bookId, opts.generation);
  await fs.promises.mkdir(dir, { recursive: true });
  if ((await fs.promises.readdir(dir)).length) throw new AppError('ERR_CONFLICT', `${dir} is not empty`);
  const root = path.resolve(dir);
  let files = 0;
  let bytes = 0;
  for await (const e of readTar(await openPackage(deps, obj))) {
    if (e.type !== 'file') continue;
    const rel = e.path.replace(/^[^/]+\//, '');
    const target = path.resolve(root, rel);
    // A tar path must never write outside the folder it is exported to.
    if (!target.startsWith(root + path.sep)) throw new AppError('ERR_INTEGRITY', `package entry escapes the bag: ${e.path}`);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await pipeline(Readable.from(e.body), fs.createWriteStream(target, { flags: 'wx' }));
    files++;
    bytes += e.size;
    // The package's size bounds the files' bytes (the tar adds headers): the bar ends full below.
    opts.onProgress?.(Math.min(bytes, obj.size), obj.size);
  }
  opts.onProgress?.(obj.size, obj.size);
  return { files, bytes, package: obj };
}

/** Verifies a book's stored package as a bag, reading it from the store as a stream. */
export async function verifyStoredPackage(deps: Deps, bookId: string, opts: { generation?: number } = {}): Promise<BagReport & { package: StoredObject }> {
  const obj = await findPackage(deps, bookId, opts.generation);
  const report = await verifyBagTar(await openPackage(deps, obj));
  return { ...report, package: obj };
}

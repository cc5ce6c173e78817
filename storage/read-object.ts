import { createHash } from 'node:crypto';
import { AppError } from '../common/errors.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * Reads a whole (page-sized) object into memory and checks its SHA-256 against what the archive
 * recorded, so a stage never works from silently corrupted bytes. Not for originals of any size:
 * stream those. `versionId` reads one version of the key (versioned stores).
 */
export async function readObject(store: ObjectStore, key: string, opts: { expectedSha256?: string; maxBytes?: number; versionId?: string } = {}): Promise<Buffer> {
  const max = opts.maxBytes ?? 512 * 1024 * 1024;
  const stream = await store.get(key, opts.versionId ? { versionId: opts.versionId } : {});
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      throw new AppError('ERR_PAYLOAD_TOO_LARGE', `object ${key} is larger than ${max} bytes`);
    }
    hash.update(chunk);
    chunks.push(chunk);
  }
  const sha256 = hash.digest('hex');
  if (opts.expectedSha256 && sha256 !== opts.expectedSha256) {
    throw new AppError('ERR_INTEGRITY', `object ${key} has SHA-256 ${sha256}, the archive recorded ${opts.expectedSha256}`);
  }
  return Buffer.concat(chunks, size);
}

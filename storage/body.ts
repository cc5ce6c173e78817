import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../common/errors.ts';

/**
 * Wraps an error thrown by the caller's body stream while an adapter reads it, so the adapter can
 * tell it from a store failure and rethrow it unchanged (an aborted upload is not a storage outage).
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(readonly original: unknown) {
    super('the body stream failed', { cause: original });
  }
}

/** The bytes of a body as Buffers, in order; errors of the stream come out as `SourceError`s. */
export async function* bodyChunks(body: Readable | Buffer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  const it = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let ended = false;
  try {
    while (true) {
      let r: IteratorResult<unknown>;
      try {
        r = await it.next();
      } catch (e) {
        ended = true;
        throw new SourceError(e);
      }
      if (r.done) {
        ended = true;
        return;
      }
      yield toBuffer(r.value);
    }
  } finally {
    // A write that stops early releases the caller's stream (a Readable's iterator destroys it).
    if (!ended) await Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new SourceError(new TypeError(`body stream yielded a ${typeof chunk}, not bytes`));
}

/**
 * Cuts a body into parts of exactly `partSize` bytes (the last one shorter, possibly empty when the
 * body is), feeding `digest` as bytes arrive. Each part is a fresh buffer, because the one before may
 * still be uploading; so memory holds the part being filled plus the parts the caller keeps.
 */
export async function* bodyParts(body: Readable | Buffer, partSize: number, digest: Digest): AsyncGenerator<Buffer> {
  let part: Buffer | undefined;
  let filled = 0;
  for await (const chunk of bodyChunks(body)) {
    digest.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      part ??= Buffer.allocUnsafe(partSize);
      const n = Math.min(partSize - filled, chunk.length - offset);
      chunk.copy(part, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === partSize) {
        yield part;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (part && filled > 0) yield part.subarray(0, filled);
  else if (digest.size === 0) yield Buffer.alloc(0);
}

/** SHA-256, MD5 and size of the bytes fed to it. */
export class Digest {
  private readonly sha = createHash('sha256');
  private readonly md5 = createHash('md5');
  size = 0;
  update(chunk: Buffer): void {
    this.sha.update(chunk);
    this.md5.update(chunk);
    this.size += chunk.length;
  }
  /** Call once, after the last byte. */
  result(): { sha256: string; md5: string; size: number } {
    return { sha256: this.sha.digest('hex'), md5: this.md5.digest('hex'), size: this.size };
  }
}

/** The integrity error both adapters raise when the bytes are not the ones the caller announced. */
export function integrityError(key: string, actual: string, expected: string): AppError {
  return new AppError('ERR_INTEGRITY', `refused to store ${key}: its SHA-256 is ${actual}, the caller expected ${expected}`, { key, sha256: actual, expectedSha256: expected });
}

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** SHA-256 and MD5 of a stream, computed while the bytes pass through. */
export class DigestStream extends Transform {
  private readonly sha = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sha.update(chunk);
    this.md5.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  /** Call after the stream has ended. */
  digests(): { sha256: string; md5: string; size: number } {
    return { sha256: this.sha.digest('hex'), md5: this.md5.digest('hex'), size: this.size };
  }
}

/** SHA-256 hex of a buffer. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

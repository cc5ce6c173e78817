import type { Readable } from 'node:stream';

/** One file of a tar stream: its size is known before its bytes, as a tar header needs it. */
export interface TarEntry {
  /** Path inside the archive, '/'-separated, relative. */
  path: string;
  size: number;
  mtime?: Date;
  /** The bytes: a buffer, or a function opening a stream of exactly `size` bytes (opened only when its turn comes). */
  body: Buffer | (() => Promise<AsyncIterable<Buffer> | Readable>);
}

const BLOCK = 512;

/**
 * Writes a POSIX ustar archive as a byte stream, one entry at a time: memory holds one chunk of one
 * file, never the archive. A body yielding more or fewer bytes than announced is an error (the
 * header already promised the size).
 */
export async function* tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    yield tarHeader(e.path, e.size, e.mtime ?? new Date(0));
    let written = 0;
    if (Buffer.isBuffer(e.body)) {
      written = e.body.length;
      yield e.body;
    } else {
      for await (const chunk of await e.body()) {
        written += chunk.length;
        if (written > e.size) throw new Error(`tar entry ${e.path} is longer than its announced ${e.size} bytes`);
        yield chunk;
      }
    }
    if (written !== e.size) throw new Error(`tar entry ${e.path} has ${written} bytes, ${e.size} announced`);
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad) yield Buffer.alloc(pad);
  }
  // Two zero blocks end the archive.
  yield Buffer.alloc(BLOCK * 2);
}

/** The 512-byte ustar header of a regular file. */
export function tarHeader(path: string, size: number, mtime: Date): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitPath(path);
  h.write(name, 0, 100, 'utf8');
  writeOctal(h, 0o644, 100, 8);
  writeOctal(h, 0, 108, 8);
  writeOctal(h, 0, 116, 8);
  writeOctal(h, size, 124, 12);
  writeOctal(h, Math.floor(mtime.getTime() / 1000), 136, 12);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'binary');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return h;
}

function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  // ustar splits long paths at a '/' into a 155-byte prefix and a 100-byte name.
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`path too long for a ustar header: ${path}`);
}

function writeOctal(h: Buffer, value: number, offset: number, length: number): void {
  const s = value.toString(8);
  if (s.length > length - 1) throw new Error(`value ${value} does not fit a ${length}-byte tar field`);
  h.write(`${s.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

/** A file read back from a tar stream; `body` must be consumed before the next entry is asked for. */
export interface TarReadEntry {
  path: string;
  size: number;
  type: 'file' | 'directory' | 'other';
  body: AsyncIterable<Buffer>;
}

/**
 * Reads a ustar (or plain POSIX) archive from a byte stream, one entry at a time, without holding
 * more than a chunk in memory. Unread bodies are skipped.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarReadEntry> {
  const it = source[Symbol.asyncIterator]();
  let buf = Buffer.alloc(0);
  let ended = false;
  const fill = async (n: number): Promise<boolean> => {
    while (buf.length < n && !ended) {
      const r = await it.next();
      if (r.done) ended = true;
      else buf = buf.length ? Buffer.concat([buf, Buffer.from(r.value)]) : Buffer.from(r.value);
    }
    return buf.length >= n;
  };
  for (;;) {
    if (!(await fill(BLOCK))) throw new Error('tar archive ends without its end-of-archive blocks');
    const header = buf.subarray(0, BLOCK);
    buf = buf.subarray(BLOCK);
    if (header.every((b) => b === 0)) return;
    checkHeaderSum(header);
    const name = cString(header, 0, 100);
    const prefix = header.subarray(257, 262).toString('binary') === 'ustar' ? cString(header, 345, 155) : '';
    const size = parseInt(cString(header, 124, 12).trim() || '0', 8);
    const flag = String.fromCharCode(header[156]!);
    const type = flag === '0' || flag === '\u0000' ? 'file' : flag === '5' ? 'directory' : 'other';
    let remaining = size;
    let consumed = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      consumed = true;
      while (remaining > 0) {
        if (buf.length === 0 && !(await fill(1))) throw new Error('tar archive is truncated');
        const n = Math.min(remaining, buf.length);
        const part = buf.subarray(0, n);
        buf = buf.subarray(n);
        remaining -= n;
        yield part;
      }
    };
    const entryBody = body();
    yield { path: prefix ? `${prefix}/${name}` : name, size, type, body: entryBody };
    if (!consumed) for await (const _ of entryBody) { /* skip */ }
    else if (remaining > 0) for await (const _ of body()) { /* the reader stopped early */ }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) {
      if (!(await fill(pad))) throw new Error('tar archive is truncated');
      buf = buf.subarray(pad);
    }
  }
}

function cString(h: Buffer, offset: number, length: number): string {
  const slice = h.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function checkHeaderSum(h: Buffer): void {
  const recorded = parseInt(cString(h, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  if (sum !== recorded) throw new Error('tar header checksum mismatch: not a tar archive, or a damaged one');
}

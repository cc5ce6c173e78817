import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart, { type MultipartFile, type Multipart } from '@fastify/multipart';
import { AppError } from '../common/index.ts';
import { nulFieldError } from './request-checks.ts';

/** An upload being received: the form fields sent before the file, and the file's bytes. */
export interface Upload {
  fields: Record<string, string>;
  /** The file's bytes; errors (never ends) when the client sent more than the limit. */
  stream: Readable;
  /** True once the body went over the limit. */
  tooLarge(): boolean;
  /** Why the form was refused after the file part (a second file, too many parts), if it was. */
  refusal(): AppError | undefined;
  /** Reads what follows the file part (best effort: the file has been used by then). */
  finish(): Promise<void>;
  /** Stops reading the upload (after an error answered before the bytes were consumed). */
  abort(): void;
}

/** What `openUpload` accepts. */
export interface UploadOptions {
  maxBytes: number;
  /** Form fields allowed before the file part; any other field is refused. */
  fieldNames: readonly string[];
  /** How the client should send the body, for the 415 message. */
  hint: string;
}

/**
 * Lets a route read multipart uploads as streams and take raw bodies of `rawTypes` as streams
 * (the raw parser never buffers: the handler reads the request itself).
 */
export async function registerUploadParsers(app: FastifyInstance, opts: { maxBytes: number; rawTypes: readonly string[] }): Promise<void> {
  await app.register(multipart, {
    // Without throwFileSizeLimit busboy silently truncates at the limit.
    throwFileSizeLimit: true,
    // The client's file name as sent, so one that tries to be a path is refused, not silently cut to its base name.
    preservePath: true,
    limits: { fileSize: opts.maxBytes, files: 1, fields: 20, fieldSize: 1024, fieldNameSize: 100, parts: 25, headerPairs: 100 },
  });
  app.addContentTypeParser([...opts.rawTypes], (_req, payload, done) => done(null, payload));
}

/** Starts receiving the upload of `req`, as multipart (fields first, then one file) or a raw body. */
export async function openUpload(req: FastifyRequest, opts: UploadOptions): Promise<Upload> {
  if (req.isMultipart()) return openMultipart(req, opts);
  const body = req.body;
  if (body instanceof Readable) {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      body.resume();
      throw tooLargeError(opts.maxBytes);
    }
    const guard = new UploadLimit(opts.maxBytes, () => false);
    // Not pipeline(): destroying the request would destroy the socket, and the error answer with it.
    // A refused body is read and dropped instead.
    const drop = () => {
      body.unpipe(guard);
      body.resume();
    };
    body.on('error', (e) => guard.destroy(e));
    // A client that goes away mid-upload must leave a failed stream, never a short one that ended.
    body.on('close', () => {
      if (!body.readableEnded) guard.destroy(new AppError('ERR_VALIDATION', 'the upload was interrupted'));
    });
    guard.on('error', drop);
    body.pipe(guard);
    return {
      fields: {},
      stream: guard,
      tooLarge: () => guard.exceeded,
      refusal: () => undefined,
      finish: async () => undefined,
      abort: () => {
        drop();
        guard.destroy();
      },
    };
  }
  throw new AppError('ERR_UNSUPPORTED_MEDIA', `send the upload as ${opts.hint}`);
}

/** The `boundary` parameter of a multipart Content-Type; undefined when missing or empty. */
function multipartBoundary(contentType: string | undefined): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;"]+))/i.exec(contentType ?? '');
  return m?.[1] ?? m?.[2];
}

async function openMultipart(req: FastifyRequest, opts: UploadOptions): Promise<Upload> {
  // Without a boundary the form cannot be read at all (busboy throws, which used to answer 500).
  if (multipartBoundary(req.headers['content-type']) === undefined) {
    req.raw.resume();
    throw new AppError('ERR_VALIDATION', 'the multipart/form-data Content-Type has no boundary parameter; nothing was archived', { field: 'content-type' });
  }
  const parts = req.parts({ limits: { fileSize: opts.maxBytes }, throwFileSizeLimit: true } as Parameters<FastifyRequest['parts']>[0]);
  const fields: Record<string, string> = {};
  let file: MultipartFile | undefined;
  try {
    for (;;) {
      const next = await parts.next();
      if (next.done) break;
      const part: Multipart = next.value;
      if (part.type === 'file') {
        file = part;
        break;
      }
      if (!opts.fieldNames.includes(part.fieldname)) {
        throw new AppError('ERR_VALIDATION', `unknown form field ${JSON.stringify(part.fieldname.slice(0, 40))}; expected ${opts.fieldNames.join(', ')} and then the file`, { field: part.fieldname.slice(0, 40) });
      }
      if (part.valueTruncated) throw new AppError('ERR_VALIDATION', `form field ${part.fieldname} is too long`, { field: part.fieldname });
      if (part.fieldname in fields) throw new AppError('ERR_VALIDATION', `form field ${part.fieldname} is given twice`, { field: part.fieldname });
      const value = String(part.value);
      // Form fields are streamed past the edge's check of parsed bodies (api/request-checks.ts): checked here.
      if (value.includes('\u0000')) throw nulFieldError(part.fieldname);
      fields[part.fieldname] = value;
    }
  } catch (e) {
    await parts.return?.(undefined).catch(() => undefined);
    // busboy's own errors (a malformed part header, a body cut short) carry no status: the client's form is at fault.
    if (!(e instanceof AppError) && typeof (e as { statusCode?: unknown }).statusCode !== 'number') {
      throw new AppError('ERR_VALIDATION', 'the multipart form is malformed; nothing was archived', undefined, { cause: e });
    }
    throw e;
  }
  if (!file) throw new AppError('ERR_VALIDATION', 'the form has no file part (send the fields first, then the file)', { field: 'file' });
  // File names are never used as keys or paths; one that tries to be a path is refused outright.
  if (!safeFilename(file.filename)) {
    file.file.resume();
    throw new AppError('ERR_VALIDATION', 'the file name must be a plain name (no folders, "..", or control characters); nothing was archived', { field: 'file' });
  }

  const source = file.file as Readable & { truncated?: boolean };
  const guard = new UploadLimit(opts.maxBytes, () => source.truncated === true);
  // busboy stops passing bytes at the limit and then ends the part normally: fail the stream
  // the moment it says so, so a truncated original can never be stored as if complete.
  source.once('limit', () => guard.destroy(guard.fail()));
  pipeline(source, guard, () => undefined);
  // The rest of the form is read before the file's write may complete: a second file or a flood of
  // parts after it fails the upload, and nothing is archived.
  const rest = async () => {
    try {
      for (;;) {
        const next = await parts.next();
        if (next.done) return;
        if (next.value.type === 'file') {
          next.value.file.resume();
          throw new AppError('ERR_VALIDATION', 'send exactly one file per upload; nothing was archived', { field: 'file' });
        }
      }
    } catch (e) {
      if (e instanceof AppError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_FILES_LIMIT') {
        throw new AppError('ERR_PAYLOAD_TOO_LARGE', 'too many parts in the multipart form; nothing was archived');
      }
      throw new AppError('ERR_VALIDATION', 'the multipart form is malformed after the file; nothing was archived');
    }
  };
  const tail = new FormTail(rest);
  // The consumer (the store's write) sees the error through its own listener; this one keeps an
  // error after the consumer gave up from becoming an uncaught exception.
  tail.on('error', () => undefined);
  guard.on('error', (e) => tail.destroy(e));
  guard.pipe(tail);
  return {
    fields,
    stream: tail,
    tooLarge: () => guard.exceeded,
    refusal: () => tail.refusal,
    async finish() {
      // Parts after the file are not used; read them so busboy reaches the end of the body. The
      // upload is archived by now, so a problem here (a second file, say) must not turn into an error answer.
      try {
        for (;;) {
          const next = await parts.next();
          if (next.done) return;
          if (next.value.type === 'file') next.value.file.resume();
        }
      } catch (e) {
        req.log.info({ code: (e as { code?: unknown }).code }, 'ignored the parts after the uploaded file');
      }
    },
    abort() {
      source.destroy();
      guard.destroy();
    },
  };
}

/** True for a plain file name: no path separators, no "..", no control characters, not too long. */
export function safeFilename(name: string | undefined): boolean {
  if (name === undefined || name === '') return true;
  // eslint-disable-next-line no-control-regex
  return name.length <= 255 && !/[/\\\u0000-\u001f\u007f]/.test(name) && name !== '.' && name !== '..';
}

/** The 413 an upload over the limit gets. */
export function tooLargeError(maxBytes: number): AppError {
  return new AppError('ERR_PAYLOAD_TOO_LARGE', `the upload is larger than the limit of ${formatBytes(maxBytes)}; nothing was archived`);
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

/** Passes bytes through and fails once more than `maxBytes` went by, or when the source was cut short. */
class UploadLimit extends Transform {
  exceeded = false;
  private size = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly truncated: () => boolean,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return cb(this.fail());
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.truncated() ? this.fail() : null);
  }
  fail(): AppError {
    this.exceeded = true;
    return tooLargeError(this.maxBytes);
  }
}

/**
 * Passes the file's bytes through and, once they have all passed, reads the rest of the form before
 * ending: a second file or a flood of parts after the file fails the write too, so nothing is archived.
 */
class FormTail extends Transform {
  /** The AppError the rest of the form was refused with. */
  refusal: AppError | undefined;
  constructor(private readonly rest: () => Promise<void>) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.rest().then(() => cb(), (e: unknown) => {
      if (e instanceof AppError) this.refusal = e;
      cb(e as Error);
    });
  }
}

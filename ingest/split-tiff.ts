import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { errorMessage, formatCount, pixelLimitReason, roundDpi, tooManyPagesError } from './limits.ts';
import type { PageDraft, SplitContext } from './split.ts';

/** One image file directory (IFD) of a TIFF, as read from the file without decoding. */
export interface TiffFrame {
  /** 0-based frame index, as sharp's `page` option counts. */
  index: number;
  ifdOffset: number;
  width?: number;
  height?: number;
  dpiX?: number;
  dpiY?: number;
  /** TIFF Orientation tag (1-8) when present. */
  orientation?: number;
  /** Why this frame cannot be read, when that shows without decoding (e.g. its data is cut off). */
  problem?: string;
}

/** The directory chain of a TIFF file. */
export interface TiffLayout {
  littleEndian: boolean;
  bigTiff: boolean;
  fileSize: number;
  /** Frames reachable through an intact chain, in file order (capped at `maxFrames` + 1). */
  frames: TiffFrame[];
  /** Set when the chain breaks after the last listed frame (truncated file, loop, damaged directory). */
  brokenChain?: { pointerAt: number; pointerSize: 4 | 8; why: string };
  /** True when there are more than `maxFrames` frames; the walk stopped early. */
  tooMany: boolean;
}

const MAX_IFD_ENTRIES = 4096;
// One strip per row of a 200 Mpx image is ~20 000 strips; this only bounds memory on hostile files.
const MAX_STRIPS = 4_000_000;

const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

const TAG = {
  width: 256,
  height: 257,
  stripOffsets: 273,
  orientation: 274,
  stripByteCounts: 279,
  xResolution: 282,
  yResolution: 283,
  resolutionUnit: 296,
  tileOffsets: 324,
  tileByteCounts: 325,
} as const;

interface Entry {
  type: number;
  count: number;
  /** The raw value/offset field (4 bytes classic, 8 BigTIFF). */
  field: Buffer;
}

class Reader {
  constructor(
    private readonly handle: fs.FileHandle,
    readonly size: number,
    readonly le: boolean,
    readonly big: boolean,
  ) {}

  /** Bytes at [pos, pos+len), or undefined when any of them lies beyond the end of the file. */
  async at(pos: number, len: number): Promise<Buffer | undefined> {
    if (pos < 0 || len < 0 || pos + len > this.size) return undefined;
    const buf = Buffer.alloc(len);
    const { bytesRead } = await this.handle.read(buf, 0, len, pos);
    return bytesRead === len ? buf : undefined;
  }

  u16(b: Buffer, o: number): number {
    return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  u32(b: Buffer, o: number): number {
    return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }

  u64(b: Buffer, o: number): number {
    const v = this.le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
    // Beyond 2^53 no file of ours can reach it: treat as "beyond the end".
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  offset(b: Buffer, o: number): number {
    return this.big ? this.u64(b, o) : this.u32(b, o);
  }

  /** Reads an entry's values as numbers (RATIONAL as [num, den] pairs flattened); undefined if out of file. */
  async values(e: Entry, maxCount: number): Promise<number[] | undefined> {
    const size = TYPE_SIZES[e.type];
    if (size === undefined || e.count > maxCount) return undefined;
    const total = size * e.count;
    const inline = this.big ? 8 : 4;
    const data = total <= inline ? e.field : await this.at(this.offset(e.field, 0), total);
    if (!data) return undefined;
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) {
      const o = i * size;
      switch (e.type) {
        case 1: case 6: case 7: out.push(data[o]!); break;
        case 3: case 8: out.push(this.u16(data, o)); break;
        case 4: case 9: case 13: out.push(this.u32(data, o)); break;
        case 5: case 10: out.push(this.u32(data, o), this.u32(data, o + 4)); break;
        case 16: case 17: case 18: out.push(this.u64(data, o)); break;
        default: return undefined;
      }
    }
    return out;
  }
}

function resolutionDpi(values: number[] | undefined, unit: number): number | undefined {
  if (!values || values.length < 2 || !values[1] || !values[0]) return undefined;
  const perUnit = values[0] / values[1];
  if (unit === 2) return roundDpi(perUnit);
  if (unit === 3) return roundDpi(perUnit * 2.54);
  return undefined; // unit 1: an aspect ratio only
}

/**
 * Walks a TIFF's directory chain with plain reads (no decoding, no whole-file read): frame sizes,
 * resolution, whether each frame's strips or tiles lie inside the file, and where the chain breaks.
 * We do this ourselves because libtiff silently stops counting at a broken link (a 4-page file cut
 * at 70% reports 2 pages) and, with `failOn: 'error'`, then refuses even the intact frames.
 * Throws ERR_BAD_INPUT_FILE when not even the first directory can be read.
 */
export async function readTiffLayout(file: string, maxFrames: number): Promise<TiffLayout> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    const order = head.toString('latin1', 0, 2);
    if (bytesRead < 8 || (order !== 'II' && order !== 'MM')) throw damaged('it is too short to hold a TIFF header');
    const le = order === 'II';
    const version = le ? head.readUInt16LE(2) : head.readUInt16BE(2);
    const big = version === 43;
    if (version !== 42 && !big) throw damaged(`its header has version ${version}, not 42 or 43`);
    if (big && bytesRead < 16) throw damaged('it is too short to hold a BigTIFF header');
    const r = new Reader(handle, size, le, big);
    const first = big ? r.u64(head, 8) : r.u32(head, 4);

    const layout: TiffLayout = { littleEndian: le, bigTiff: big, fileSize: size, frames: [], tooMany: false };
    const seen = new Set<number>();
    let offset = first;
    let pointerAt = big ? 8 : 4;
    while (offset !== 0) {
      const why =
        seen.has(offset) ? `its directory chain loops back to byte ${formatCount(offset)}`
        : offset + (big ? 8 : 2) > size ? `the directory of frame ${layout.frames.length + 1} would start at byte ${formatCount(offset)} but the file has only ${formatCount(size)} bytes (truncated file?)`
        : undefined;
      const ifd = why === undefined ? await readIfd(r, offset) : undefined;
      if (!ifd || typeof ifd === 'string') {
        const reason = why ?? (ifd as string | undefined) ?? 'damaged directory';
        if (layout.frames.length === 0) throw damaged(`its first directory cannot be read: ${reason}`);
        layout.brokenChain = { pointerAt, pointerSize: big ? 8 : 4, why: reason };
        break;
      }
      seen.add(offset);
      if (layout.frames.length === maxFrames) {
        layout.tooMany = true;
        break;
      }
      layout.frames.push(await describeFrame(r, layout.frames.length, offset, ifd.entries));
      pointerAt = ifd.nextAt;
      offset = ifd.next;
    }
    return layout;
  } finally {
    await handle.close();
  }
}

function damaged(why: string): AppError {
  return new AppError('ERR_BAD_INPUT_FILE', `TIFF is truncated or damaged: ${why}`);
}

async function readIfd(r: Reader, offset: number): Promise<{ entries: Map<number, Entry>; next: number; nextAt: number } | string> {
  const countBuf = await r.at(offset, r.big ? 8 : 2);
  if (!countBuf) return `the directory at byte ${formatCount(offset)} is cut off`;
  const n = r.big ? r.u64(countBuf, 0) : r.u16(countBuf, 0);
  if (n === 0 || n > MAX_IFD_ENTRIES) return `the directory at byte ${formatCount(offset)} claims ${formatCount(n)} entries`;
  const entrySize = r.big ? 20 : 12;
  const start = offset + countBuf.length;
  const table = await r.at(start, n * entrySize + (r.big ? 8 : 4));
  if (!table) return `the directory at byte ${formatCount(offset)} is cut off (the file has ${formatCount(r.size)} bytes; truncated file?)`;
  const entries = new Map<number, Entry>();
  for (let i = 0; i < n; i++) {
    const o = i * entrySize;
    const tag = r.u16(table, o);
    const type = r.u16(table, o + 2);
    const count = r.big ? r.u64(table, o + 4) : r.u32(table, o + 4);
    const field = Buffer.from(table.subarray(o + (r.big ? 12 : 8), o + entrySize));
    entries.set(tag, { type, count, field });
  }
  const nextAt = start + n * entrySize;
  return { entries, next: r.offset(table, n * entrySize), nextAt };
}

async function describeFrame(r: Reader, index: number, ifdOffset: number, entries: Map<number, Entry>): Promise<TiffFrame> {
  const frame: TiffFrame = { index, ifdOffset };
  const one = async (tag: number): Promise<number | undefined> => {
    const e = entries.get(tag);
    return e && e.count >= 1 ? (await r.values({ ...e, count: 1 }, 1))?.[0] : undefined;
  };
  frame.width = await one(TAG.width);
  frame.height = await one(TAG.height);
  const orientation = await one(TAG.orientation);
  if (orientation !== undefined && orientation >= 1 && orientation <= 8) frame.orientation = orientation;
  const unit = (await one(TAG.resolutionUnit)) ?? 2;
  const xr = entries.get(TAG.xResolution);
  const yr = entries.get(TAG.yResolution);
  frame.dpiX = xr ? resolutionDpi(await r.values({ ...xr, count: 1 }, 1), unit) : undefined;
  frame.dpiY = yr ? resolutionDpi(await r.values({ ...yr, count: 1 }, 1), unit) : frame.dpiX;
  if (frame.dpiX === undefined) delete frame.dpiX;
  if (frame.dpiY === undefined) delete frame.dpiY;

  const offsetsEntry = entries.get(TAG.stripOffsets) ?? entries.get(TAG.tileOffsets);
  const countsEntry = entries.get(TAG.stripByteCounts) ?? entries.get(TAG.tileByteCounts);
  if (offsetsEntry && countsEntry) {
    const offsets = await r.values(offsetsEntry, MAX_STRIPS);
    const counts = await r.values(countsEntry, MAX_STRIPS);
    if (!offsets || !counts) {
      frame.problem = 'its table of image data offsets lies beyond the end of the file (truncated file?)';
    } else {
      let end = 0;
      for (let i = 0; i < Math.min(offsets.length, counts.length); i++) {
        // A zero count marks an absent (sparse) strip, which readers fill in; it needs no bytes.
        if (counts[i]! > 0) end = Math.max(end, offsets[i]! + counts[i]!);
      }
      if (end > r.size) {
        frame.problem = `its image data is cut off: it needs ${formatCount(end)} bytes but the file has ${formatCount(r.size)} (truncated file?)`;
      }
    }
  }
  return frame;
}

/**
 * Splits a (multi-page) TIFF into one lossless PNG per frame. Each frame's size is checked from its
 * directory before decoding; frames whose data is cut off, too large or undecodable fail alone.
 * `originPrefix` names the containing file in a folder or ZIP ('' for a TIFF book).
 * `ownFile` says the file is a scratch copy the splitter may modify (to cut a broken chain).
 */
export async function* splitTiff(
  file: string,
  originPrefix: string,
  ctx: SplitContext,
  opts: { ownFile: boolean },
): AsyncGenerator<PageDraft, void, undefined> {
  const { maxPixels, maxPages } = ctx.limits;
  const layout = await readTiffLayout(file, maxPages);
  const what = originPrefix ? originPrefix.replace(/, $/, '') : 'TIFF';
  // A broken chain means at least one frame beyond the readable ones existed.
  if (layout.tooMany || (layout.brokenChain && layout.frames.length >= maxPages)) throw tooManyPagesError(what, maxPages);
  const total = layout.frames.length;

  let decodeFrom = file;
  if (layout.brokenChain) {
    // libtiff with failOn 'error' refuses every frame once the chain is broken (measured), and
    // lenient modes also accept cut-off strips; so cut the chain after the last intact directory
    // on a private copy and decode strictly from it. The uploaded file itself is never modified.
    decodeFrom = opts.ownFile ? file : path.join(await ctx.scratchDir(), `repaired-${randomUUID()}.tif`);
    if (!opts.ownFile) await fs.copyFile(file, decodeFrom);
    const h = await fs.open(decodeFrom, 'r+');
    try {
      await h.write(Buffer.alloc(layout.brokenChain.pointerSize), 0, layout.brokenChain.pointerSize, layout.brokenChain.pointerAt);
    } finally {
      await h.close();
    }
  }

  try {
    for (const frame of layout.frames) {
      const origin = `${originPrefix}tiff frame ${frame.index + 1}${layout.brokenChain ? '' : ` of ${total}`}`;
      const fail = (why: string): PageDraft => ({ ok: false, origin, reason: `${origin}: ${why}` });
      if (frame.problem) {
        yield fail(frame.problem);
        continue;
      }
      if (!frame.width || !frame.height) {
        yield fail('its directory has no image width or height');
        continue;
      }
      const tooBig = pixelLimitReason(frame.width, frame.height, maxPixels);
      if (tooBig) {
        yield fail(`image is ${tooBig}`);
        continue;
      }
      try {
        yield { ...(await encodeFrame(decodeFrom, frame, maxPixels)), origin };
      } catch (e) {
        yield fail(`cannot be decoded: ${errorMessage(e)}`);
      }
    }
    if (layout.brokenChain) {
      const origin = `${originPrefix}tiff frame ${total + 1}`;
      yield {
        ok: false,
        origin,
        reason: `${origin} and any after it cannot be read: ${layout.brokenChain.why}`,
      };
    }
  } finally {
    if (decodeFrom !== file) await fs.rm(decodeFrom, { force: true });
  }
}

/**
 * Decodes one frame strictly and re-encodes it as PNG, keeping greyscale and 16-bit samples
 * (sharp's default PNG output would turn grey into RGB and 16 into 8 bits).
 * `failOn: 'error'` was measured to reject cut-off strips (which 'truncated' and 'none' pass as
 * blank rows) while accepting ordinary scanner quirks (unknown private tags, ASCII tags without
 * their NUL, odd DateTime lengths) that 'warning' refuses with "unable to write to target".
 */
async function encodeFrame(file: string, frame: TiffFrame, maxPixels: number): Promise<Omit<Extract<PageDraft, { ok: true }>, 'origin'>> {
  const options = { page: frame.index, limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true, autoOrient: true } as const;
  const meta = await sharp(file, options).metadata();
  const sixteen = meta.depth === 'ushort';
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  const space = grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  // Orientations 5-8 swap the axes, and with them the two resolutions.
  const swapped = (frame.orientation ?? 1) >= 5;
  const dpiX = swapped ? frame.dpiY : frame.dpiX;
  const dpiY = swapped ? frame.dpiX : frame.dpiY;
  let pipeline = sharp(file, options).toColourspace(space);
  // PNG holds one density through sharp; embed it only when both axes agree.
  if (dpiX !== undefined && dpiX === dpiY) pipeline = pipeline.withDensity(dpiX);
  const { data, info } = await pipeline.png({ compressionLevel: 2 }).toBuffer({ resolveWithObject: true });
  return {
    ok: true,
    image: data,
    mediaType: 'image/png',
    width: info.width,
    height: info.height,
    ...(dpiX !== undefined ? { dpiX } : {}),
    ...(dpiY !== undefined ? { dpiY } : {}),
    extraction: 'converted',
  };
}

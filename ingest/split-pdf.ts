import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { AppError } from '../common/errors.ts';
import { errorMessage, formatCount, pixelLimitReason, roundDpi, tooManyPagesError } from './limits.ts';
import { refuseRawJavaScript } from './inspect.ts';
import type { PageDraft, SplitContext } from './split.ts';

/** Resolution at which pages that are not a single image are rasterised (lowered to fit maxPixels). */
export const PDF_RENDER_DPI = 300;

// Below this share of the page's area, a page's only image is a picture on the page, not its scan.
const MIN_IMAGE_COVERAGE = 0.5;

// A decoded image reaches page.objs after the operator list resolves; a big JPX can take a while.
const IMAGE_WAIT_MS = 120_000;

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type Matrix = [number, number, number, number, number, number];
type ImageOk = Extract<PageDraft, { ok: true }>;

// Loaded on first use: importing pdfjs installs DOMMatrix/Path2D/navigator globals, which processes
// that never split a PDF should not get.
let pdfjsPromise: Promise<{ lib: Pdfjs; assets: string }> | undefined;
function loadPdfjs(): Promise<{ lib: Pdfjs; assets: string }> {
  pdfjsPromise ??= (async () => {
    const lib = await import('pdfjs-dist/legacy/build/pdf.mjs');
    const entry = createRequire(import.meta.url).resolve('pdfjs-dist/legacy/build/pdf.mjs');
    return { lib, assets: path.resolve(path.dirname(entry), '../..') };
  })();
  return pdfjsPromise;
}

interface CanvasAndContext {
  canvas: unknown;
  context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface CanvasFactory {
  create(width: number, height: number): CanvasAndContext;
  destroy(canvasAndContext: CanvasAndContext): void;
}

interface RawImage {
  width: number;
  height: number;
  kind: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** What the operator list says about a page: painted by exactly one image, or needs rendering. */
type PagePlan =
  | ({ kind: 'image'; width: number; height: number; transform: Matrix; turn: Orientation } & ({ inline: RawImage } | { objId: string }))
  | { kind: 'render'; why: string };

function refuse(message: string): AppError {
  return new AppError('ERR_BAD_INPUT_FILE', message);
}

// pdfjs's stream message kind for "the worker failed this request" (StreamKind.ERROR in its source).
const STREAM_ERROR = 5;

/**
 * Hears the errors pdfjs's worker reports for page requests. With `stopAtErrors`, a failing
 * operator list (an image over `maxImageSize`, a broken content stream or font) reaches the API as
 * a *resolved*, silently emptied list, and a render of it as a blank success: pdfjs's error path
 * marks the list complete before rejecting. The error message itself still crosses the worker port,
 * so we listen there. Pages are processed one at a time, so what is heard belongs to the current page.
 * The message shape is pdfjs-internal: the huge-image test in split-pdf.test.ts guards it.
 */
class WorkerErrorTap {
  private heard: string[] = [];
  attach(port: { addEventListener(type: string, listener: (event: { data: unknown }) => void): void } | null): void {
    port?.addEventListener('message', (event) => {
      const data = event.data as { stream?: number; reason?: { message?: unknown } } | null;
      if (data && data.stream === STREAM_ERROR && data.reason) this.heard.push(String(data.reason.message ?? 'unknown error'));
    });
  }
  /** Forgets what was heard so far (call before each page request). */
  reset(): void {
    this.heard = [];
  }
  /** Throws the first error heard since the last reset. */
  check(): void {
    if (this.heard.length > 0) throw new Error(this.heard[0]);
  }
}

/**
 * Splits a PDF. A page painted by exactly one image yields that image's own pixels as lossless PNG
 * (rotated/mirrored as the page shows it, dpi from its placement); any other page is rendered at
 * 300 dpi. Refused as a whole, before any page: unparseable, encrypted, containing JavaScript,
 * more pages than maxPages. Memory: the file's bytes plus one page's decoded image(s) and PNG.
 */
export async function* splitPdf(file: string, ctx: SplitContext): AsyncGenerator<PageDraft, void, undefined> {
  const bytes = await fs.readFile(file);
  refuseRawJavaScript(bytes);
  const { lib, assets } = await loadPdfjs();
  const worker = new lib.PDFWorker({ verbosity: lib.VerbosityLevel.ERRORS });
  const tap = new WorkerErrorTap();
  try {
    await worker.promise;
    tap.attach(worker.port as never);
    yield* splitDocument(lib, assets, worker, tap, bytes, ctx);
  } finally {
    worker.destroy();
  }
}

async function* splitDocument(
  lib: Pdfjs,
  assets: string,
  worker: InstanceType<Pdfjs['PDFWorker']>,
  tap: WorkerErrorTap,
  bytes: Buffer,
  ctx: SplitContext,
): AsyncGenerator<PageDraft, void, undefined> {
  const { maxPixels, maxPages } = ctx.limits;
  const task = lib.getDocument({
    worker,
    // pdfjs takes ownership of (and may detach) the buffer it is given.
    data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: true,
    maxImageSize: maxPixels,
    verbosity: lib.VerbosityLevel.ERRORS,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    enableXfa: false,
    useWorkerFetch: false,
    standardFontDataUrl: `${assets}/standard_fonts/`,
    cMapUrl: `${assets}/cmaps/`,
    cMapPacked: true,
    iccUrl: `${assets}/iccs/`,
    wasmUrl: `${assets}/wasm/`,
  });
  let doc: PDFDocumentProxy;
  try {
    doc = await task.promise;
  } catch (e) {
    await task.destroy();
    const name = e instanceof Error ? e.name : '';
    if (name === 'PasswordException') throw refuse('PDF is encrypted and needs a password; upload an unencrypted copy');
    if (name === 'InvalidPDFException') throw refuse(`PDF cannot be parsed (damaged or truncated): ${errorMessage(e)}`);
    throw refuse(`PDF cannot be opened: ${errorMessage(e)}`);
  }
  try {
    await checkDocument(doc, maxPages);
    for (let n = 1; n <= doc.numPages; n++) {
      yield await splitPage(lib, doc, n, maxPixels, tap);
    }
  } finally {
    await doc.destroy();
  }
}

async function checkDocument(doc: PDFDocumentProxy, maxPages: number): Promise<void> {
  if (doc.numPages === 0) throw refuse('PDF has no pages');
  if (doc.numPages > maxPages) throw tooManyPagesError('PDF', maxPages, doc.numPages);
  const { info } = (await doc.getMetadata()) as { info: { EncryptFilterName?: string | null } };
  // Opened without a password yet encrypted (owner password only): still refused, an archive
  // master must not depend on a security handler.
  if (info.EncryptFilterName) throw refuse(`PDF is encrypted (${info.EncryptFilterName} security handler); upload an unencrypted copy`);
  const docActions = await doc.getJSActions();
  if (docActions) {
    throw refuse(`PDF contains JavaScript (document actions: ${Object.keys(docActions).join(', ')}); documents with scripts are refused`);
  }
  if (await doc.hasJSActions()) throw refuse('PDF contains JavaScript (form field actions); documents with scripts are refused');
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    try {
      const pageActions = await page.getJSActions();
      const annotations = (await page.getAnnotations()) as Array<{ actions?: unknown }>;
      if ((pageActions && Object.keys(pageActions).length > 0) || annotations.some((a) => a.actions)) {
        throw refuse(`PDF contains JavaScript (actions on page ${n}); documents with scripts are refused`);
      }
    } finally {
      page.cleanup();
    }
  }
}

async function splitPage(lib: Pdfjs, doc: PDFDocumentProxy, n: number, maxPixels: number, tap: WorkerErrorTap): Promise<PageDraft> {
  const fail = (origin: string, why: string): PageDraft => ({ ok: false, origin, reason: `${origin}: ${why}` });
  let page: PDFPageProxy;
  try {
    page = await doc.getPage(n);
  } catch (e) {
    return fail(`pdf page ${n}`, `cannot be read: ${errorMessage(e)}`);
  }
  try {
    let plan: PagePlan;
    try {
      tap.reset();
      const ops = await page.getOperatorList();
      tap.check();
      plan = planPage(lib, ops.fnArray, ops.argsArray, page);
    } catch (e) {
      const msg = errorMessage(e);
      // pdfjs's own message for maxImageSize names no size.
      if (/exceeded maximum allowed size/i.test(msg)) return fail(`pdf page ${n}`, `an image on the page exceeds the limit of ${formatCount(maxPixels)} pixels`);
      return fail(`pdf page ${n}`, `cannot be parsed: ${msg}`);
    }
    if (plan.kind === 'image') {
      const origin = `pdf page ${n} image`;
      const tooBig = pixelLimitReason(plan.width, plan.height, maxPixels);
      if (tooBig) return fail(origin, `image is ${tooBig}`);
      try {
        const raw = 'inline' in plan ? plan.inline : await waitForImage(page, plan.objId);
        if (!raw) return fail(origin, 'its image cannot be decoded');
        return { ...(await encodeImage(raw, plan.transform, plan.turn)), origin };
      } catch (e) {
        return fail(origin, `its image cannot be extracted: ${errorMessage(e)}`);
      }
    }
    const origin = `pdf page ${n} rendered`;
    try {
      tap.reset();
      const rendered = await renderPage(doc, page, maxPixels);
      tap.check();
      return { ...rendered, origin };
    } catch (e) {
      return fail(origin, `cannot be rendered: ${errorMessage(e)}`);
    }
  } finally {
    page.cleanup();
  }
}

function multiply(m: Matrix, n: Matrix): Matrix {
  // m ∘ n: apply n first, then m (PDF's row-vector convention written as pdfjs does).
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

/**
 * Reads the operator list: the page qualifies for extraction when exactly one image is painted and
 * nothing else is (no visible text, no filled or stroked paths, no shadings, no image masks, whose
 * colour comes from the graphics state). Invisible text (render mode 3, OCR layers) is allowed.
 */
function planPage(lib: Pdfjs, fnArray: number[], argsArray: unknown[][], page: PDFPageProxy): PagePlan {
  const OPS = lib.OPS;
  const paintPath = new Set<number>([OPS.stroke, OPS.closeStroke, OPS.fill, OPS.eoFill, OPS.fillStroke, OPS.eoFillStroke, OPS.closeFillStroke, OPS.closeEOFillStroke, OPS.rawFillPath]);
  const showText = new Set<number>([OPS.showText, OPS.showSpacedText, OPS.nextLineShowText, OPS.nextLineSetSpacingShowText]);
  const maskOrRepeat = new Set<number>([OPS.paintImageMaskXObject, OPS.paintImageMaskXObjectGroup, OPS.paintSolidColorImageMask, OPS.paintImageXObjectRepeat, OPS.paintImageMaskXObjectRepeat, OPS.paintInlineImageXObjectGroup]);
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  let textMode = 0;
  const stack: Array<{ ctm: Matrix; textMode: number }> = [];
  let found: { source: { inline: RawImage } | { objId: string }; width: number; height: number; ctm: Matrix } | undefined;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i]!;
    const args = argsArray[i] ?? [];
    if (fn === OPS.save) stack.push({ ctm, textMode });
    else if (fn === OPS.restore) ({ ctm, textMode } = stack.pop() ?? { ctm, textMode });
    else if (fn === OPS.transform) ctm = multiply(ctm, args as Matrix);
    else if (fn === OPS.paintFormXObjectBegin) {
      stack.push({ ctm, textMode });
      if (Array.isArray(args[0]) && args[0].length === 6) ctm = multiply(ctm, args[0] as Matrix);
    } else if (fn === OPS.paintFormXObjectEnd) ({ ctm, textMode } = stack.pop() ?? { ctm, textMode });
    else if (fn === OPS.setTextRenderingMode) textMode = Number(args[0]);
    else if (fn === OPS.paintImageXObject || fn === OPS.paintInlineImageXObject) {
      if (found) return { kind: 'render', why: 'more than one image' };
      const inline = fn === OPS.paintInlineImageXObject ? (args[0] as RawImage) : undefined;
      const width = inline ? inline.width : Number(args[1]);
      const height = inline ? inline.height : Number(args[2]);
      found = { width, height, ctm, source: inline ? { inline } : { objId: String(args[0]) } };
    } else if (maskOrRepeat.has(fn) || fn === OPS.shadingFill) return { kind: 'render', why: 'painted by more than an image' };
    else if (fn === OPS.constructPath && paintPath.has(Number(args[0]))) return { kind: 'render', why: 'has vector graphics' };
    else if (paintPath.has(fn)) return { kind: 'render', why: 'has vector graphics' };
    // Modes 3 (invisible) and 7 (clip only) paint nothing.
    else if (showText.has(fn) && textMode !== 3 && textMode !== 7) return { kind: 'render', why: 'has visible text' };
  }
  if (!found) return { kind: 'render', why: 'has no image' };
  // Image space (pixel x right, y down) → unit square → user space (CTM) → page view, upright.
  const viewport = page.getViewport({ scale: 1 });
  const pixelToUnit: Matrix = [1 / found.width, 0, 0, -1 / found.height, 0, 1];
  const transform = multiply(viewport.transform as Matrix, multiply(found.ctm, pixelToUnit));
  const turn = orientationOf(transform);
  if (!turn) return { kind: 'render', why: 'its image is placed at an angle' };
  // A small picture on an otherwise empty page is not the page: the page as seen is.
  const area = Math.abs(transform[0] * transform[3] - transform[1] * transform[2]) * found.width * found.height;
  if (area < MIN_IMAGE_COVERAGE * viewport.width * viewport.height) return { kind: 'render', why: 'its image covers little of the page' };
  return { kind: 'image', ...found.source, width: found.width, height: found.height, transform, turn };
}

function waitForImage(page: PDFPageProxy, objId: string): Promise<RawImage | null> {
  // Images used on several pages live in the document-wide store ('g_' ids).
  const store = objId.startsWith('g_') ? page.commonObjs : page.objs;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the decoded image')), IMAGE_WAIT_MS);
    store.get(objId, (img: RawImage | null) => {
      clearTimeout(timer);
      resolve(img);
    });
  });
}

/** How to turn stored pixels upright: sharp applies `flop` before `rotate` (measured, whatever the call order). */
interface Orientation {
  flop: boolean;
  rotate: 0 | 90 | 180 | 270;
  swapped: boolean;
}

function axis(x: number, y: number): [number, number] | undefined {
  const eps = 1e-6 * Math.max(Math.abs(x), Math.abs(y));
  if (Math.abs(y) <= eps && x !== 0) return [Math.sign(x), 0];
  if (Math.abs(x) <= eps && y !== 0) return [0, Math.sign(y)];
  return undefined;
}

/** The flop/rotation that maps the image's pixel axes onto the page's, or undefined when skewed. */
function orientationOf(t: Matrix): Orientation | undefined {
  const u = axis(t[0], t[1]);
  const v = axis(t[2], t[3]);
  if (!u || !v) return undefined;
  for (const flop of [false, true]) {
    for (const rotate of [0, 90, 180, 270] as const) {
      const apply = ([x, y]: [number, number]): [number, number] => {
        let p: [number, number] = flop ? [-x, y] : [x, y];
        // One clockwise quarter turn in y-down space: right → down, down → left.
        for (let k = 0; k < rotate / 90; k++) p = [-p[1], p[0]];
        return p;
      };
      const pu = apply([1, 0]);
      const pv = apply([0, 1]);
      if (pu[0] === u[0] && pu[1] === u[1] && pv[0] === v[0] && pv[1] === v[1]) return { flop, rotate, swapped: u[0] === 0 };
    }
  }
  return undefined;
}

type Raw = { data: Buffer; channels: 1 | 3 | 4 };

/** The single grey channel of an RGB(A) buffer when every pixel is neutral and opaque, else undefined. */
function neutralGrey(data: Uint8Array | Uint8ClampedArray, pixels: number, step: 3 | 4): Buffer | undefined {
  // One monomorphic pass (pdfjs and the canvas hand over Uint8ClampedArrays; a plain view is faster).
  const src = new Uint8Array(data.buffer, data.byteOffset, pixels * step);
  const grey = Buffer.allocUnsafe(pixels);
  for (let p = 0, i = 0; p < pixels; p++, i += step) {
    const v = src[i]!;
    if (v !== src[i + 1] || v !== src[i + 2] || (step === 4 && src[i + 3] !== 255)) return undefined;
    grey[p] = v;
  }
  return grey;
}

/**
 * pdfjs image data as sharp raw input: 1-bit expanded to grey, translucent pixels flattened onto
 * white (the page they sit on), neutral colour reduced to one channel. Buffers are views where possible.
 */
function toRaw(img: RawImage): Raw {
  const { width, height, kind } = img;
  const pixels = width * height;
  const src = img.data;
  if (kind === 1) {
    // 1 bit per pixel, rows padded to bytes, 1 = white as pdfjs delivers it.
    const rowBytes = (width + 7) >> 3;
    if (src.length < rowBytes * height) throw new Error('image data is shorter than its size');
    const out = Buffer.alloc(pixels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] = (src[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 255 : 0;
    }
    return { data: out, channels: 1 };
  }
  if (kind !== 2 && kind !== 3) throw new Error(`unknown image kind ${kind}`);
  const step = kind === 3 ? 4 : 3;
  if (src.length < pixels * step) throw new Error('image data is shorter than its size');
  const grey = neutralGrey(src, pixels, step);
  if (grey) return { data: grey, channels: 1 };
  const view = Buffer.from(src.buffer, src.byteOffset, pixels * step);
  if (step === 3) return { data: view, channels: 3 };
  let opaque = true;
  for (let i = 3; i < view.length && opaque; i += 4) opaque = view[i] === 255;
  if (opaque) return { data: view, channels: 4 };
  const rgb = Buffer.alloc(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const a = view[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round((view[p * 4 + c]! * a + 255 * (255 - a)) / 255);
  }
  return { data: rgb, channels: 3 };
}

async function encodePng(
  raw: Raw,
  width: number,
  height: number,
  turn: Orientation | undefined,
  dpi: { x?: number; y?: number },
): Promise<{ image: Buffer; width: number; height: number }> {
  let s = sharp(raw.data, { raw: { width, height, channels: raw.channels } });
  // Only opaque RGBA reaches here (see toRaw): the alpha carries nothing.
  if (raw.channels === 4) s = s.removeAlpha();
  if (turn?.flop) s = s.flop();
  if (turn?.rotate) s = s.rotate(turn.rotate);
  s = s.toColourspace(raw.channels === 1 ? 'b-w' : 'srgb');
  if (dpi.x !== undefined && dpi.x === dpi.y) s = s.withDensity(dpi.x);
  const { data, info } = await s.png({ compressionLevel: 2 }).toBuffer({ resolveWithObject: true });
  return { image: data, width: info.width, height: info.height };
}

async function encodeImage(img: RawImage, t: Matrix, turn: Orientation): Promise<Omit<ImageOk, 'origin'>> {
  // Points per pixel along each image axis; 72 points per inch.
  const dpiU = roundDpi(72 / Math.hypot(t[0], t[1]));
  const dpiV = roundDpi(72 / Math.hypot(t[2], t[3]));
  const dpiX = turn.swapped ? dpiV : dpiU;
  const dpiY = turn.swapped ? dpiU : dpiV;
  const out = await encodePng(toRaw(img), img.width, img.height, turn, { x: dpiX, y: dpiY });
  return { ok: true, mediaType: 'image/png', ...out, dpiX, dpiY, extraction: 'pdf-image' };
}

async function renderPage(doc: PDFDocumentProxy, page: PDFPageProxy, maxPixels: number): Promise<Omit<ImageOk, 'origin'>> {
  const base = page.getViewport({ scale: 1 });
  let scale = PDF_RENDER_DPI / 72;
  const pixels = base.width * scale * (base.height * scale);
  if (pixels > maxPixels) scale *= Math.sqrt(maxPixels / pixels);
  const viewport = page.getViewport({ scale });
  const width = Math.floor(viewport.width);
  const height = Math.floor(viewport.height);
  if (width < 1 || height < 1) throw new Error('the page has no area');
  const factory = doc.canvasFactory as CanvasFactory;
  const target = factory.create(width, height);
  try {
    await page.render({ canvas: target.canvas as never, viewport }).promise;
    // The canvas starts white and pdfjs paints opaque, so the RGBA is opaque.
    const rgba = target.context.getImageData(0, 0, width, height).data;
    const dpi = roundDpi(72 * scale);
    const out = await encodePng(toRaw({ width, height, kind: 3, data: rgba }), width, height, undefined, { x: dpi, y: dpi });
    return { ok: true, mediaType: 'image/png', ...out, dpiX: dpi, dpiY: dpi, extraction: 'pdf-render' };
  } finally {
    factory.destroy(target);
  }
}

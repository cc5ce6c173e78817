import sharp, { type Metadata } from 'sharp';
import { PermanentError } from '../../common/index.ts';
import { findObject, recordEvent, recordObject, setPageImageInfo } from '../../archive/index.ts';
import { readObject } from '../../storage/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../catalogue.ts';
import { runPageStage } from './page-stage.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'config'>;

/** Access derivatives made for every page: the viewer's image and the list thumbnail. */
export const DERIVATIVES = [
  { variant: 'view-webp', width: 1600, mediaType: 'image/webp' },
  { variant: 'thumb-jpeg', width: 320, mediaType: 'image/jpeg' },
] as const;

const MASTER_MEDIA_TYPE = 'image/tiff';
const AGENT = `arkiva page.master (sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips})`;

/**
 * Page source → preservation master (lossless TIFF, orientation applied, resolution recorded) and
 * access derivatives. Each output is content-addressed and recorded once, so a re-run after a crash
 * finds them and does nothing.
 */
export async function makeMaster(deps: Deps, job: JobOf<'page.master'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  return runPageStage(deps, 'page.master', job, ctx, maxAttempts, async (page) => {
    const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
    const have = await Promise.all([
      findObject(deps.db, { ...place, role: 'master' }),
      ...DERIVATIVES.map((d) => findObject(deps.db, { ...place, role: 'derivative', variant: d.variant })),
    ]);
    if (have.every((o) => o !== undefined) && page.width !== null) return 'skipped';

    const source = await findObject(deps.db, { ...place, role: 'source' });
    if (!source) throw new PermanentError(`page ${page.sequence} has no source image for revision ${job.revision}`);
    const started = Date.now();
    const input = await readObject(deps.store, source.storeKey, { expectedSha256: source.sha256 });

    const opts = { limitInputPixels: deps.config.ingest.maxPixels, failOn: 'error' as const };
    let meta: Metadata;
    try {
      meta = await sharp(input, opts).metadata();
    } catch (e) {
      throw new PermanentError(`page ${page.sequence}: source image cannot be read (${(e as Error).message})`);
    }
    // EXIF orientations 5-8 swap width and height.
    const swapped = (meta.orientation ?? 1) >= 5;
    const width = swapped ? meta.height! : meta.width!;
    const height = swapped ? meta.width! : meta.height!;
    const orientation = exifToDegrees(meta.orientation);
    const dpi = meta.density && meta.density > 1 ? meta.density : null;

    // Decode once (orientation applied) and build the master and every derivative from those
    // pixels: decoding and WebP effort dominate this stage, which must stay cheap next to OCR.
    // 16-bit scans skip the raw path, whose 8-bit buffer would not be lossless.
    const eightBit = meta.depth === undefined || meta.depth === 'uchar' || meta.depth === 'char';
    const decoded = eightBit ? await sharp(input, opts).rotate().raw().toBuffer({ resolveWithObject: true }) : undefined;
    const fromPixels = () =>
      decoded
        ? sharp(decoded.data, { raw: { width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels } })
        : sharp(input, opts).rotate();
    // Lossless: deflate with a horizontal predictor; greyscale scans stay single-channel.
    const master = await fromPixels()
      .tiff({
        compression: 'deflate',
        predictor: 'horizontal',
        ...(dpi ? { xres: dpi / 25.4, yres: dpi / 25.4, resolutionUnit: 'inch' as const } : {}),
      })
      .toBuffer();
    const masterPut = await deps.store.putContentAddressed('masters', master, { contentType: MASTER_MEDIA_TYPE });
    const { object: masterObj } = await recordObject(deps.db, { ...place, role: 'master' }, masterPut, MASTER_MEDIA_TYPE);

    for (const d of DERIVATIVES) {
      let pipeline = fromPixels().resize({ width: d.width, withoutEnlargement: true });
      pipeline = d.mediaType === 'image/webp' ? pipeline.webp({ quality: 80, effort: 0 }) : pipeline.jpeg({ quality: 78 });
      const put = await deps.store.putContentAddressed('derivatives', await pipeline.toBuffer(), { contentType: d.mediaType });
      await recordObject(deps.db, { ...place, role: 'derivative', variant: d.variant }, put, d.mediaType);
    }
    await setPageImageInfo(deps.db, page.id, { width, height, dpiX: dpi, dpiY: dpi, orientation });
    await recordEvent(deps.db, {
      bookId: job.bookId,
      pageId: job.pageId,
      objectId: masterObj.id,
      type: 'normalization',
      agent: AGENT,
      outcome: 'success',
      detail: `master ${width}x${height}${dpi ? ` at ${Math.round(dpi)} dpi` : ''}, sha256 ${masterPut.sha256}; derivatives ${DERIVATIVES.map((d) => d.variant).join(', ')}`,
      durationMs: Date.now() - started,
    });
    return 'done';
  });
}

function exifToDegrees(o: number | undefined): number {
  switch (o) {
    case 3: case 4: return 180;
    case 5: case 6: return 90;
    case 7: case 8: return 270;
    default: return 0;
  }
}

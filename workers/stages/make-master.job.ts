import sharp from 'sharp';
import { PermanentError } from '../../common/index.ts';
import { findPageObjects, recordEvent, recordObjects, setPageImageInfo, type ObjectPlace } from '../../archive/index.ts';
import { readObject } from '../../storage/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import type { JobContext, JobOutcome } from '../../queue/index.ts';
import type { JobOf } from '../../pipeline/index.ts';
import { runPageStage } from './page-stage.ts';
import { DERIVATIVES, MASTER_MEDIA_TYPE, PYRAMID, renderPageImages, UnreadableImageError } from './page-images.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'log' | 'config'>;

const AGENT = `arkiva page.master (sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips})`;

/**
 * Page source → preservation master (lossless TIFF, orientation applied, resolution recorded) and
 * access derivatives. Each output is content-addressed and recorded once, so a re-run after a crash
 * finds them and does nothing.
 */
export async function makeMaster(deps: Deps, job: JobOf<'page.master'>, ctx: JobContext, maxAttempts: number): Promise<JobOutcome> {
  return runPageStage(deps, 'page.master', job, ctx, maxAttempts, async (page) => {
    const place = { bookId: job.bookId, pageId: job.pageId, revision: job.revision };
    const objects = await findPageObjects(deps.db, place);
    const have = [objects.get('master'), ...DERIVATIVES.map((d) => objects.get(`derivative/${d.variant}`))];
    if (have.every((o) => o !== undefined) && page.width !== null) return 'skipped';

    const source = objects.get('source');
    if (!source) throw new PermanentError(`page ${page.sequence} has no source image for revision ${job.revision}`);
    const started = Date.now();
    const input = await readObject(deps.store, source.storeKey, { expectedSha256: source.sha256 });
    let images;
    try {
      images = await renderPageImages(input, { maxPixels: deps.config.ingest.maxPixels });
    } catch (e) {
      if (e instanceof UnreadableImageError) throw new PermanentError(`page ${page.sequence}: ${e.message}`);
      throw e;
    }
    const { width, height, dpi, orientation } = images;
    const masterPut = await deps.store.putContentAddressed('masters', images.master, { contentType: MASTER_MEDIA_TYPE });
    const outputs: { place: ObjectPlace; put: typeof masterPut; mediaType: string }[] = [{ place: { ...place, role: 'master' }, put: masterPut, mediaType: MASTER_MEDIA_TYPE }];
    for (const d of images.derivatives) {
      const put = await deps.store.putContentAddressed('derivatives', d.body, { contentType: d.mediaType });
      outputs.push({ place: { ...place, role: 'derivative', variant: d.variant }, put, mediaType: d.mediaType });
    }
    const pyramidPut = await deps.store.putContentAddressed('derivatives', images.pyramid, { contentType: PYRAMID.mediaType });
    outputs.push({ place: { ...place, role: 'derivative', variant: PYRAMID.variant }, put: pyramidPut, mediaType: PYRAMID.mediaType });
    const masterObj = (await recordObjects(deps.db, outputs))[0]!;
    await setPageImageInfo(deps.db, page.id, { width, height, dpiX: dpi, dpiY: dpi, orientation, inkRatio: images.inkRatio });
    await recordEvent(deps.db, {
      bookId: job.bookId,
      pageId: job.pageId,
      objectId: masterObj.id,
      type: 'normalization',
      agent: AGENT,
      outcome: 'success',
      detail: `master ${width}x${height}${dpi ? ` at ${Math.round(dpi)} dpi` : ''}, sha256 ${masterPut.sha256}; derivatives ${[...DERIVATIVES.map((d) => d.variant), PYRAMID.variant].join(', ')}`,
      durationMs: Date.now() - started,
    });
    return 'done';
  });
}

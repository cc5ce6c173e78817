/**
 * The archive's IIIF interfaces. Image API 3.0 over the page masters: request parsing and
 * resolution, info.json, and the rendering service (pyramid derivative or master, renderings cached
 * in the store). Presentation 3.0 manifests and annotations, and Content Search within a book.
 */
export {
  parseImageRequest, parseRegion, parseSize, parseRotation, parseQualityFormat, resolveImageRequest, resolveRegion, resolveSize, canonicalSpec,
  FORMATS, QUALITIES, type ImageRequest, type ResolvedRequest, type RegionParam, type SizeParam, type Quality, type Format, type ImageLimits,
} from './image-request.ts';
export { imageInfo, scaleFactors, IMAGE_LIMITS, TILE_SIZE, type ImageInfo } from './info.ts';
export { IiifImageService, PYRAMID_VARIANT, type Rendering } from './image-service.ts';
// Presentation 3.0 and Content Search 2.0 (manifest, annotations, search).
export { bookManifest, buildManifest, PRESENTATION_CONTEXT, MANIFEST_RIGHTS, IMAGE_SERVICE_PROFILE, type ManifestReader, type IiifJson } from './manifest.ts';
export { entriesAnnotationPage, buildEntriesPage, entryText } from './entries-annotations.ts';
export { searchBookWords, search1Answer, search2Answer, SEARCH2_CONTEXT, IGNORED_SEARCH_PARAMS, MAX_SEARCH_PAGES, type BookSearchMatch, type SearchAnswerContext } from './content-search.ts';
export { bookIiifIds, xywh, type BookIiifIds } from './presentation-ids.ts';

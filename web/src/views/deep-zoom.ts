import type OSD from 'openseadragon';
import type { Box } from '../types.ts';

/** The IIIF Image API 3.0 `info.json` of a page's image service, as far as the viewer reads it. */
export interface ImageServiceInfo {
  '@context': string;
  id: string;
  width: number;
  height: number;
  tiles?: { width: number; height?: number; scaleFactors: number[] }[];
}

/** A box drawn over the page: its element and where it sits, in page pixels. */
export interface OverlayItem {
  box: Box;
  el: HTMLElement;
}

/** What the page screen asks of the deep-zoom view; boxes are always in page (master) pixels. */
export interface DeepZoom {
  /** Replaces one named set of boxes (hits, entries, the focused entry). */
  setLayer(name: string, items: OverlayItem[]): void;
  /** Shows (or, with null, hides) the box being drawn. */
  showDraft(b: Box | null): void;
  fit(): void;
  zoomBy(factor: number): void;
  /** One image pixel to one CSS pixel, about the centre of the view. */
  actualSize(): void;
  rotateBy(degrees: 90 | -90): void;
  /** Moves the view by screen pixels. */
  panBy(dx: number, dy: number): void;
  /** Centres the view on a box, zoomed at least so that it is readable. */
  focusBox(b: Box, immediately?: boolean): void;
  /** Zooms so the box fills most of the view, and centres it. */
  zoomOnto(b: Box, immediately?: boolean): void;
  /** Image pixels per CSS pixel now (1 = actual size). */
  imageZoom(): number;
  /** The rotation now, 0, 90, 180 or 270 degrees clockwise. */
  rotation(): number;
  /** Lets the pointer draw a box (the view no longer pans) until `onDone` got one or `stopDrawing`. */
  startDrawing(onDone: (b: Box) => void): void;
  stopDrawing(): void;
  destroy(): void;
}

/** Options of the view: the headers tile requests carry and what the screen wants to hear. */
export interface DeepZoomOptions {
  headers: Record<string, string>;
  /** Zoom or rotation changed (for the toolbar's reading of them). */
  onView(): void;
  /** Every tile the current view needs has loaded (true) or more are loading (false). */
  onLoaded(loaded: boolean): void;
  /** A tile could not be loaded (network, refusal). */
  onTileFailed(): void;
}

// The old viewer showed the page at most 2000 px wide: "readable" is that scale (or actual size).
const READABLE_WIDTH = 2000;
// Zooming past the master's own pixels only magnifies them; four times is enough to read a faint stroke.
const MAX_PIXEL_RATIO = 4;

/**
 * Opens a page's IIIF image service in OpenSeadragon inside `host` and resolves once the image is
 * open. Overlays are OpenSeadragon overlays in image coordinates, so they stay on their words at
 * any zoom and rotation. Tiles are fetched with XHR (not <img src>) so they carry the access
 * purpose like every other read; the library is loaded on first use, in its own bundle file.
 */
export async function openDeepZoom(host: HTMLElement, info: ImageServiceInfo, page: { width: number; height: number }, opts: DeepZoomOptions): Promise<DeepZoom> {
  const { default: OpenSeadragon } = await import('openseadragon');
  const reduced = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
  const viewer = OpenSeadragon({
    element: host,
    tileSources: info,
    // The canvas drawer: WebGL is not everywhere (virtual desktops, some tablets), the canvas is.
    drawer: 'canvas',
    // The screen's own buttons (labelled, translated, keyboard operable) replace the library's image buttons.
    showNavigationControl: false,
    showNavigator: false,
    tabIndex: '',
    loadTilesWithAjax: true,
    ajaxHeaders: opts.headers,
    crossOriginPolicy: false,
    animationTime: reduced ? 0 : 0.5,
    maxZoomPixelRatio: MAX_PIXEL_RATIO,
    minZoomImageRatio: 0.5,
    visibilityRatio: 0.2,
    preserveImageSizeOnResize: true,
    // A click is not a zoom: clerks click to focus the view and to draw.
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    gestureSettingsPen: { clickToZoom: false },
  });

  const tiled = await new Promise<OSD.TiledImage>((resolve, reject) => {
    viewer.addOnceHandler('open', () => {
      const item = viewer.world.getItemAt(0);
      if (item) resolve(item);
      else reject(new Error('OpenSeadragon opened no image'));
    });
    viewer.addOnceHandler('open-failed', (e) => {
      viewer.destroy();
      reject(new Error(String(e.message ?? 'the image service could not be opened')));
    });
  });

  // Page pixels (boxes) to the service's pixels: the same master, so normally 1.
  const kx = info.width / page.width;
  const ky = info.height / page.height;
  const rectOf = (b: Box) => tiled.imageToViewportRectangle(b.x0 * kx, b.y0 * ky, (b.x1 - b.x0) * kx, (b.y1 - b.y0) * ky);
  const layers = new Map<string, HTMLElement[]>();
  const place = (el: HTMLElement, b: Box) => viewer.addOverlay({ element: el, location: rectOf(b), rotationMode: OpenSeadragon.OverlayRotationMode.BOUNDING_BOX });

  tiled.addHandler('fully-loaded-change', (e) => opts.onLoaded(e.fullyLoaded));
  viewer.addHandler('tile-load-failed', () => opts.onTileFailed());
  for (const ev of ['zoom', 'rotate', 'animation-finish']) viewer.addHandler(ev, () => opts.onView());

  const readable = () => tiled.imageToViewportZoom(Math.min(1, READABLE_WIDTH / info.width));
  const centre = (b: Box) => rectOf(b).getCenter();
  const limit = (z: number) => Math.min(viewer.viewport.getMaxZoom(), Math.max(viewer.viewport.getMinZoom(), z));

  let draft: HTMLElement | null = null;
  let drawing: ((b: Box) => void) | null = null;
  let start: { x: number; y: number } | null = null;
  /** A pointer position as page pixels, clamped to the page. */
  const toPage = (e: PointerEvent) => {
    const r = viewer.element.getBoundingClientRect();
    const p = tiled.viewerElementToImageCoordinates(new OpenSeadragon.Point(e.clientX - r.left, e.clientY - r.top));
    return {
      x: Math.round(Math.min(Math.max(p.x / kx, 0), page.width)),
      y: Math.round(Math.min(Math.max(p.y / ky, 0), page.height)),
    };
  };
  const boxFrom = (a: { x: number; y: number }, b: { x: number; y: number }): Box =>
    ({ x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) });
  // Capture phase on the host: while drawing, the library's own pointer handling never sees the drag.
  const down = (e: PointerEvent) => {
    if (!drawing) return;
    e.stopPropagation();
    e.preventDefault();
    host.setPointerCapture(e.pointerId);
    start = toPage(e);
  };
  const move = (e: PointerEvent) => {
    if (!drawing || !start) return;
    e.stopPropagation();
    dz.showDraft(boxFrom(start, toPage(e)));
  };
  const up = (e: PointerEvent) => {
    if (!drawing || !start) return;
    e.stopPropagation();
    const b = boxFrom(start, toPage(e));
    start = null;
    if (b.x1 - b.x0 > 4 && b.y1 - b.y0 > 4) {
      const done = drawing;
      dz.showDraft(b);
      dz.stopDrawing();
      done(b);
    } else dz.showDraft(null);
  };
  host.addEventListener('pointerdown', down, { capture: true });
  host.addEventListener('pointermove', move, { capture: true });
  host.addEventListener('pointerup', up, { capture: true });

  const dz: DeepZoom = {
    setLayer(name, items) {
      for (const el of layers.get(name) ?? []) viewer.removeOverlay(el);
      layers.set(name, items.map((i) => i.el));
      for (const i of items) place(i.el, i.box);
    },
    showDraft(b) {
      if (!b) {
        if (draft) viewer.removeOverlay(draft);
        draft = null;
        return;
      }
      if (draft) viewer.updateOverlay(draft, rectOf(b));
      else {
        draft = document.createElement('div');
        draft.className = 'box draft';
        draft.dataset.testid = 'draft-box';
        place(draft, b);
      }
    },
    fit: () => viewer.viewport.goHome(),
    zoomBy: (f) => { viewer.viewport.zoomTo(limit(viewer.viewport.getZoom() * f)); },
    actualSize: () => { viewer.viewport.zoomTo(tiled.imageToViewportZoom(1)); },
    rotateBy(d) {
      viewer.viewport.setRotation((((Math.round(viewer.viewport.getRotation() / 90) * 90 + d) % 360) + 360) % 360);
    },
    panBy(dx, dy) {
      viewer.viewport.panBy(viewer.viewport.deltaPointsFromPixels(new OpenSeadragon.Point(dx, dy)));
    },
    focusBox(b, immediately = false) {
      viewer.viewport.zoomTo(limit(Math.max(viewer.viewport.getZoom(), readable())), null, immediately);
      viewer.viewport.panTo(centre(b), immediately);
    },
    zoomOnto(b, immediately = false) {
      const r = rectOf(b);
      // The box fills 90% of the view: the rectangle grown by a ninth around its centre.
      const grow = 1 / 0.9;
      viewer.viewport.fitBounds(new OpenSeadragon.Rect(r.x - (r.width * (grow - 1)) / 2, r.y - (r.height * (grow - 1)) / 2, r.width * grow, r.height * grow), immediately);
    },
    imageZoom: () => tiled.viewportToImageZoom(viewer.viewport.getZoom(true)),
    rotation: () => ((Math.round(viewer.viewport.getRotation() / 90) * 90) % 360 + 360) % 360,
    startDrawing(onDone) {
      drawing = onDone;
      viewer.setMouseNavEnabled(false);
    },
    stopDrawing() {
      drawing = null;
      start = null;
      viewer.setMouseNavEnabled(true);
    },
    destroy() {
      host.removeEventListener('pointerdown', down, { capture: true });
      host.removeEventListener('pointermove', move, { capture: true });
      host.removeEventListener('pointerup', up, { capture: true });
      viewer.destroy();
    },
  };
  opts.onLoaded(tiled.getFullyLoaded());
  return dz;
}

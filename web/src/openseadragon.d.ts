/**
 * The part of OpenSeadragon 5 the page viewer uses (the package ships no types). Names and
 * signatures follow the library's API documentation (openseadragon.github.io/docs); only what
 * web/src/views/deep-zoom.ts calls is declared, so a use beyond it is a compile error to look up.
 */
declare module 'openseadragon' {
  namespace OpenSeadragon {
    class Point {
      constructor(x?: number, y?: number);
      x: number;
      y: number;
    }
    class Rect {
      constructor(x?: number, y?: number, width?: number, height?: number);
      x: number;
      y: number;
      width: number;
      height: number;
      getCenter(): Point;
    }
    /** How an overlay follows the viewport's rotation. */
    const OverlayRotationMode: { readonly NO_ROTATION: number; readonly EXACT: number; readonly BOUNDING_BOX: number };

    interface Viewport {
      getZoom(current?: boolean): number;
      zoomTo(zoom: number, refPoint?: Point | null, immediately?: boolean): Viewport;
      zoomBy(factor: number, refPoint?: Point | null, immediately?: boolean): Viewport;
      fitBounds(bounds: Rect, immediately?: boolean): Viewport;
      panTo(center: Point, immediately?: boolean): Viewport;
      panBy(delta: Point, immediately?: boolean): Viewport;
      goHome(immediately?: boolean): void;
      getRotation(current?: boolean): number;
      setRotation(degrees: number, immediately?: boolean): Viewport;
      getCenter(current?: boolean): Point;
      deltaPointsFromPixels(deltaPixels: Point, current?: boolean): Point;
      getMaxZoom(): number;
      getMinZoom(): number;
    }
    interface TiledImage {
      imageToViewportRectangle(x: number, y: number, width: number, height: number): Rect;
      viewerElementToImageCoordinates(pixel: Point): Point;
      imageToViewportZoom(imageZoom: number): number;
      viewportToImageZoom(viewportZoom: number): number;
      getFullyLoaded(): boolean;
      addHandler(event: 'fully-loaded-change', handler: (e: { fullyLoaded: boolean }) => void): void;
    }
    interface World {
      getItemAt(index: number): TiledImage | undefined;
    }
    interface OverlayOptions {
      element: HTMLElement;
      location: Rect;
      rotationMode?: number;
    }
    interface Viewer {
      element: HTMLElement;
      viewport: Viewport;
      world: World;
      addOverlay(options: OverlayOptions): Viewer;
      updateOverlay(element: HTMLElement, location: Rect): Viewer;
      removeOverlay(element: HTMLElement): Viewer;
      setMouseNavEnabled(enabled: boolean): Viewer;
      addHandler(event: string, handler: (e: Record<string, unknown>) => void): void;
      addOnceHandler(event: string, handler: (e: Record<string, unknown>) => void): void;
      destroy(): void;
    }
    interface GestureSettings {
      clickToZoom?: boolean;
      dblClickToZoom?: boolean;
      flickEnabled?: boolean;
    }
    interface Options {
      element: HTMLElement;
      /** An IIIF info.json object (or its URL). */
      tileSources: unknown;
      drawer?: string | string[];
      showNavigationControl?: boolean;
      showNavigator?: boolean;
      /** `''`: the canvas gets no tabindex (the page's own element is the keyboard stop). */
      tabIndex?: number | '';
      loadTilesWithAjax?: boolean;
      ajaxHeaders?: Record<string, string>;
      crossOriginPolicy?: false | 'Anonymous' | 'use-credentials';
      animationTime?: number;
      springStiffness?: number;
      maxZoomPixelRatio?: number;
      minZoomImageRatio?: number;
      visibilityRatio?: number;
      gestureSettingsMouse?: GestureSettings;
      gestureSettingsTouch?: GestureSettings;
      gestureSettingsPen?: GestureSettings;
      preserveImageSizeOnResize?: boolean;
      timeout?: number;
    }
  }
  function OpenSeadragon(options: OpenSeadragon.Options): OpenSeadragon.Viewer;
  export default OpenSeadragon;
}

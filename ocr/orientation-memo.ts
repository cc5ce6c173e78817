/**
 * Orientation found once per page image. A page read with fallbacks (recognizeBounded) meets
 * several profiles that detect orientation on the very same image (+osd, +flip, the rescues); the
 * page's turn does not change between them, and with native Tesseract each detection is a process
 * of its own (~0.35 s of CPU), so a grey grainy page that reached the rescues paid it four times.
 */
import type { DetectedOrientation } from './tesseract-osd.ts';

/** Remembers, per image buffer (by identity), what orientation detection found on it. */
export class OrientationMemo {
  private readonly found = new WeakMap<Buffer, Promise<DetectedOrientation | undefined>>();

  /** What `detect` finds on `image`, run at most once per image while it succeeds; a failure (abort, close) is forgotten. */
  detect(image: Buffer, detect: () => Promise<DetectedOrientation | undefined>): Promise<DetectedOrientation | undefined> {
    let known = this.found.get(image);
    if (!known) {
      known = detect();
      this.found.set(image, known);
      known.catch(() => this.found.delete(image));
    }
    return known;
  }
}

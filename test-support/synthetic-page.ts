/**
 * Synthetic register pages for the OCR tests and measurements: typed text rendered with sharp
 * from SVG (DejaVu Sans), each word placed at a known position so recognised boxes can be checked.
 */
import sharp from 'sharp';

/** Where one word was drawn: left edge and baseline, font size, and the box of its ink, in pixels. */
export interface DrawnWord {
  text: string;
  x: number;
  baseline: number;
  size: number;
  ink: { x0: number; y0: number; x1: number; y1: number };
}

/** A rendered page and where its words are. */
export interface SyntheticPage {
  png: Buffer;
  width: number;
  height: number;
  words: DrawnWord[];
}

/** Entries in the style of a civil register, in Albanian and Serbian (Cyrillic). */
export const REGISTER_LINES = [
  'Gjergj Krasniqi 12.03.1958 Prishtinë',
  'Милош Јовановић 1961 Београд',
  'Shqipe Berisha 04.11.1962 Gjakovë',
  'Драган Петровић 1959 Ниш',
  'Arben Gashi 23.07.1970 Prizren',
  'Јелена Николић 1966 Крагујевац',
  'Valbona Hoxha 15.01.1975 Pejë',
  'Бранко Стојановић 1948 Нови Сад',
  'Fatmir Morina 30.09.1981 Ferizaj',
  'Марија Илић 1972 Шабац',
  'Lirije Shala 08.05.1955 Mitrovicë',
  'Петар Марковић 1969 Чачак',
  'Besnik Kelmendi 19.12.1984 Gjilan',
  'Ана Ђорђевић 1977 Зрењанин',
];

// Words sit one space of DejaVu Sans (0.32 em) apart, ink to ink, as in typed text.
const GAP_EM = 0.32;

/** Renders `lines` on a white page, one `<text>` per word placed from its measured ink, and returns a PNG. */
export async function renderTextPage(opts: {
  width: number;
  height: number;
  lines: readonly string[];
  size?: number;
  left?: number;
  top?: number;
  lineHeight?: number;
}): Promise<SyntheticPage> {
  const size = opts.size ?? 40;
  const left = opts.left ?? Math.round(size * 1.5);
  const lineHeight = opts.lineHeight ?? Math.round(size * 2.2);
  let baseline = (opts.top ?? size * 2) + size;
  const words: DrawnWord[] = [];
  const inkCache = new Map<string, Ink>();
  for (const line of opts.lines) {
    let x = left;
    for (const text of line.split(/\s+/).filter(Boolean)) {
      let ink = inkCache.get(text);
      if (!ink) inkCache.set(text, (ink = await measureInk(text, size)));
      const x0 = x + ink.dx;
      words.push({ text, x, baseline, size, ink: { x0, y0: baseline + ink.dy, x1: x0 + ink.width, y1: baseline + ink.dy + ink.height } });
      x = x0 + ink.width + Math.round(GAP_EM * size);
    }
    baseline += lineHeight;
  }
  const png = await sharp(svgOf(opts.width, opts.height, words), { limitInputPixels: false }).toColourspace('b-w').png({ compressionLevel: 1 }).toBuffer();
  return { png, width: opts.width, height: opts.height, words };
}

interface Ink {
  /** Offset of the ink's left edge from the text origin. */
  dx: number;
  /** Offset of the ink's top from the baseline (negative: above it). */
  dy: number;
  width: number;
  height: number;
}

async function measureInk(text: string, size: number): Promise<Ink> {
  const ox = size;
  const oy = Math.round(size * 1.5);
  const svg = svgOf((text.length + 3) * size, size * 3, [{ text, x: ox, baseline: oy, size }]);
  const { info } = await sharp(svg).greyscale().trim({ background: '#ffffff', threshold: 40 }).raw().toBuffer({ resolveWithObject: true });
  const inkLeft = -(info.trimOffsetLeft ?? 0);
  const inkTop = -(info.trimOffsetTop ?? 0);
  return { dx: inkLeft - ox, dy: inkTop - oy, width: info.width, height: info.height };
}

function svgOf(width: number, height: number, words: readonly Pick<DrawnWord, 'text' | 'x' | 'baseline' | 'size'>[]): Buffer {
  const body = words
    .map((w) => `<text x="${w.x}" y="${w.baseline}" font-family="DejaVu Sans" font-size="${w.size}" fill="#111">${escapeXml(w.text)}</text>`)
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Handwritten-looking register pages for the handwriting verdict's tests and benchmark, made
 * here until the fixture generator has a handwritten style (issue 20, point 7): a printed ledger
 * form (title and column headings in DejaVu, ruled columns) whose rows are filled in with Debian's
 * handwriting fonts (fonts-dkg-handwriting, fonts-ecolier-court, fonts-bwht), with the entries of a
 * fixture book, per-word size, slant and baseline jitter, rows that drift and faint rules. Words a
 * handwriting font cannot write (Serbian č ć đ š ž, Cyrillic) fall back to DejaVu Serif Italic, as
 * the generator's own handwritten faces do.
 */
import sharp, { type OutputInfo } from 'sharp';
import { createRng, planBook, type BookLanguage, type Rng } from '../fixtures/index.ts';

/** Handwriting families installed by scripts/services.sh (fc-list names). */
export const HAND_FAMILIES = ['DkgHandwriting', 'Ecolier_court', 'Because We Organize', 'Because We Create', 'Because We Learn'] as const;

// Letters every hand family above has: anything else is written in the fallback face.
const HAND_SAFE = /^[A-Za-z0-9ëËçÇ.,:/()'\- ]*$/;

/** Options of one handwritten page. */
export interface HandwrittenPageOptions {
  seed: number;
  /** Default 'sq'. */
  language?: BookLanguage;
  /** Page width in pixels; height follows A4 landscape. Default 1240 (150 dpi, FIXTURE_TEST_SCALE). */
  width?: number;
  /** 0-3: skew, grain and a light blur, like the fixture noise levels. Default 0. */
  noise?: 0 | 1 | 2 | 3;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A handwritten register page as a greyscale PNG. */
export async function handwrittenPagePng(opts: HandwrittenPageOptions): Promise<Buffer> {
  const width = opts.width ?? 1240;
  const height = Math.round(width * 0.7073);
  const k = width / 2480;
  const rng = createRng(opts.seed * 7919 + 13);
  const book = planBook({ seed: opts.seed, pages: 1, scale: 0.5, ...(opts.language ? { language: opts.language } : {}) });
  const truth = book.truth.pages[0]!;
  const family = HAND_FAMILIES[Math.floor(rng.next() * HAND_FAMILIES.length)]!;
  const ink = ['#1c2a5a', '#2b2320', '#202020', '#3a2a55'][Math.floor(rng.next() * 4)]!;
  const parts: string[] = [`<rect width="100%" height="100%" fill="#f4efe2"/>`];

  // The printed form: title, meta line and column headings, as on real ledgers.
  const title = truth.header.lines.map((l) => l.text);
  title.slice(0, 3).forEach((t, i) => parts.push(`<text x="${width / 2}" y="${(70 + i * 52) * k}" text-anchor="middle" font-family="DejaVu Serif" font-weight="${i === 1 ? 'bold' : 'normal'}" font-size="${(i === 1 ? 40 : 30) * k}" fill="#222">${esc(t)}</text>`));
  const top = 250 * k;
  const headH = 90 * k;
  const left = 80 * k;
  const right = width - 80 * k;
  const columns = truth.columns.map((c) => ({ key: c.key, label: c.label, x0: c.box.left, x1: c.box.left + c.box.width }));
  const srcLeft = Math.min(...columns.map((c) => c.x0));
  const srcRight = Math.max(...columns.map((c) => c.x1));
  const xOf = (x: number) => left + ((x - srcLeft) / (srcRight - srcLeft)) * (right - left);
  const rows = 14;
  const rowH = (height - top - headH - 60 * k) / rows;
  const rule = `stroke="#8a8a8a" stroke-opacity="${(0.45 + rng.next() * 0.4).toFixed(2)}" stroke-width="${Math.max(1, 2 * k)}"`;
  for (const c of columns) {
    parts.push(`<line x1="${xOf(c.x0)}" y1="${top}" x2="${xOf(c.x0)}" y2="${top + headH + rows * rowH}" ${rule}/>`);
    const label = c.label.split(/\s+/).slice(0, 2).join(' ');
    parts.push(`<text x="${xOf(c.x0) + 6 * k}" y="${top + headH * 0.6}" font-family="DejaVu Sans" font-size="${20 * k}" fill="#222">${esc(label)}</text>`);
  }
  parts.push(`<line x1="${right}" y1="${top}" x2="${right}" y2="${top + headH + rows * rowH}" ${rule}/>`);
  for (let r = 0; r <= rows; r++) parts.push(`<line x1="${left}" y1="${top + headH + r * rowH}" x2="${right}" y2="${top + headH + r * rowH}" ${rule}/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${right}" y2="${top}" ${rule}/>`);

  // The entries, by hand: each word on its own baseline, size and slant; the row drifts as a hand does.
  truth.entries.forEach((e, r) => {
    let drift = (rng.next() - 0.5) * rowH * 0.2;
    for (const cell of e.cells) {
      const col = columns.find((c) => c.key === cell.column) ?? columns[0]!;
      let x = xOf(col.x0) + 8 * k + rng.next() * 10 * k;
      const maxX = xOf(col.x1) - 4 * k;
      for (const word of cell.text.split(/\s+/).filter(Boolean)) {
        const size = rowH * (0.5 + rng.next() * 0.22);
        drift += (rng.next() - 0.5) * rowH * 0.08;
        const y = top + headH + (r + 0.72) * rowH + drift;
        const hand = HAND_SAFE.test(word);
        const face = hand ? `font-family="${family}"` : 'font-family="DejaVu Serif" font-style="italic"';
        const slant = (rng.next() - 0.3) * 8;
        parts.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${face} font-size="${size.toFixed(1)}" fill="${ink}" transform="rotate(${slant.toFixed(1)} ${x.toFixed(1)} ${y.toFixed(1)})" textLength="${Math.min(word.length * size * 0.5, Math.max(10, maxX - x)).toFixed(1)}" lengthAdjust="spacingAndGlyphs">${esc(word)}</text>`);
        x += word.length * size * 0.5 + size * 0.35;
        if (x > maxX) break;
      }
    }
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  return degrade(await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true }), opts.noise ?? 0, rng);
}

async function degrade(img: { data: Buffer; info: OutputInfo }, noise: number, rng: Rng): Promise<Buffer> {
  const { data, info } = img;
  const grain = noise * 6;
  if (grain > 0) for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, data[i]! + Math.round((rng.next() + rng.next() - 1) * grain)));
  let s = sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } });
  if (noise >= 2) s = s.rotate((rng.next() - 0.5) * noise * 0.6, { background: '#f4efe2' });
  if (noise >= 3) s = s.blur(0.6);
  return s.greyscale().png().toBuffer();
}

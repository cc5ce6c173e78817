/**
 * Entry zones of a ruled register page, found from its printed rules: the table's horizontal and
 * vertical rules, its header row, one zone per written entry row and a cell per column. Pure pixel
 * work on a grey raster (nothing is drawn or read), meant to propose zones for keying.
 *
 * How: the page's darkness (paper tone minus grey) is summed into row profiles of vertical strips
 * and column profiles of horizontal strips, once. The skew is the angle whose sheared row profile
 * is sharpest. A rule is a narrow peak of the deskewed profile (a top-hat, so text lines' broad
 * humps and the paper's slow tone drop out) that is then followed along its whole length: it must
 * be dark over most of it, which letters' baselines, a handwritten stroke or a line of dust are
 * not. Faint rules pass because the test is relative to the paper around them, not a fixed ink
 * threshold. Rows a form does not rule (some registers rule only the columns), and bands much
 * taller than their neighbours, are split by the text lines written in them (horizontal projection
 * of ink, split midway between lines).
 *
 * Coordinates: `columns`, `headerRow` and `rows` are in the deskewed frame (the page turned by
 * -skewDeg about its centre), zones and cells are image pixels: the bounding boxes of the skewed
 * cells, the same convention as the fixtures' ground truth.
 */
import type { GreyImage } from './ruling-lines.ts';

/** Tuning that depends on the scan; everything else scales with `dpi`. */
export interface RegisterGridOptions {
  /** Resolution of the raster; default 300. */
  dpi?: number;
  /** Largest skew searched, degrees; default 2. */
  maxSkewDeg?: number;
}

/** An axis-aligned rectangle in image pixels (the shape sharp's `extract` takes). */
export interface GridBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A horizontal band of the deskewed page. */
export interface GridBand {
  y0: number;
  y1: number;
}

/** A row of the table and how its edges were found. */
export interface GridRow extends GridBand {
  /** 'rules': both edges are printed rules; 'text-lines': split between lines of writing. */
  source: 'rules' | 'text-lines';
}

/** A proposed entry: the row's box and one box per column. */
export interface EntryZone {
  box: GridBox;
  cells: GridBox[];
}

/** What the page's ruling says. */
export interface RegisterGrid {
  /** Skew found, degrees, positive clockwise (as the fixtures' `skewDeg`). */
  skewDeg: number;
  /** Column spans, left to right (deskewed frame). */
  columns: { x0: number; x1: number }[];
  /** The table's first band when it reads as a heading row (taller, or closed by a heavier rule). */
  headerRow: GridBand | undefined;
  /** Body rows holding writing, top to bottom (deskewed frame); empty rows of the form are left out. */
  rows: GridRow[];
  /** One zone per row in `rows`, in image pixels. */
  zones: EntryZone[];
  /** Centre lines of the rules found (deskewed frame): y of horizontal rules, x of vertical ones. */
  rules: { horizontal: number[]; vertical: number[] };
}

const EMPTY: RegisterGrid = { skewDeg: 0, columns: [], headerRow: undefined, rows: [], zones: [], rules: { horizontal: [], vertical: [] } };

interface Rule {
  at: number;
  /** Top-hat mass of the rule in the deskewed profile: its darkness times its width. */
  strength: number;
}

/** Finds the table's rules, header row, entry rows and cells of a register page. */
export function detectRegisterGrid(image: GreyImage, opts: RegisterGridOptions = {}): RegisterGrid {
  const { width, height } = image;
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length);
  if (data.length !== width * height) throw new Error(`grey image of ${width}x${height} needs ${width * height} bytes, got ${data.length}`);
  const dpi = opts.dpi ?? 300;
  const px = (inches: number) => Math.max(1, Math.round(inches * dpi));

  // Paper is what most of the page is; ink is the darkest percent (a register page carries more).
  const hist = new Uint32Array(256);
  let sampled = 0;
  for (let i = 0; i < data.length; i += 3, sampled++) hist[data[i]!]! += 1;
  const paper = percentile(hist, sampled, 0.5);
  const ink = percentile(hist, sampled, 0.01);
  if (paper - ink < 24) return EMPTY;
  const dark = new Uint8Array(256);
  for (let v = 0; v < 256; v++) dark[v] = v < paper ? paper - v : 0;

  // One pass: row sums of vertical strips (H) and column sums of horizontal strips (V).
  const nH = Math.max(4, Math.round(width / px(0.5)));
  const sw = Math.ceil(width / nH);
  const nV = Math.max(4, Math.round(height / px(0.5)));
  const sh = Math.ceil(height / nV);
  const H = new Float32Array(nH * height);
  const V = new Float32Array(nV * width);
  for (let y = 0, row = 0; y < height; y++, row += width) {
    const vrow = Math.floor(y / sh) * width;
    for (let k = 0; k < nH; k++) {
      let s = 0;
      const xe = Math.min(width, (k + 1) * sw);
      for (let x = k * sw; x < xe; x++) {
        const d = dark[data[row + x]!]!;
        if (d === 0) continue;
        s += d;
        V[vrow + x]! += d;
      }
      H[k * height + y] = s;
    }
  }

  const cx = width / 2;
  const cy = height / 2;
  const stripMidX = (k: number) => (k + 0.5) * sw;
  const stripMidY = (j: number) => (j + 0.5) * sh;
  // Row profile of the page sheared by slope t: a rule at deskewed v lies at v + t(x - cx).
  const rowProfile = (t: number, strips: (k: number) => boolean = () => true): Float64Array => {
    const p = new Float64Array(height);
    for (let k = 0; k < nH; k++) {
      if (!strips(k)) continue;
      const shift = Math.round(t * (stripMidX(k) - cx));
      const base = k * height;
      const lo = Math.max(0, -shift);
      const hi = Math.min(height, height - shift);
      for (let v = lo; v < hi; v++) p[v]! += H[base + v + shift]!;
    }
    return p;
  };

  // Skew: the shear that makes the row profile sharpest (rules and text lines line up).
  const maxSkew = opts.maxSkewDeg ?? 2;
  let bestT = 0;
  let bestScore = -1;
  for (let deg = -maxSkew; deg <= maxSkew + 1e-9; deg += 0.05) {
    const t = Math.tan((deg * Math.PI) / 180);
    const p = rowProfile(t);
    let score = 0;
    for (let v = 1; v < height; v++) {
      const diff = p[v]! - p[v - 1]!;
      score += diff * diff;
    }
    if (score > bestScore) {
      bestScore = score;
      bestT = t;
    }
  }
  const t = bestT;
  // Deskewed (u, v) to image pixels; small-angle shear, exact enough for 2°.
  const imgX = (u: number, v: number) => u - t * (v - cy);
  const imgY = (u: number, v: number) => v + t * (u - cx);

  const halo = px(0.027);
  const minGap = px(0.03);
  const contrast = paper - ink;
  // Darkest of three pixels across the line, so a rule one or two pixels off the estimate still counts.
  const darkAt = (x: number, y: number): number => {
    if (x < 0 || x >= width || y < 1 || y >= height - 1) return 0;
    const i = y * width + x;
    return Math.max(dark[data[i - width]!]!, dark[data[i]!]!, dark[data[i + width]!]!);
  };
  const darkAtV = (x: number, y: number): number => {
    if (x < 1 || x >= width - 1 || y < 0 || y >= height) return 0;
    const i = y * width + x;
    return Math.max(dark[data[i - 1]!]!, dark[data[i]!]!, dark[data[i + 1]!]!);
  };
  // A rule is dark along most of its length: the 35th percentile of darkness along it, less the
  // same just beside it (paper tone, a line of text running parallel).
  const alongH = (v: number, x0: number, x1: number): number => {
    const line = new Uint32Array(256);
    const side = new Uint32Array(256);
    let n = 0;
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, Math.ceil(x1)); x += 2, n++) {
      const y = Math.round(imgY(x, v));
      line[darkAt(x, y)]! += 1;
      side[Math.min(darkAt(x, y - halo), darkAt(x, y + halo))]! += 1;
    }
    return n === 0 ? 0 : percentile(line, n, 0.35) - percentile(side, n, 0.35);
  };
  const alongV = (u: number, y0: number, y1: number): number => {
    const line = new Uint32Array(256);
    const side = new Uint32Array(256);
    let n = 0;
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y += 2, n++) {
      const x = Math.round(imgX(u, y));
      line[darkAtV(x, y)]! += 1;
      side[Math.min(darkAtV(x - halo, y), darkAtV(x + halo, y))]! += 1;
    }
    return n === 0 ? 0 : percentile(line, n, 0.35) - percentile(side, n, 0.35);
  };
  const minAlong = Math.max(8, 0.06 * contrast);

  const hProfile = rowProfile(t);
  const hRules = findRules(hProfile, halo, minGap, width * 2).filter((r) => alongH(r.at, 0, width) >= minAlong);
  if (hRules.length < 2) return { ...EMPTY, skewDeg: toDeg(t) };
  const tableTop = hRules[0]!.at;
  const tableBottom = hRules[hRules.length - 1]!.at;

  // Column profile over the table's height only, sheared the other way.
  const vProfile = new Float64Array(width);
  for (let j = 0; j < nV; j++) {
    const mid = stripMidY(j);
    if (mid < tableTop || mid > tableBottom) continue;
    const shift = Math.round(-t * (mid - cy));
    const base = j * width;
    const lo = Math.max(0, -shift);
    const hi = Math.min(width, width - shift);
    for (let u = lo; u < hi; u++) vProfile[u]! += V[base + u + shift]!;
  }
  const vRules = findRules(vProfile, halo, minGap, (tableBottom - tableTop) * 2)
    .filter((r) => alongV(r.at, tableTop, tableBottom) >= minAlong);
  if (vRules.length < 2) return { ...EMPTY, skewDeg: toDeg(t), rules: { horizontal: hRules.map((r) => r.at), vertical: vRules.map((r) => r.at) } };
  const left = vRules[0]!.at;
  const right = vRules[vRules.length - 1]!.at;
  const columns = vRules.slice(1).map((r, i) => ({ x0: vRules[i]!.at, x1: r.at }));

  // Bands between consecutive rules; the first is the heading when it is taller than the rows or
  // closed by a heavier rule than theirs.
  const bands = hRules.slice(1).map((r, i) => ({ y0: hRules[i]!.at, y1: r.at }));
  const bodyHeights = bands.slice(1).map((b) => b.y1 - b.y0);
  const interior = hRules.slice(2, -1).map((r) => r.strength);
  const typicalRule = interior.length > 0 ? median(interior) : Infinity;
  const inkProfile = textProfile(rowProfile(t, (k) => stripMidX(k) > left && stripMidX(k) < right), halo);
  let pitch = bodyHeights.length >= 3 ? median(bodyHeights) : NaN;
  if (Number.isNaN(pitch)) pitch = linePitch(inkProfile, bands.slice(1), px) ?? NaN;
  const first = bands[0]!;
  const second = bands[1];
  const headerRow =
    second !== undefined &&
    ((!Number.isNaN(pitch) && first.y1 - first.y0 >= 1.1 * pitch) ||
      hRules[1]!.strength >= 1.4 * typicalRule ||
      // Headings over a body the form leaves unruled: the rule under them is the only one.
      (interior.length === 0 && !Number.isNaN(pitch) && second.y1 - second.y0 > 2 * pitch))
      ? first
      : undefined;
  const body = headerRow ? bands.slice(1) : bands;

  const rows: GridRow[] = [];
  for (const b of body) {
    if (!Number.isNaN(pitch) && b.y1 - b.y0 > 1.6 * pitch) rows.push(...splitByLines(inkProfile, b, pitch, px));
    else rows.push({ ...b, source: 'rules' });
  }

  // Keep rows that hold writing: dark pixels well away from the rules, against the row's own paper.
  const inkThreshold = Math.max(30, 0.35 * contrast);
  const clearOfRules = (u: number) => vRules.every((r) => Math.abs(u - r.at) > halo);
  const written = rows.filter((r) => {
    const inset = (r.y1 - r.y0) * 0.15;
    let dots = 0;
    let cells = 0;
    for (let u = Math.ceil(left); u < right; u += 2) {
      if (!clearOfRules(u)) continue;
      for (let v = Math.ceil(r.y0 + inset); v < r.y1 - inset; v += 2) {
        const x = Math.round(imgX(u, v));
        const y = Math.round(imgY(u, v));
        if (x < 0 || x >= width || y < 0 || y >= height) continue;
        cells++;
        if (dark[data[y * width + x]!]! >= inkThreshold) dots++;
      }
    }
    return cells > 0 && dots / cells >= 0.004;
  });

  const boxOf = (u0: number, v0: number, u1: number, v1: number): GridBox => {
    const xs = [imgX(u0, v0), imgX(u1, v0), imgX(u0, v1), imgX(u1, v1)];
    const ys = [imgY(u0, v0), imgY(u1, v0), imgY(u0, v1), imgY(u1, v1)];
    const l = Math.max(0, Math.floor(Math.min(...xs)));
    const tp = Math.max(0, Math.floor(Math.min(...ys)));
    const r = Math.min(width, Math.ceil(Math.max(...xs)));
    const b = Math.min(height, Math.ceil(Math.max(...ys)));
    return { left: l, top: tp, width: Math.max(0, r - l), height: Math.max(0, b - tp) };
  };
  return {
    skewDeg: toDeg(t),
    columns,
    headerRow,
    rows: written,
    zones: written.map((r) => ({
      box: boxOf(left, r.y0, right, r.y1),
      cells: columns.map((c) => boxOf(c.x0, r.y0, c.x1, r.y1)),
    })),
    rules: { horizontal: hRules.map((r) => r.at), vertical: vRules.map((r) => r.at) },
  };
}

const toDeg = (t: number) => Math.round((Math.atan(t) * 180) / Math.PI * 100) / 100;

function percentile(hist: Uint32Array, total: number, q: number): number {
  const target = total * q;
  let acc = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v]!;
    if (acc > target) return v;
  }
  return 255;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Morphological opening (erosion then dilation) with a window of 2r+1: the profile without its narrow peaks. */
function opening(p: Float64Array, r: number): Float64Array {
  const n = p.length;
  const eroded = new Float64Array(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = Infinity;
    for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) if (p[j]! < m) m = p[j]!;
    eroded[i] = m;
  }
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) if (eroded[j]! > m) m = eroded[j]!;
    out[i] = m;
  }
  return out;
}

/**
 * Candidate rules: peaks of the profile's top-hat (what stands out of it over less than 2r+1
 * pixels), at least `floor` strong and a tenth of the strongest, at least `minGap` apart.
 * A rule's position is the centre of mass of its peak.
 */
function findRules(p: Float64Array, r: number, minGap: number, floor: number): Rule[] {
  const bg = opening(p, r);
  const top = new Float64Array(p.length);
  let max = 0;
  for (let i = 0; i < p.length; i++) {
    top[i] = p[i]! - bg[i]!;
    if (top[i]! > max) max = top[i]!;
  }
  const cut = Math.max(floor, max * 0.04);
  const peaks: Rule[] = [];
  for (let i = 1; i < p.length - 1; i++) {
    const v = top[i]!;
    if (v < cut || v < top[i - 1]! || v < top[i + 1]!) continue;
    let mass = 0;
    let moment = 0;
    for (let j = Math.max(0, i - r); j <= Math.min(p.length - 1, i + r); j++) {
      if (top[j]! < v * 0.25) continue;
      mass += top[j]!;
      moment += j * top[j]!;
    }
    peaks.push({ at: moment / mass, strength: mass });
  }
  // Strongest first, so a rule's own shoulder never displaces it.
  peaks.sort((a, b) => b.strength - a.strength);
  const kept: Rule[] = [];
  for (const pk of peaks) if (kept.every((k) => Math.abs(k.at - pk.at) >= minGap)) kept.push(pk);
  return kept.sort((a, b) => a.at - b.at);
}

/** The ink of text lines: the row profile without its rules (narrow peaks), lightly smoothed. */
function textProfile(p: Float64Array, r: number): Float64Array {
  const open = opening(p, r);
  const out = new Float64Array(p.length);
  const w = Math.max(1, r >> 1);
  for (let i = 0; i < p.length; i++) {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - w); j <= Math.min(p.length - 1, i + w); j++, n++) s += open[j]!;
    out[i] = s / n;
  }
  return out;
}

/** Centres of the lines of writing within a band: runs of the text profile well above its floor. */
function textLines(ink: Float64Array, band: GridBand, px: (inches: number) => number): number[] {
  const margin = px(0.02);
  const y0 = Math.ceil(band.y0 + margin);
  const y1 = Math.floor(band.y1 - margin);
  if (y1 - y0 < 3) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = y0; y < y1; y++) {
    lo = Math.min(lo, ink[y]!);
    hi = Math.max(hi, ink[y]!);
  }
  if (hi - lo <= 0) return [];
  // Writing is what stands well above the paper near it: a light hand next to a heavy one keeps
  // its line, and the floor keeps dust in an empty row from passing for one.
  const reach = px(0.15);
  const cut = new Float64Array(y1 - y0);
  for (let y = y0; y < y1; y++) {
    let near = lo;
    for (let j = Math.max(y0, y - reach); j < Math.min(y1, y + reach); j++) if (ink[j]! > near) near = ink[j]!;
    cut[y - y0] = lo + Math.max(0.1 * (hi - lo), 0.25 * (near - lo));
  }
  const runs: [number, number][] = [];
  let start = -1;
  for (let y = y0; y <= y1; y++) {
    const on = y < y1 && ink[y]! > cut[y - y0]!;
    if (on && start < 0) start = y;
    if (!on && start >= 0) {
      const last = runs[runs.length - 1];
      // Ascenders, descenders and diacritics break a line's profile into pieces close together.
      if (last && start - last[1] < px(0.04)) last[1] = y;
      else runs.push([start, y]);
      start = -1;
    }
  }
  const lines = runs.filter(([a, b]) => b - a >= px(0.03));
  if (lines.length < 3) return lines.map(([a, b]) => (a + b) / 2);
  // Lines that touch (a tall hand's descenders reaching the next line's capitals) make one run
  // about twice as long as the others: split it where its profile is lowest, near its middle.
  const typical = median(lines.map(([a, b]) => b - a));
  const out: number[] = [];
  for (const [a, b] of lines) {
    const n = Math.round((b - a) / typical);
    if (n < 2) {
      out.push((a + b) / 2);
      continue;
    }
    let start = a;
    for (let k = 1; k < n; k++) {
      const guess = a + ((b - a) * k) / n;
      let cutAt = Math.round(guess);
      for (let y = Math.round(guess - typical / 3); y <= Math.round(guess + typical / 3); y++) if (ink[y]! < ink[cutAt]!) cutAt = y;
      out.push((start + cutAt) / 2);
      start = cutAt;
    }
    out.push((start + b) / 2);
  }
  return out;
}

/** Line spacing of the writing in the given bands, when they hold at least two lines. */
function linePitch(ink: Float64Array, bands: GridBand[], px: (inches: number) => number): number | undefined {
  const gaps: number[] = [];
  for (const b of bands) {
    const lines = textLines(ink, b, px);
    for (let i = 1; i < lines.length; i++) gaps.push(lines[i]! - lines[i - 1]!);
  }
  return gaps.length > 0 ? median(gaps) : undefined;
}

/** Splits a band that spans several entries midway between its lines of writing. */
function splitByLines(ink: Float64Array, band: GridBand, pitch: number, px: (inches: number) => number): GridRow[] {
  const lines = textLines(ink, band, px);
  if (lines.length < 2) return [{ ...band, source: 'rules' }];
  const rows: GridRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const c = lines[i]!;
    const y0 = i === 0 ? (c - band.y0 < 1.5 * pitch ? band.y0 : c - pitch / 2) : (lines[i - 1]! + c) / 2;
    const y1 = i === lines.length - 1 ? (band.y1 - c < 1.5 * pitch ? band.y1 : c + pitch / 2) : (c + lines[i + 1]!) / 2;
    rows.push({ y0, y1, source: 'text-lines' });
  }
  return rows;
}

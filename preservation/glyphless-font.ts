/**
 * A TrueType font with no visible glyphs, generated here so an invisible OCR text layer can embed
 * its font (PDF/A wants every font embedded) without a font file or a font library. Every glyph is
 * empty and 500/1000 em wide; a PDF maps any character code to glyph 1 (CIDToGIDMap) and carries
 * the text in a ToUnicode CMap, as Tesseract's own PDF renderer does with its GlyphLessFont.
 */

/** PostScript name of the font. */
export const GLYPHLESS_FONT_NAME = 'ArkivaGlyphLess';
/** Advance width of every glyph, in 1/1000 em. */
export const GLYPHLESS_ADVANCE = 500;

const UNITS_PER_EM = 1000;

/**
 * Width in text space units of `text` shown in the glyph-less font at `size` with no horizontal
 * scaling: one code, so one advance, per character (a PDF writer shows a character outside the
 * Basic Multilingual Plane as one U+FFFD code).
 */
export function glyphLessWidth(text: string, size: number): number {
  return ([...text].length * GLYPHLESS_ADVANCE * size) / UNITS_PER_EM;
}

class Writer {
  private readonly parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >> 8).u8(v); }
  i16(v: number): this { return this.u16(v < 0 ? v + 0x10000 : v); }
  u32(v: number): this { return this.u16(Math.floor(v / 0x10000) & 0xffff).u16(v & 0xffff); }
  bytes(b: Buffer): this { for (const x of b) this.parts.push(x); return this; }
  done(): Buffer { return Buffer.from(this.parts); }
}

function checksum(b: Buffer): number {
  const padded = Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32BE(i)) >>> 0;
  return sum;
}

function nameTable(): Buffer {
  const names: [number, string][] = [[1, GLYPHLESS_FONT_NAME], [2, 'Regular'], [3, `${GLYPHLESS_FONT_NAME}-1.0`], [4, GLYPHLESS_FONT_NAME], [5, 'Version 1.0'], [6, GLYPHLESS_FONT_NAME]];
  const strings = names.map(([, s]) => Buffer.from(s, 'utf16le').swap16());
  const w = new Writer().u16(0).u16(names.length).u16(6 + names.length * 12);
  let offset = 0;
  names.forEach(([id], i) => {
    w.u16(3).u16(1).u16(0x409).u16(id).u16(strings[i]!.length).u16(offset);
    offset += strings[i]!.length;
  });
  for (const s of strings) w.bytes(s);
  return w.done();
}

/** The font program (TrueType, for a PDF FontFile2 stream). Deterministic: same bytes every time. */
export function glyphLessFont(): Buffer {
  const numGlyphs = 2;
  const tables: Record<string, Buffer> = {
    cmap: new Writer()
      // One Windows Unicode subtable mapping nothing (the end segment only): a PDF uses CIDToGIDMap.
      .u16(0).u16(1).u16(3).u16(1).u32(12)
      .u16(4).u16(24).u16(0).u16(2).u16(2).u16(0).u16(0)
      .u16(0xffff).u16(0).u16(0xffff).i16(1).u16(0)
      .done(),
    glyf: Buffer.alloc(0),
    head: new Writer()
      .u32(0x00010000).u32(0x00010000).u32(0).u32(0x5f0f3cf5)
      .u16(0x000b).u16(UNITS_PER_EM)
      .u32(0).u32(0).u32(0).u32(0) // created, modified: fixed so the font is byte-identical
      .i16(0).i16(0).i16(GLYPHLESS_ADVANCE).i16(UNITS_PER_EM)
      .u16(0).u16(3).i16(2).i16(0).i16(0)
      .done(),
    hhea: new Writer()
      .u32(0x00010000).i16(UNITS_PER_EM).i16(0).i16(0).u16(GLYPHLESS_ADVANCE)
      .i16(0).i16(0).i16(0).i16(1).i16(0).i16(0)
      .i16(0).i16(0).i16(0).i16(0).i16(0).u16(numGlyphs)
      .done(),
    hmtx: new Writer().u16(GLYPHLESS_ADVANCE).i16(0).u16(GLYPHLESS_ADVANCE).i16(0).done(),
    loca: new Writer().u16(0).u16(0).u16(0).done(),
    maxp: new Writer().u32(0x00010000).u16(numGlyphs).u16(0).u16(0).u16(0).u16(0).u16(2).u16(0).u16(0).u16(0).u16(0).u16(0).u16(0).u16(0).u16(0).done(),
    name: nameTable(),
    post: new Writer().u32(0x00030000).u32(0).i16(-100).i16(50).u32(1).u32(0).u32(0).u32(0).u32(0).done(),
  };
  const tags = Object.keys(tables).sort();
  const n = tags.length;
  const entrySelector = Math.floor(Math.log2(n));
  const searchRange = 2 ** entrySelector * 16;
  const header = new Writer().u32(0x00010000).u16(n).u16(searchRange).u16(entrySelector).u16(n * 16 - searchRange);
  let offset = 12 + n * 16;
  const bodies: Buffer[] = [];
  for (const tag of tags) {
    const t = tables[tag]!;
    header.bytes(Buffer.from(tag, 'ascii')).u32(checksum(t)).u32(offset).u32(t.length);
    const padded = Buffer.concat([t, Buffer.alloc((4 - (t.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  }
  const font = Buffer.concat([header.done(), ...bodies]);
  // head.checkSumAdjustment makes the whole font sum to 0xB1B0AFBA.
  const headOffset = 12 + n * 16 + bodies.slice(0, tags.indexOf('head')).reduce((s, b) => s + b.length, 0);
  font.writeUInt32BE((0xb1b0afba - checksum(font)) >>> 0, headOffset + 8);
  return font;
}

/**
 * A ToUnicode CMap mapping each 2-byte code to the same UTF-16 code unit, so text shown with codes
 * equal to its UTF-16 units (Basic Multilingual Plane) is extracted as written.
 */
export function identityToUnicodeCMap(): string {
  const ranges: string[] = [];
  for (let hi = 0; hi < 256; hi++) {
    if (hi >= 0xd8 && hi <= 0xdf) continue; // surrogates are never shown as codes
    const h = hi.toString(16).padStart(2, '0').toUpperCase();
    ranges.push(`<${h}00> <${h}FF> <${h}00>`);
  }
  const blocks: string[] = [];
  for (let i = 0; i < ranges.length; i += 100) {
    const chunk = ranges.slice(i, i + 100);
    blocks.push(`${chunk.length} beginbfrange\n${chunk.join('\n')}\nendbfrange`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

import { inflateSync } from 'node:zlib';
import { AppError } from '../common/index.ts';

// Names of PDF objects that run code or act on open: JavaScript, auto-run actions, launching files.
const ACTIVE_PDF_NAMES: ReadonlySet<string> = new Set(['JavaScript', 'JS', 'OpenAction', 'AA', 'Launch']);
// Long enough never to occur by chance in image data, so they are refused inside stream data too:
// a reader that trusts /Length rather than `endstream`, or repairs a damaged file, may find objects
// where this scan saw stream data. Short names (/JS, /AA) do occur by chance in compressed pixels.
const ACTIVE_ANYWHERE: ReadonlySet<string> = new Set(['JavaScript', 'Launch']);
const PDF_NAME_RE = /\/([^\s/<>[\]()%{}]{1,40})/g;
// Only names that may decode to one of ACTIVE_ANYWHERE: starting with J or L, plain or #hh-escaped.
const ANYWHERE_RE = /\/((?:[JL]|#4[AaCc])[^\s/<>[\]()%{}]{0,39})/g;
// A name cut at a chunk end is caught in the next chunk with this much overlap (the anywhere scan).
const OVERLAP = 64;
// PDFs up to this size are also kept whole while streaming, so their compressed object streams
// (where PDF 1.5+ writers put the catalog and actions) can be inflated and scanned at the end.
const PDF_DEEP_SCAN_BYTES = 64 * 1024 * 1024;
// PDF names are at most 127 bytes; a longer run is no name a reader matches.
const MAX_NAME = 128;

const LF = 0x0a;
const CR = 0x0d;
const SLASH = 0x2f;
const PERCENT = 0x25;
const LT = 0x3c;
const GT = 0x3e;
const OPEN = 0x28;
const CLOSE = 0x29;
const BACKSLASH = 0x5c;

// Byte classes of PDF syntax (ISO 32000-1, 7.2.2), looked up per byte.
const REGULAR = 0;
const WHITE = 1;
const DELIMITER = 2;
const CLASS = new Uint8Array(256);
for (const c of [0x00, 0x09, LF, 0x0c, CR, 0x20]) CLASS[c] = WHITE;
for (const c of '()<>[]{}/%') CLASS[c.charCodeAt(0)] = DELIMITER;

type Mode = 'syntax' | 'comment' | 'string' | 'hex' | 'stream';

/**
 * Looks for active content in a PDF fed chunk by chunk, without parsing objects:
 * - every name outside stream data is read by a small lexer that knows comments, literal strings
 *   (nested parentheses, backslash escapes) and hex strings, so that the keyword `stream` counts
 *   only where a reader sees it: a token right after a dictionary's `>>`, followed by an end of
 *   line, outside comments and strings. A `% stream` comment line or a string holding "stream"
 *   does not hide what follows. Names inside strings and comments are looked at too (more
 *   refusals, never fewer);
 * - /JavaScript and /Launch are refused anywhere, stream data included, so no disagreement
 *   between this lexer and a reader about where stream data ends can hide them;
 * - for PDFs up to 64 MiB, the names inside Flate-compressed object streams, inflated at the end.
 *   In a larger PDF a name inside a compressed object stream is not seen; Arkiva never runs PDF
 *   code (pdf.js without eval renders page images only), so that is a residual risk only for
 *   whoever downloads the original.
 * Names are compared with #hh escapes decoded. `push` and `end` throw the refusal (ERR_BAD_INPUT_FILE).
 */
export class PdfActiveContentScan {
  private mode: Mode = 'syntax';
  /** Parenthesis depth inside a literal string. */
  private depth = 0;
  /** The previous string byte was an unescaped backslash. */
  private escaped = false;
  /** A name (after its slash) is being read; `namePart` holds what earlier chunks gave of it. */
  private inName = false;
  private namePart = '';
  /** A keyword or number is being read in syntax; `wordPart` holds what earlier chunks gave of it. */
  private inWord = false;
  private wordPart = '';
  /** The word being read began right after `>>`. */
  private wordAfterDict = false;
  /** The last token in syntax was `>>` (white space since then allowed). */
  private afterDict = false;
  /** A `<` or `>` waits for the next byte to tell a dictionary bracket from a hex string's. */
  private lt = false;
  private gt = false;
  /** The end of the stream data so far, so an `endstream` cut by a chunk end is found. */
  private streamTail = '';
  /** The end of the previous chunk, for the anywhere scan. */
  private tail = '';
  private whole: Buffer[] | null = [];
  private wholeSize = 0;

  push(chunk: Buffer): void {
    const text = chunk.toString('latin1');
    const joined = this.tail + text;
    refuseActiveNames(joined, ANYWHERE_RE, ACTIVE_ANYWHERE);
    this.tail = joined.slice(-OVERLAP);
    this.lex(text);
    this.keep(chunk);
  }

  end(): void {
    if (this.inName) this.endName(this.namePart);
    if (this.whole) scanObjectStreams(Buffer.concat(this.whole));
  }

  private keep(chunk: Buffer): void {
    if (!this.whole) return;
    this.wholeSize += chunk.length;
    if (this.wholeSize > PDF_DEEP_SCAN_BYTES) this.whole = null;
    else this.whole.push(chunk);
  }

  private lex(text: string): void {
    const n = text.length;
    // Where the name or word in progress starts in this chunk (0 when it began in an earlier one).
    let nameFrom = this.inName ? 0 : -1;
    let wordFrom = this.inWord ? 0 : -1;
    let i = 0;
    while (i < n) {
      if (this.mode === 'stream') {
        i = this.skipStreamData(text, i);
        wordFrom = -1;
        continue;
      }
      const c = text.charCodeAt(i);
      const kind = c < 256 ? CLASS[c]! : REGULAR;
      // Names are read in every mode but stream data, beside what the mode does with the byte.
      if (nameFrom >= 0 && kind !== REGULAR) {
        this.endName(this.namePart + text.slice(nameFrom, i));
        nameFrom = -1;
      }
      if (c === SLASH) {
        nameFrom = i + 1;
        this.namePart = '';
      }
      switch (this.mode) {
        case 'comment':
          if (c === LF || c === CR) this.mode = 'syntax';
          break;
        case 'string':
          if (this.escaped) this.escaped = false;
          else if (c === BACKSLASH) this.escaped = true;
          else if (c === OPEN) this.depth++;
          else if (c === CLOSE && --this.depth === 0) this.mode = 'syntax';
          break;
        case 'hex':
          if (c === GT) this.mode = 'syntax';
          break;
        case 'syntax': {
          if ((this.lt || this.gt) && this.bracket(c)) break;
          if (kind === REGULAR) {
            if (nameFrom < 0 && wordFrom < 0) {
              wordFrom = i;
              this.wordPart = '';
              this.wordAfterDict = this.afterDict;
            }
            this.afterDict = false;
            break;
          }
          if (wordFrom >= 0) {
            const isStream = this.wordPart.length + i - wordFrom === 6 && this.wordPart + text.slice(wordFrom, i) === 'stream';
            wordFrom = -1;
            if (isStream && this.wordAfterDict && (c === LF || c === CR)) {
              this.mode = 'stream';
              this.streamTail = '';
              break;
            }
          }
          this.delimiter(c, kind);
          break;
        }
      }
      i++;
    }
    this.inName = nameFrom >= 0;
    if (this.inName) this.namePart = (this.namePart + text.slice(nameFrom)).slice(0, MAX_NAME);
    this.inWord = wordFrom >= 0;
    if (this.inWord) this.wordPart = (this.wordPart + text.slice(wordFrom, wordFrom + 8)).slice(0, 8);
  }

  /**
   * The byte after a `<` or `>`: `<<` opens a dictionary, `<>` is an empty hex string, `<` and
   * anything else opens a hex string (this byte its first), `>>` closes a dictionary, and a lone
   * `>` closes nothing. True when the byte was used up here.
   */
  private bracket(c: number): boolean {
    this.afterDict = false;
    if (this.lt) {
      this.lt = false;
      if (c !== LT && c !== GT) this.mode = 'hex';
      return true;
    }
    this.gt = false;
    if (c !== GT) return false;
    this.afterDict = true;
    return true;
  }

  /** A white-space or delimiter byte in syntax (the word before it already ended). */
  private delimiter(c: number, kind: number): void {
    if (kind === WHITE) return;
    this.afterDict = false;
    if (c === GT) this.gt = true;
    else if (c === LT) this.lt = true;
    else if (c === PERCENT) this.mode = 'comment';
    else if (c === OPEN) {
      this.mode = 'string';
      this.depth = 1;
      this.escaped = false;
    }
  }

  /** Skips stream data from `i` to just after the next `endstream`; gives the index to go on from. */
  private skipStreamData(text: string, i: number): number {
    const cut = (this.streamTail + text.slice(i, i + 9)).indexOf('endstream');
    let at: number;
    if (cut >= 0) {
      at = i + cut + 9 - this.streamTail.length;
    } else {
      const found = text.indexOf('endstream', i);
      if (found < 0) {
        this.streamTail = (this.streamTail + text.slice(i)).slice(-8);
        return text.length;
      }
      at = found + 9;
    }
    this.mode = 'syntax';
    this.streamTail = '';
    this.inWord = false;
    this.afterDict = false;
    return at;
  }

  private endName(raw: string): void {
    const name = raw.includes('#') ? decodeName(raw) : raw;
    if (ACTIVE_PDF_NAMES.has(name)) throw activeContent(name);
  }
}

/** A name as a reader compares it: #hh escapes decoded. */
function decodeName(raw: string): string {
  return raw.replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function activeContent(name: string): AppError {
  return new AppError('ERR_BAD_INPUT_FILE', `the PDF contains active content (/${name}); send a PDF of scans without JavaScript or actions; nothing was archived`);
}

/** Throws the refusal for the first name of `names` that `re` finds in `text`. */
function refuseActiveNames(text: string, re: RegExp, names: ReadonlySet<string>): void {
  for (const m of text.matchAll(re)) {
    const name = decodeName(m[1]!);
    if (names.has(name)) throw activeContent(name);
  }
}

/** Inflates every Flate-compressed object stream (/Type /ObjStm) of a PDF and looks for active names in it. */
function scanObjectStreams(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  const re = /\/Type\s*\/ObjStm/g;
  for (const m of text.matchAll(re)) {
    const start = text.indexOf('stream', m.index);
    if (start < 0) continue;
    let from = start + 6;
    if (text[from] === '\r') from++;
    if (text[from] === '\n') from++;
    const end = text.indexOf('endstream', from);
    if (end < 0) continue;
    let inflated: Buffer;
    try {
      inflated = inflateSync(pdf.subarray(from, end), { maxOutputLength: 64 * 1024 * 1024 });
    } catch {
      // Not Flate, damaged, or a bomb: the splitter decides about such a PDF; no names can be read here.
      continue;
    }
    refuseActiveNames(inflated.toString('latin1'), PDF_NAME_RE, ACTIVE_PDF_NAMES);
  }
}

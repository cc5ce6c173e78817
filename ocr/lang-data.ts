/**
 * OCR language data, taken only from the installed `@tesseract.js-data/<code>` npm packages: never
 * downloaded, never cached elsewhere. A language is available when its package holds
 * `4.0.0_best_int/<code>.traineddata.gz` (the integer LSTM model, which tesseract.js's LSTM-only core reads).
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../common/index.ts';

/** The model variant read from each data package. */
export const OCR_DATA_VARIANT = '4.0.0_best_int';

const SCOPE = '@tesseract.js-data';
/** `osd` holds orientation and script detection for the legacy engine, not an LSTM recognition model. */
const NOT_RECOGNITION = new Set(['osd']);
/**
 * Languages read with another language's model. Tesseract's `srp_latn` (Serbian in Latin script)
 * is not published on npm; `srp` is Cyrillic only and `sqi` lacks č, ć, đ, š and ž, so Latin
 * Serbian surnames came out wrong (39-59% found). Croatian (`hrv`) is written in the same Gaj
 * alphabet and shares nearly all Serbian names; with it the names of Latin Serbian fixture pages
 * were found as well as Albanian ones (bench/ocr-quality.bench.ts, docs/performance.md).
 */
export const OCR_LANGUAGE_ALIASES: Readonly<Record<string, string>> = { srp_latn: 'hrv' };
const CODE_RE = /^[a-z]{3}(_[a-z]{3,4})?$/;

/** One installed language: its code and the gzip'd traineddata file. */
export interface OcrLanguageData {
  code: string;
  file: string;
}

/** What is installed: recognition languages and, separately, the orientation data. */
export interface InstalledOcrData {
  languages: ReadonlyMap<string, OcrLanguageData>;
  osd: OcrLanguageData | undefined;
}

/** Codes of the installed recognition languages, sorted (e.g. ['eng', 'sqi', 'srp']). */
export async function ocrLanguages(): Promise<string[]> {
  return [...(await scanOcrData()).languages.keys()].sort();
}

/** Finds the installed language data packages. */
export async function scanOcrData(): Promise<InstalledOcrData> {
  // Every node_modules folder Node would search from here, so the result follows module resolution
  // (hoisted or nested installs) without a list of codes to keep in step with package.json.
  const roots = createRequire(import.meta.url).resolve.paths(`${SCOPE}/x`) ?? [];
  const languages = new Map<string, OcrLanguageData>();
  let osd: OcrLanguageData | undefined;
  for (const root of roots) {
    const scopeDir = path.join(root, SCOPE);
    const entries = await fs.readdir(scopeDir).catch(() => [] as string[]);
    for (const code of entries.sort()) {
      if (!CODE_RE.test(code) || languages.has(code) || (code === 'osd' && osd)) continue;
      const file = path.join(scopeDir, code, OCR_DATA_VARIANT, `${code}.traineddata.gz`);
      if (!(await isGzipFile(file))) continue;
      if (NOT_RECOGNITION.has(code)) osd = { code, file };
      else languages.set(code, { code, file });
    }
  }
  for (const [alias, code] of Object.entries(OCR_LANGUAGE_ALIASES)) {
    const data = languages.get(code);
    if (data && !languages.has(alias)) languages.set(alias, { code: alias, file: data.file });
  }
  return { languages, osd };
}

// tesseract.js 7 crashes the whole process (an exception thrown from a message listener) when a
// worker's initialisation fails, so unreadable data must be caught before a worker sees it.
async function isGzipFile(file: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/**
 * Checks a language list against the installed data: removes repeats (keeping the first, as the
 * order tells tesseract which language to try first) and throws ERR_VALIDATION naming any
 * language that is unknown or not installed.
 */
export function validateOcrLanguages(languages: readonly string[], installed: InstalledOcrData): string[] {
  if (!Array.isArray(languages) || languages.length === 0) {
    throw new AppError('ERR_VALIDATION', 'at least one OCR language is required');
  }
  const available = installed.languages;
  const unique = [...new Set(languages)];
  const bad = unique.filter((l) => typeof l !== 'string' || !available.has(l));
  if (bad.length > 0) {
    const names = bad.map((l) => JSON.stringify(String(l).slice(0, 20))).join(', ');
    const hint = bad.includes('osd') ? ' (osd is orientation data, not a recognition language)' : '';
    throw new AppError(
      'ERR_VALIDATION',
      `unsupported OCR language ${names}${hint}; installed: ${[...available.keys()].sort().join(', ')}`,
      { languages: bad.map(String), installed: [...available.keys()].sort() },
    );
  }
  return unique;
}

/**
 * The `langPath` folder tesseract.js reads `<code>.traineddata.gz` from. tesseract.js takes one
 * folder for all languages of a worker, while each npm package holds one language in its own
 * folder; so a worker with one language reads its package folder directly, and a combination
 * reads a private temporary folder of symbolic links to the package files (no data is copied,
 * downloaded or cached). Passing the data as bytes (`{ code, data }`) is not an option: tesseract.js 7
 * then initialises with the bytes as the language name and fails.
 */
export class LanguageDataFolder {
  private linked: Promise<string> | undefined;

  constructor(private readonly installed: InstalledOcrData) {}

  /** Folder holding the data of every language in `codes` (which must be validated). */
  async pathFor(codes: readonly string[]): Promise<string> {
    const { languages } = this.installed;
    const files = codes.map((c) => {
      const data = languages.get(c);
      if (!data) throw new AppError('ERR_VALIDATION', `unsupported OCR language ${JSON.stringify(c)}`);
      return data.file;
    });
    // tesseract.js looks for `<code>.traineddata.gz`: an alias is read through the folder of links.
    if (files.length === 1 && path.basename(files[0]!) === `${codes[0]}.traineddata.gz`) return path.dirname(files[0]!);
    this.linked ??= this.link(languages).catch((e: unknown) => {
      this.linked = undefined;
      throw e;
    });
    return this.linked;
  }

  /** Removes the temporary folder, if one was made. */
  async close(): Promise<void> {
    const linked = this.linked;
    this.linked = undefined;
    if (!linked) return;
    const dir = await linked.catch(() => undefined);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }

  private async link(languages: ReadonlyMap<string, OcrLanguageData>): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arkiva-ocr-lang-'));
    try {
      for (const { code, file } of languages.values()) {
        await fs.symlink(file, path.join(dir, `${code}.traineddata.gz`));
      }
    } catch (e) {
      await fs.rm(dir, { recursive: true, force: true });
      throw e;
    }
    return dir;
  }
}

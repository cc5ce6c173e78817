/**
 * A page's hOCR as a whole hOCR 1.2 document (http://kba.github.io/hocr-spec/1.2/): XHTML with
 * the metadata the specification requires, around the `ocr_page` element either engine writes.
 * Both adapters pass their page through `hocrDocument`, so a reading's hOCR has one shape
 * whichever engine made it.
 */
import { OcrWorkerError } from './ocr-engine.ts';

/** What the document says about the reading besides the page itself. */
export interface HocrDocumentMeta {
  /** The OCR system and its version (`OcrResult.engine`), for `ocr-system`. */
  system: string;
  /** Tesseract language codes the page was read with, most likely first (e.g. ['sqi', 'srp']). */
  languages: readonly string[];
  /** File name of the page image, for the page's `image` property; left out when not given. */
  imageName?: string | undefined;
}

/**
 * ISO 639-1 code, BCP 47 tag and ISO 15924 script of the Tesseract models Arkiva reads with or
 * is likely to be given for the region's registers. `ocr-langs` asks for ISO 639-1; a model not
 * listed keeps its own (ISO 639-2) code, which BCP 47 accepts where no two-letter code exists.
 */
const LANGUAGES: Readonly<Record<string, { iso1: string; tag: string; script: string }>> = {
  sqi: { iso1: 'sq', tag: 'sq', script: 'Latn' },
  srp: { iso1: 'sr', tag: 'sr-Cyrl', script: 'Cyrl' },
  srp_latn: { iso1: 'sr', tag: 'sr-Latn', script: 'Latn' },
  hrv: { iso1: 'hr', tag: 'hr', script: 'Latn' },
  bos: { iso1: 'bs', tag: 'bs', script: 'Latn' },
  mkd: { iso1: 'mk', tag: 'mk', script: 'Cyrl' },
  slv: { iso1: 'sl', tag: 'sl', script: 'Latn' },
  bul: { iso1: 'bg', tag: 'bg', script: 'Cyrl' },
  rus: { iso1: 'ru', tag: 'ru', script: 'Cyrl' },
  ukr: { iso1: 'uk', tag: 'uk', script: 'Cyrl' },
  ell: { iso1: 'el', tag: 'el', script: 'Grek' },
  tur: { iso1: 'tr', tag: 'tr', script: 'Latn' },
  ron: { iso1: 'ro', tag: 'ro', script: 'Latn' },
  hun: { iso1: 'hu', tag: 'hu', script: 'Latn' },
  eng: { iso1: 'en', tag: 'en', script: 'Latn' },
  deu: { iso1: 'de', tag: 'de', script: 'Latn' },
  fra: { iso1: 'fr', tag: 'fr', script: 'Latn' },
  ita: { iso1: 'it', tag: 'it', script: 'Latn' },
};

// The classes every reading has first, in the order they nest (as Tesseract lists them), then any other alphabetically.
const CLASS_ORDER = ['ocr_page', 'ocr_carea', 'ocr_par', 'ocr_line', 'ocrx_word'];
// A path or URL without quotes, semicolons or backslashes (the spec wants no Windows path), so it reads back from the title.
const IMAGE_NAME = /^[A-Za-z0-9._~:/@+-]{1,200}$/;
// Characters XML 1.0 does not allow, which a recogniser could still emit as text.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const WORD = /(<span class=(['"])ocrx_word\2[^>]*>)([\s\S]*?)(<\/span>)/g;

/** BCP 47 tag of a Tesseract language code (its own code when not listed). */
export function languageTag(code: string): string {
  return LANGUAGES[code]?.tag ?? code.replace(/_/g, '-');
}

/**
 * Wraps the `ocr_page` element of a one-page reading (either adapter's, boxes already in the
 * pixels of the image given) into an hOCR 1.2 document: XML declaration, XHTML 1.0 doctype,
 * `html` with its namespace and language, `head` with a title and the `ocr-system`,
 * `ocr-capabilities` (the classes and properties this page uses, nothing more), `ocr-langs`,
 * `ocr-scripts` and `ocr-number-of-pages` meta. The page's title is rewritten to
 * `image '<name>'; bbox 0 0 W H; ppageno 0` followed by what the engine said besides (scan_res).
 * Words are trimmed of surrounding white space and empty words dropped, as the port's `words`
 * are; `lang` attributes become BCP 47 tags.
 */
export function hocrDocument(page: string, meta: HocrDocumentMeta): string {
  if (meta.imageName !== undefined && !IMAGE_NAME.test(meta.imageName)) {
    throw new OcrWorkerError(`hOCR image name ${JSON.stringify(meta.imageName)} is not a plain path (letters, digits, . _ ~ : / @ + - only)`);
  }
  const body = page.trim().replace(NOT_XML, '');
  const open = /^<div class=(['"])ocr_page\1[^>]*>/.exec(body);
  if (!open || !body.endsWith('</div>')) throw new OcrWorkerError('hOCR page is not one ocr_page element');
  const titled = /\btitle=(['"])(.*?)\1/.exec(open[0]);
  const props = (titled?.[2] ?? '').split(';').map((p) => p.trim()).filter(Boolean);
  const bbox = props.find((p) => /^bbox \d+ \d+ \d+ \d+$/.test(p));
  if (!bbox) throw new OcrWorkerError('hOCR page has no bbox');
  const title = [
    ...(meta.imageName !== undefined ? [`image '${meta.imageName}'`] : []),
    bbox,
    'ppageno 0',
    // The rest come from a well-formed attribute, escaped already but for the quote it was not delimited by.
    ...props.filter((p) => !/^(image|bbox|ppageno)\b/.test(p)).map((p) => p.replace(/"/g, '&quot;')),
  ].join('; ');
  const idAttr = /\bid=(['"])([^'"]*)\1/.exec(open[0]);
  const pageOpen = `<div class="ocr_page" id="${idAttr?.[2] ?? 'page_1'}" title="${title}">`;

  const inner = body
    .slice(open[0].length, -'</div>'.length)
    .replace(WORD, (_m, start: string, _q: string, text: string, end: string) => {
      const trimmed = text.trim();
      return trimmed ? `${start}${trimmed}${end}` : '';
    })
    .replace(/\blang=(['"])([^'"]+)\1/g, (_m, q: string, code: string) => `lang=${q}${languageTag(code)}${q}`);
  const pageXml = `${pageOpen}${inner}</div>`;

  const langs = [...new Set(meta.languages)];
  const iso1 = langs.length ? [...new Set(langs.map((l) => LANGUAGES[l]?.iso1 ?? l))].join(' ') : 'unknown';
  const scriptsKnown = langs.length > 0 && langs.every((l) => LANGUAGES[l]);
  const scripts = scriptsKnown ? [...new Set(langs.map((l) => LANGUAGES[l]!.script))].join(' ') : 'unknown';
  const htmlLang = langs[0] ? languageTag(langs[0]) : 'und';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    `<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="${htmlLang}" lang="${htmlLang}">`,
    ' <head>',
    `  <title>${escapeXml(meta.imageName ?? 'OCR page')}</title>`,
    '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    `  <meta name="ocr-system" content="${escapeXml(meta.system)}"/>`,
    `  <meta name="ocr-capabilities" content="${capabilities(pageXml).join(' ')}"/>`,
    `  <meta name="ocr-langs" content="${escapeXml(iso1)}"/>`,
    `  <meta name="ocr-scripts" content="${scripts}"/>`,
    '  <meta name="ocr-number-of-pages" content="1"/>',
    ' </head>',
    ' <body>',
    `  ${pageXml}`,
    ' </body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The capabilities a page shows: every `ocr_`/`ocrx_` class it uses, `ocrp_lang` and `ocrp_dir`
 * when it has `lang` or `dir` attributes, and `ocrp_wconf` for word confidences (Tesseract's
 * name for its `x_wconf`, which readers of Tesseract's hOCR look for).
 */
export function capabilities(pageXml: string): string[] {
  const classes = new Set<string>();
  for (const m of pageXml.matchAll(/\bclass=(['"])([^'"]*)\1/g)) {
    for (const c of m[2]!.split(/\s+/)) if (/^ocrx?_/.test(c)) classes.add(c);
  }
  const rank = (c: string) => (CLASS_ORDER.includes(c) ? CLASS_ORDER.indexOf(c) : CLASS_ORDER.length);
  const out = [...classes].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  if (/\slang=/.test(pageXml)) out.push('ocrp_lang');
  if (/\sdir=/.test(pageXml)) out.push('ocrp_dir');
  if (/\bx_wconf\b/.test(pageXml)) out.push('ocrp_wconf');
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../common/index.ts';
import { DEFAULT_BOOK_LANGUAGES } from '../common/vocabulary.ts';
import { LanguageDataFolder, OCR_DATA_VARIANT, OCR_LANGUAGE_ALIASES, ocrLanguages, scanOcrData, validateOcrLanguages } from './lang-data.ts';
import { modelLabel } from './page-reading.ts';

describe('OCR language data', () => {
  it('finds the installed packages, keeps osd apart, and reads srp_latn with the Croatian model', async () => {
    const data = await scanOcrData();
    expect(await ocrLanguages()).toEqual(expect.arrayContaining(['eng', 'hrv', 'sqi', 'srp', 'srp_latn']));
    expect(data.languages.has('osd')).toBe(false);
    expect(data.osd?.file).toMatch(/osd\.traineddata\.gz$/);
    for (const { code, file } of data.languages.values()) {
      expect(path.isAbsolute(file)).toBe(true);
      const model = OCR_LANGUAGE_ALIASES[code] ?? code;
      expect(file.endsWith(path.join(`@tesseract.js-data`, model, OCR_DATA_VARIANT, `${model}.traineddata.gz`))).toBe(true);
    }
    // The srp package holds Serbian Cyrillic only; Latin-script Serbian comes from the hrv package.
    const srpDir = path.dirname(data.languages.get('srp')!.file);
    expect(await fs.readdir(srpDir)).toEqual(['srp.traineddata.gz']);
    expect(data.languages.get('srp_latn')!.file).toBe(data.languages.get('hrv')!.file);
  });

  it("has every default book language installed, and the engine string names srp_latn's model", async () => {
    const langs = validateOcrLanguages(DEFAULT_BOOK_LANGUAGES.split('+'), await scanOcrData());
    expect(langs).toEqual(['sqi', 'srp_latn', 'srp']);
    expect(modelLabel(langs)).toBe(`sqi+srp_latn=hrv+srp ${OCR_DATA_VARIANT}`);
  });

  it('validates languages: repeats dropped in order, unknown ones named in ERR_VALIDATION', async () => {
    const data = await scanOcrData();
    expect(validateOcrLanguages(['srp', 'sqi', 'srp', 'eng'], data)).toEqual(['srp', 'sqi', 'eng']);
    for (const bad of [['sqi', 'xyz'], ['osd'], ['../eng'], []]) {
      let err: unknown;
      try {
        validateOcrLanguages(bad, data);
      } catch (e) {
        err = e;
      }
      expect(isAppError(err, 'ERR_VALIDATION')).toBe(true);
      if (bad.length > 0) expect((err as Error).message).toContain(JSON.stringify(bad.at(-1)));
    }
  });

  it('gives a package folder for one language and a folder of links for a combination, removed on close', async () => {
    const data = await scanOcrData();
    const folder = new LanguageDataFolder(data);
    const single = await folder.pathFor(['sqi']);
    expect(single).toBe(path.dirname(data.languages.get('sqi')!.file));
    const combined = await folder.pathFor(['sqi', 'srp', 'eng']);
    expect(await folder.pathFor(['eng', 'srp'])).toBe(combined);
    for (const code of ['sqi', 'srp', 'eng']) {
      const link = path.join(combined, `${code}.traineddata.gz`);
      expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
      expect(await fs.realpath(link)).toBe(await fs.realpath(data.languages.get(code)!.file));
    }
    // An alias alone still needs the folder of links: tesseract.js looks for srp_latn.traineddata.gz.
    const alias = await folder.pathFor(['srp_latn']);
    expect(alias).toBe(combined);
    expect(await fs.realpath(path.join(alias, 'srp_latn.traineddata.gz'))).toBe(await fs.realpath(data.languages.get('hrv')!.file));
    await folder.close();
    expect(await exists(combined)).toBe(false);
  });
});

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

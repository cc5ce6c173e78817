import { describe, expect, it } from 'vitest';
import { languageNames, reasonKey, stageName } from './book-words.ts';

describe('book screen words', () => {
  it('names the stage the API reports, not another', () => {
    expect(stageName('page.ocr')).toBe('ocr');
    expect(stageName('page.master')).toBe('master');
    expect(stageName('page.index')).toBe('index');
    expect(stageName('book.split')).toBe('split');
    expect(stageName('page.reocr')).toBeUndefined();
    expect(stageName(null)).toBeUndefined();
  });

  it('turns the reasons the archive writes into sentences, and leaves unknown ones to the stage', () => {
    expect(reasonKey('file page-3.png: file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a text file (a note or a list, not a scan)')).toBe('rs_notImage');
    expect(reasonKey('page.ocr: OCR exceeded the page time bound of 60000 ms with every profile (3); needs review')).toBe('rs_ocrTimeout');
    expect(reasonKey('page.master: page 4: page image cannot be decoded for OCR: Input buffer contains unsupported image format')).toBe('rs_damaged');
    expect(reasonKey('TIFF is truncated or damaged: strip 3 ends past the file')).toBe('rs_damaged');
    expect(reasonKey('the image declares 90000×90000 pixels, more than the limit of 268402689; nothing was archived')).toBe('rs_tooLarge');
    expect(reasonKey('page 2 has no source image for revision 1')).toBe('rs_noSource');
    expect(reasonKey('something nobody wrote before')).toBeUndefined();
    expect(reasonKey(null)).toBeUndefined();
  });

  it('shows OCR languages as names in their own language', () => {
    expect(languageNames('sqi+srp+eng')).toBe('Shqip, Српски (ћирилица), English');
    expect(languageNames('srp_latn')).toBe('Srpski (latinica)');
    expect(languageNames('xyz+sqi')).toBe('xyz, Shqip');
    expect(languageNames('')).toBe('');
  });
});

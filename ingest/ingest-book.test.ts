import { describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { BOOK_OCR_PROFILES, type BookMetadata } from '../archive/index.ts';
import { OCR_PROFILES, bookOcrProfileOf } from '../ocr/index.ts';
import { validateMetadata } from './ingest-book.ts';

/** What `validateMetadata` throws for `m` (undefined when it accepts it). */
function refusal(m: BookMetadata): unknown {
  try {
    validateMetadata(m);
    return undefined;
  } catch (e) {
    return e;
  }
}

const meta: BookMetadata = { registerType: 'birth', municipality: ' Pejë ', yearFrom: 1958, yearTo: 1959, languages: 'sqi+srp' };

describe('validateMetadata: the OCR profile', () => {
  it('reads a book as printed when no profile is given, and keeps the one given', () => {
    expect(validateMetadata(meta)).toMatchObject({ municipality: 'Pejë', ocrProfile: 'printed' });
    expect(validateMetadata({ ...meta, ocrProfile: 'typewriter' }).ocrProfile).toBe('typewriter');
    expect(validateMetadata({ ...meta, ocrProfile: 'mixed' }).ocrProfile).toBe('mixed');
    expect(validateMetadata({ ...meta, ocrProfile: 'handwritten' }).ocrProfile).toBe('handwritten');
  });

  it('refuses an unknown profile with ERR_VALIDATION naming the field, the value and the allowed profiles', () => {
    const e = refusal({ ...meta, ocrProfile: 'stenographic' as never });
    expect(isAppError(e, 'ERR_VALIDATION')).toBe(true);
    expect((e as Error).message).toBe('invalid book metadata: ocrProfile must be one of printed, typewriter, mixed, handwritten, got "stenographic"');
    expect((e as { details?: { field?: string } }).details?.field).toBe('ocrProfile');
  });

  it('names no single field when several are wrong, and lists each', () => {
    const e = refusal({ ...meta, languages: 'Albanian', ocrProfile: 'cursive' as never });
    expect(isAppError(e, 'ERR_VALIDATION')).toBe(true);
    expect((e as Error).message).toMatch(/languages must be .*; ocrProfile must be one of printed, typewriter, mixed, handwritten, got "cursive"/);
    expect((e as { details?: unknown }).details).toBeUndefined();
  });

  it('offers exactly the profiles the OCR stage has, so none falls back to printed unseen', () => {
    expect([...BOOK_OCR_PROFILES].sort()).toEqual(Object.keys(OCR_PROFILES).sort());
    for (const p of BOOK_OCR_PROFILES) expect(bookOcrProfileOf(p)).toBe(p);
  });
});

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../common/errors.ts';
import { detectFormat, sniffFormat } from './detect.ts';

const bytes = (...parts: Array<number[] | string>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

function refusal(head: Buffer): Error & { details?: Record<string, unknown> } {
  try {
    sniffFormat(head);
  } catch (e) {
    if (isAppError(e, 'ERR_UNSUPPORTED_MEDIA')) return e;
    throw e;
  }
  throw new Error('expected ERR_UNSUPPORTED_MEDIA');
}

describe('detectFormat', () => {
  it('recognises the accepted formats by their magic bytes only', () => {
    expect(detectFormat(bytes('II*\0', [8, 0, 0, 0]))).toBe('tiff');
    expect(detectFormat(bytes('MM\0*', [0, 0, 0, 8]))).toBe('tiff');
    expect(detectFormat(bytes('II+\0', [8, 0, 0, 0]))).toBe('tiff');
    expect(detectFormat(bytes('MM\0+', [0, 8, 0, 0]))).toBe('tiff');
    expect(detectFormat(bytes([0x89], 'PNG\r\n', [0x1a, 0x0a]))).toBe('png');
    expect(detectFormat(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(detectFormat(bytes('PK', [3, 4]))).toBe('zip');
    expect(detectFormat(bytes('%PDF-1.7\n'))).toBe('pdf');
    // Some generators write a preamble; readers accept %PDF- within the first 1024 bytes.
    expect(detectFormat(bytes(' '.repeat(1000), '%PDF-1.4'))).toBe('pdf');
    expect(() => detectFormat(bytes(' '.repeat(1020), '%PDF-1.4'))).toThrow(/not a TIFF, PDF/);
  });

  it('refuses everything else in words, saying what it looks like when known; the first bytes go in the details', () => {
    const gif = refusal(bytes('GIF89a', [1, 0]));
    expect(gif.message).toBe('file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a GIF image');
    expect(gif.details).toEqual({ head: '47 49 46 38 39 61 01 00' });
    expect(refusal(bytes([0, 0, 0, 0x0c], 'jP  \r\n', [0x87, 0x0a])).message).toMatch(/it looks like a JPEG 2000 image/);
    expect(refusal(bytes('hello')).message).toBe('file is not a TIFF, PDF, PNG, JPEG or ZIP; it looks like a text file (a note or a list, not a scan)');
    expect(refusal(bytes([0xc5, 0x4f, 0x52, 0x44, 0x00])).message).toBe('file is not a TIFF, PDF, PNG, JPEG or ZIP; its kind is not recognised');
    expect(refusal(Buffer.alloc(0)).message).toBe('file is empty');
  });

  it('reads a path: a renamed non-image is refused, a folder is reported as such', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'detect-test-'));
    try {
      const fake = path.join(dir, 'scan.tif');
      await fs.writeFile(fake, 'Name,Born\nAna,1921\n');
      await expect(detectFormat(fake)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA', status: 415 });
      const pdf = path.join(dir, 'book.bin');
      await fs.writeFile(pdf, '%PDF-1.7\n%...');
      expect(await detectFormat(pdf)).toBe('pdf');
      expect(await detectFormat(dir)).toBe('folder');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

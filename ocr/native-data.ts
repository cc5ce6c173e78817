/**
 * The language data native Tesseract reads: the very `4.0.0_best_int` models of the npm packages
 * tesseract.js reads (so switching engines changes speed, not readings), unpacked once into a
 * folder of plain `<code>.traineddata` files, which is what `tesseract --tessdata-dir` wants.
 * Debian's own traineddata is never used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { OCR_DATA_VARIANT, OCR_LANGUAGE_ALIASES, type InstalledOcrData } from './lang-data.ts';

/**
 * Unpacks every installed language (and the OSD data) into `<root>/arkiva-tessdata-<key>` and
 * returns that folder. The key is a digest of the packages' file names and sizes, so a changed
 * package gets a new folder and an unchanged one is unpacked once per machine, not per process.
 * Each file is written to a temporary name and renamed into place, so processes unpacking at the
 * same time never see (or leave) a half-written model; an alias (srp_latn) is a symbolic link to
 * the model it is read with, placed the same way.
 */
export async function unpackOcrData(installed: InstalledOcrData, root: string = os.tmpdir()): Promise<string> {
  const sources = [...installed.languages.values()].filter((l) => !OCR_LANGUAGE_ALIASES[l.code]);
  if (installed.osd) sources.push(installed.osd);
  const sized = await Promise.all(sources.map(async (s) => ({ ...s, size: (await fs.stat(s.file)).size })));
  sized.sort((a, b) => a.code.localeCompare(b.code));
  const key = createHash('sha256')
    .update(JSON.stringify([OCR_DATA_VARIANT, sized.map((s) => [s.code, path.basename(s.file), s.size]), OCR_LANGUAGE_ALIASES]))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(root, `arkiva-tessdata-${key}`);
  await fs.mkdir(dir, { recursive: true });
  for (const s of sized) {
    const target = path.join(dir, `${s.code}.traineddata`);
    if (await exists(target)) continue;
    const tmp = tempName(target);
    try {
      await pipeline(createReadStream(s.file), createGunzip(), createWriteStream(tmp, { flags: 'wx' }));
      await fs.rename(tmp, target);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
  for (const [alias, code] of Object.entries(OCR_LANGUAGE_ALIASES)) {
    const target = path.join(dir, `${alias}.traineddata`);
    if (!installed.languages.has(alias) || (await exists(target))) continue;
    const tmp = tempName(target);
    try {
      await fs.symlink(`${code}.traineddata`, tmp);
      await fs.rename(tmp, target);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }
  return dir;
}

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function exists(file: string): Promise<boolean> {
  // stat, not lstat: a link whose model is missing counts as missing
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

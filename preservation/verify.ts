import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BAGIT_VERSION, decodeManifestPath } from './bagit.ts';
import { readTar } from './tar.ts';

/** One thing wrong with a bag. */
export interface BagProblem {
  kind: 'missing' | 'changed' | 'extra' | 'invalid';
  /** The file concerned, relative to the bag's base directory. */
  path?: string;
  message: string;
}

/** The verdict on a bag: valid when `problems` is empty. */
export interface BagReport {
  valid: boolean;
  problems: BagProblem[];
  /** Files read (payload and tag files). */
  files: number;
  payloadOctets: number;
  payloadStreams: number;
}

/** A file of a bag as a verifier reads it: path relative to the bag's base directory. */
export interface BagFileInput {
  path: string;
  body: AsyncIterable<Buffer | Uint8Array>;
}

// Tag files read whole to be parsed; anything else is only hashed.
const PARSED = /^(bagit\.txt|bag-info\.txt|(tag)?manifest-[a-z0-9]+\.txt)$/;
const MAX_TAG_FILE = 64 * 1024 * 1024;

/**
 * Checks a bag against RFC 8493: bagit.txt, every payload file listed in manifest-sha256.txt
 * present with its checksum, no payload file left unlisted, tag files as tagmanifest-sha256.txt
 * says, and Payload-Oxum. Each file is read once, as a stream.
 */
export async function verifyBagFiles(files: AsyncIterable<BagFileInput>): Promise<BagReport> {
  const found = new Map<string, { sha256: string; size: number }>();
  const text = new Map<string, string>();
  for await (const f of files) {
    const hash = createHash('sha256');
    let size = 0;
    const keep = PARSED.test(f.path) ? ([] as Buffer[]) : undefined;
    for await (const chunk of f.body) {
      hash.update(chunk);
      size += chunk.length;
      if (keep && size <= MAX_TAG_FILE) keep.push(Buffer.from(chunk));
    }
    found.set(f.path, { sha256: hash.digest('hex'), size });
    if (keep) text.set(f.path, Buffer.concat(keep).toString('utf8'));
  }

  const problems: BagProblem[] = [];
  const bagit = text.get('bagit.txt');
  if (bagit === undefined) problems.push({ kind: 'missing', path: 'bagit.txt', message: 'bagit.txt is missing: not a bag' });
  else {
    const decl = parseLabels(bagit);
    if (!decl.get('BagIt-Version')) problems.push({ kind: 'invalid', path: 'bagit.txt', message: 'bagit.txt has no BagIt-Version' });
    else if (decl.get('BagIt-Version') !== BAGIT_VERSION && decl.get('BagIt-Version') !== '0.97') {
      problems.push({ kind: 'invalid', path: 'bagit.txt', message: `unsupported BagIt-Version ${decl.get('BagIt-Version')}` });
    }
    if (decl.get('Tag-File-Character-Encoding')?.toUpperCase() !== 'UTF-8') {
      problems.push({ kind: 'invalid', path: 'bagit.txt', message: 'Tag-File-Character-Encoding is not UTF-8' });
    }
  }

  const listed = new Set<string>();
  const manifest = text.get('manifest-sha256.txt');
  if (manifest === undefined) problems.push({ kind: 'missing', path: 'manifest-sha256.txt', message: 'manifest-sha256.txt is missing' });
  else {
    for (const entry of parseManifest(manifest, 'manifest-sha256.txt', problems)) {
      listed.add(entry.path);
      if (!entry.path.startsWith('data/')) problems.push({ kind: 'invalid', path: entry.path, message: 'the payload manifest lists a file outside data/' });
      checkEntry(entry, found, problems);
    }
  }
  let octets = 0;
  let streams = 0;
  for (const [p, f] of found) {
    if (!p.startsWith('data/')) continue;
    octets += f.size;
    streams++;
    if (manifest !== undefined && !listed.has(p)) problems.push({ kind: 'extra', path: p, message: 'payload file not listed in manifest-sha256.txt' });
  }

  const tagmanifest = text.get('tagmanifest-sha256.txt');
  if (tagmanifest !== undefined) {
    const tagListed = new Set<string>();
    for (const entry of parseManifest(tagmanifest, 'tagmanifest-sha256.txt', problems)) {
      tagListed.add(entry.path);
      checkEntry(entry, found, problems);
    }
    for (const p of found.keys()) {
      if (!p.startsWith('data/') && p !== 'tagmanifest-sha256.txt' && !tagListed.has(p)) {
        problems.push({ kind: 'extra', path: p, message: 'tag file not listed in tagmanifest-sha256.txt' });
      }
    }
  }

  const info = text.get('bag-info.txt');
  const oxum = info !== undefined ? parseLabels(info).get('Payload-Oxum') : undefined;
  if (oxum !== undefined && oxum !== `${octets}.${streams}`) {
    problems.push({ kind: 'invalid', path: 'bag-info.txt', message: `Payload-Oxum says ${oxum}, the payload is ${octets}.${streams}` });
  }
  return { valid: problems.length === 0, problems, files: found.size, payloadOctets: octets, payloadStreams: streams };
}

function checkEntry(entry: { path: string; sha256: string }, found: Map<string, { sha256: string }>, problems: BagProblem[]): void {
  const f = found.get(entry.path);
  if (!f) problems.push({ kind: 'missing', path: entry.path, message: 'listed in the manifest but not in the bag' });
  else if (f.sha256 !== entry.sha256) problems.push({ kind: 'changed', path: entry.path, message: `SHA-256 is ${f.sha256}, the manifest says ${entry.sha256}` });
}

function parseManifest(text: string, name: string, problems: BagProblem[]): { path: string; sha256: string }[] {
  const out: { path: string; sha256: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const m = /^([0-9a-fA-F]{64})[ \t]+(.+)$/.exec(line);
    if (!m) {
      problems.push({ kind: 'invalid', path: name, message: `malformed line: ${line.slice(0, 120)}` });
      continue;
    }
    const p = decodeManifestPath(m[2]!.replace(/^\*/, ''));
    if (p.startsWith('/') || p.split('/').includes('..')) {
      problems.push({ kind: 'invalid', path: name, message: `path escapes the bag: ${p}` });
      continue;
    }
    out.push({ sha256: m[1]!.toLowerCase(), path: p });
  }
  return out;
}

function parseLabels(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) m.set(last, `${m.get(last)} ${line.trim()}`);
    else {
      const i = line.indexOf(':');
      if (i > 0) {
        last = line.slice(0, i).trim();
        if (!m.has(last)) m.set(last, line.slice(i + 1).trim());
      }
    }
  }
  return m;
}

/** Checks an unpacked bag in a folder. */
export async function verifyBagDir(dir: string): Promise<BagReport> {
  return verifyBagFiles(walk(dir, ''));
}

async function* walk(root: string, rel: string): AsyncGenerator<BagFileInput> {
  const entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(root, p);
    else if (e.isFile()) yield { path: p, body: fs.createReadStream(path.join(root, p)) };
  }
}

/**
 * Checks a bag packed as a tar stream whose entries sit under one top directory (as `book.package`
 * writes them).
 */
export async function verifyBagTar(tar: AsyncIterable<Buffer | Uint8Array>): Promise<BagReport> {
  return verifyBagFiles(
    (async function* () {
      for await (const e of readTar(tar)) {
        if (e.type !== 'file') continue;
        yield { path: e.path.replace(/^[^/]+\//, ''), body: e.body };
      }
    })(),
  );
}

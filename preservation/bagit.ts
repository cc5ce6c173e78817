import { sha256Hex } from '../common/index.ts';

/** A payload file of a bag, as the manifest lists it. */
export interface PayloadFile {
  /** Path relative to the bag's base directory, starting with 'data/'. */
  path: string;
  size: number;
  sha256: string;
}

/** A tag file (outside data/) with its bytes, small enough to hold in memory. */
export interface TagFile {
  path: string;
  content: Buffer;
}

/** What bag-info.txt says about the bag besides the computed Payload-Oxum. */
export interface BagInfo {
  sourceOrganization: string;
  externalIdentifier: string;
  baggingDate: Date;
  externalDescription?: string;
  /** Further `Label: value` lines (one value each). */
  extra?: Record<string, string>;
}

/** The BagIt version this writer produces and the verifier accepts. */
export const BAGIT_VERSION = '1.0';

/**
 * Encodes a path for a manifest line: RFC 8493 §2.1.3 percent-encodes only CR, LF and '%', so any
 * other UTF-8 name is written as is.
 */
export function encodeManifestPath(path: string): string {
  return path.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Reverses `encodeManifestPath`. */
export function decodeManifestPath(path: string): string {
  return path.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

/** A manifest's text: one `<sha256>  <path>` line per file, sorted by path so equal bags give equal bytes. */
export function manifestText(files: { path: string; sha256: string }[]): string {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.sha256}  ${encodeManifestPath(f.path)}\n`).join('');
}

/** `Payload-Oxum`: total octets and number of payload files. */
export function payloadOxum(files: { size: number }[]): string {
  return `${files.reduce((n, f) => n + f.size, 0)}.${files.length}`;
}

/**
 * The tag files of a BagIt 1.0 bag (RFC 8493) whose payload is `payload`: bagit.txt, bag-info.txt,
 * manifest-sha256.txt, and tagmanifest-sha256.txt covering the other three.
 */
export function bagTagFiles(payload: PayloadFile[], info: BagInfo): TagFile[] {
  for (const f of payload) if (!f.path.startsWith('data/')) throw new Error(`payload path outside data/: ${f.path}`);
  const bagit = Buffer.from(`BagIt-Version: ${BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n`);
  const lines: [string, string][] = [
    ['Source-Organization', info.sourceOrganization],
    ['External-Identifier', info.externalIdentifier],
    ['Bagging-Date', info.baggingDate.toISOString().slice(0, 10)],
    ['Payload-Oxum', payloadOxum(payload)],
    ['Bag-Size', humanSize(payload.reduce((n, f) => n + f.size, 0))],
  ];
  if (info.externalDescription) lines.push(['External-Description', info.externalDescription]);
  for (const [k, v] of Object.entries(info.extra ?? {})) lines.push([k, v]);
  // Values never span lines here: a newline in a value would be read as a new label.
  const bagInfo = Buffer.from(lines.map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}\n`).join(''));
  const manifest = Buffer.from(manifestText(payload));
  const tags: TagFile[] = [
    { path: 'bagit.txt', content: bagit },
    { path: 'bag-info.txt', content: bagInfo },
    { path: 'manifest-sha256.txt', content: manifest },
  ];
  const tagmanifest = Buffer.from(manifestText(tags.map((t) => ({ path: t.path, sha256: sha256Hex(t.content) }))));
  return [...tags, { path: 'tagmanifest-sha256.txt', content: tagmanifest }];
}

function humanSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

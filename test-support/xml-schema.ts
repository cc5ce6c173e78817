import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The profile schemas the package's XML is validated against (see preservation/schemas/README.md). */
export const PROFILE_SCHEMAS = {
  alto: fileURLToPath(new URL('../preservation/schemas/alto-4-profile.xsd', import.meta.url)),
  mets: fileURLToPath(new URL('../preservation/schemas/mets-1.12-profile.xsd', import.meta.url)),
} as const;

/** True when libxml2's `xmllint` (Debian libxml2-utils) is on the PATH. */
export function haveXmllint(): boolean {
  return !spawnSync('xmllint', ['--version']).error;
}

/** Validates an XML file with `xmllint --schema` (never the network); its exit status and messages. */
export function xmllintSchema(schema: string, file: string): { status: number | null; out: string } {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, file], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

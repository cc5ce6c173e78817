/**
 * Checks IIIF documents with tools Arkiva did not write: the IIIF Presentation 3 JSON schema of
 * IIIF/presentation-validator (kept in test-support/iiif-schema/, source in its README), validated
 * with ajv, and @iiif/parser (the parser of the IIIF Commons viewers), which normalises the document
 * and upgrades it strictly, reporting what it had to fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import AjvModule from 'ajv';
import formatsModule from 'ajv-formats';
import { normalize } from '@iiif/parser';
import { presentation3StrictUpgrade } from '@iiif/parser/strict';

/** The IIIF Presentation 3.0 JSON schema kept as test data. */
export const PRESENTATION3_SCHEMA_FILE = path.resolve(import.meta.dirname, 'iiif-schema/iiif_3_0.json');

type AjvClass = typeof AjvModule.default;
const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as AjvClass;
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule.default }).default ?? formatsModule) as typeof formatsModule.default;

let validator: ReturnType<InstanceType<AjvClass>['compile']> | undefined;

/** Errors of the document against the Presentation 3 schema (empty when valid), each as "path: message". */
export function schemaErrors(doc: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(fs.readFileSync(PRESENTATION3_SCHEMA_FILE, 'utf8')) as object);
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

/** What @iiif/parser made of a manifest: its normalised entities, and the strict upgrade's warnings. */
export function parseManifest(doc: unknown): { manifest: { id: string; type: string; items: { id: string }[] }; canvases: string[]; warnings: string[] } {
  // The parser rewrites what it is given in place (references for embedded resources): it gets copies.
  const normalised = normalize(structuredClone(doc));
  const manifest = (normalised.entities.Manifest as Record<string, { id: string; type: string; items: { id: string }[] }>)[(normalised.resource as { id: string }).id];
  if (!manifest) throw new Error('@iiif/parser found no manifest in the document');
  const state = { warnings: [] as string[] };
  presentation3StrictUpgrade(structuredClone(doc) as Parameters<typeof presentation3StrictUpgrade>[0], state);
  return { manifest, canvases: manifest.items.map((c) => c.id), warnings: state.warnings };
}

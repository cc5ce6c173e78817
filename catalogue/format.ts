/**
 * The catalogue as it is written to the object store (docs/catalogue-format.md, format 1): keys,
 * the envelope, the tables each kind holds with their columns, and the canonical JSON whose
 * SHA-256 decides whether a new version is written. Shared by the writer (`write.ts`), the check
 * (`check.ts`) and the rebuild, so the three cannot drift apart.
 */
import { z } from 'zod';
import { sha256Hex } from '../common/index.ts';

/** Every catalogue object lives under this prefix. */
export const CATALOGUE_PREFIX = 'catalogue/';
/** The `format` field of every envelope. */
export const CATALOGUE_FORMAT = 'arkiva-catalogue';
/** The version of this format; a reader refuses a newer one. */
export const CATALOGUE_FORMAT_VERSION = 1;
/** Where this format's document is written once, so the store describes itself. */
export const CATALOGUE_FORMAT_DOC_KEY = `${CATALOGUE_PREFIX}format/catalogue-format-${CATALOGUE_FORMAT_VERSION}.md`;
/** Audit events per segment at most. */
export const AUDIT_SEGMENT_MAX_EVENTS = 10_000;
/** Folder of the audit chain's segments. */
export const AUDIT_SEGMENT_PREFIX = `${CATALOGUE_PREFIX}audit/segments/`;

/** How a column's value is written in JSON (docs/catalogue-format.md, "Value encoding"). */
export type ColumnType = 'uuid' | 'text' | 'int' | 'bigint' | 'real' | 'bool' | 'timestamptz' | 'date' | 'jsonb' | 'text[]' | 'uuid[]';

/** One table as the catalogue writes it: its columns in table order, and the columns rows are sorted by. */
export interface TableSpec {
  columns: Readonly<Record<string, ColumnType>>;
  order: readonly string[];
}

const T = 'timestamptz' as const;

/**
 * Every table the catalogue writes, with exactly the columns it writes (`users.password_hash` is
 * left out on purpose). `catalogue.int.test.ts` compares this with the migrated schema, so a
 * migration that adds a column fails the suite until the column is placed here.
 */
export const CATALOGUE_TABLES = {
  books: {
    columns: {
      id: 'uuid', register_type: 'text', municipality: 'text', year_from: 'int', year_to: 'int', volume: 'text', languages: 'text',
      source_format: 'text', source_sha256: 'text', source_size: 'bigint', status: 'text', failure_reason: 'text', page_count: 'int',
      pages_done: 'int', pages_failed: 'int', summary: 'jsonb', created_by: 'text', created_at: T, updated_at: T, completed_at: T, ocr_profile: 'text',
    },
    order: ['id'],
  },
  pages: {
    columns: {
      id: 'uuid', book_id: 'uuid', sequence: 'int', status: 'text', stage: 'text', failure_reason: 'text', attempts: 'int', width: 'int',
      height: 'int', dpi_x: 'real', dpi_y: 'real', orientation: 'int', ocr_confidence: 'real', ocr_text: 'text', revision: 'int',
      created_at: T, updated_at: T, indexed_revision: 'int', ocr_engine: 'text', text_revision: 'int', page_type: 'text',
      page_type_reason: 'text', ink_ratio: 'real', ocr_turn: 'int',
    },
    order: ['sequence', 'id'],
  },
  stored_objects: {
    columns: {
      id: 'uuid', book_id: 'uuid', page_id: 'uuid', role: 'text', variant: 'text', revision: 'int', store_key: 'text', version_id: 'text',
      sha256: 'text', md5: 'text', size: 'bigint', media_type: 'text', created_at: T, superseded_at: T,
    },
    order: ['created_at', 'id'],
  },
  processing_events: {
    columns: {
      id: 'bigint', book_id: 'uuid', page_id: 'uuid', object_id: 'uuid', event_type: 'text', agent: 'text', outcome: 'text', detail: 'text',
      duration_ms: 'int', occurred_at: T,
    },
    order: ['id'],
  },
  entries: {
    columns: {
      id: 'uuid', book_id: 'uuid', page_id: 'uuid', x0: 'int', y0: 'int', x1: 'int', y1: 'int', event_type: 'text', entry_number: 'text',
      event_date: 'text', place: 'text', place_norm: 'text', marginal_notes: 'text', ocr_text: 'text', source: 'text', status: 'text',
      created_by: 'text', created_at: T, updated_by: 'text', updated_at: T, verified_by: 'text', verified_at: T, deleted_by: 'text', deleted_at: T,
    },
    order: ['id'],
  },
  entry_names: {
    columns: { entry_id: 'uuid', role: 'text', position: 'int', name: 'text', norm: 'text' },
    order: ['entry_id', 'role', 'position'],
  },
  entry_zones: {
    columns: {
      id: 'uuid', book_id: 'uuid', page_id: 'uuid', layout_id: 'uuid', x0: 'int', y0: 'int', x1: 'int', y1: 'int', cells: 'jsonb',
      source: 'text', status: 'text', differences: 'text[]', final_fields: 'jsonb', entry_id: 'uuid', verified_by: 'text', verified_at: T,
      created_by: 'text', created_at: T, retired_by: 'text', retired_at: T, review_reason: 'text', review_flagged_at: T, turn: 'int',
    },
    order: ['id'],
  },
  entry_zone_changes: {
    columns: {
      id: 'bigint', zone_id: 'uuid', op: 'text', before: 'jsonb', after: 'jsonb', result_zone_ids: 'uuid[]', changed_by: 'text', changed_at: T,
    },
    order: ['id'],
  },
  keyings: {
    columns: {
      id: 'uuid', zone_id: 'uuid', slot: 'int', keyer: 'text', layout_id: 'uuid', fields: 'jsonb', warnings: 'jsonb', agreed: 'bool',
      started_at: T, submitted_at: T,
    },
    order: ['zone_id', 'slot'],
  },
  keying_decisions: {
    columns: {
      zone_id: 'uuid', column_key: 'text', choice: 'text', answer: 'jsonb', before: 'jsonb', overruled: 'text[]', decided_by: 'text', decided_at: T,
    },
    order: ['zone_id', 'column_key'],
  },
  record_links: {
    columns: {
      id: 'uuid', record_id: 'uuid', target_kind: 'text', book_id: 'uuid', page_id: 'uuid', entry_id: 'uuid', link_type: 'text', reason: 'text',
      created_by: 'text', created_at: T, unlinked_by: 'text', unlinked_at: T, unlink_reason: 'text', item_disposed_at: T, item_disposal_batch_id: 'uuid',
    },
    order: ['created_at', 'id'],
  },
  record_link_tombstones: {
    columns: {
      link_id: 'uuid', record_id: 'uuid', target_kind: 'text', book_id: 'uuid', page_id: 'uuid', entry_id: 'uuid', link_type: 'text',
      reason: 'text', created_by: 'text', created_at: T, unlinked_by: 'text', unlinked_at: T, unlink_reason: 'text', removed_at: T,
    },
    order: ['link_id'],
  },
  ocr_corrections: {
    columns: {
      id: 'bigint', page_id: 'uuid', revision: 'int', text_revision: 'int', word_index: 'int', line_index: 'int', before_text: 'text',
      after_text: 'text', corrected_by: 'text', corrected_at: T,
    },
    order: ['id'],
  },
  page_reviews: {
    columns: {
      page_id: 'uuid', revision: 'int', text_revision: 'int', outcome: 'text', reviewed_by: 'text', reviewed_at: T, note: 'text',
    },
    order: ['page_id', 'revision', 'text_revision', 'reviewed_at'],
  },
  item_retention: {
    columns: {
      book_id: 'uuid', rule_id: 'uuid', permanent: 'bool', trigger_date: 'date', retain_until: 'date', action: 'text', explanation: 'text',
      closure_rule_id: 'uuid', closed_until: 'date', closure_explanation: 'text', computed_at: T, computed_reason: 'text', lock_until: T, lock_synced_at: T,
    },
    order: ['book_id'],
  },
  retention_history: {
    columns: {
      id: 'bigint', book_id: 'uuid', rule_id: 'uuid', old_retain_until: 'date', new_retain_until: 'date', old_permanent: 'bool',
      new_permanent: 'bool', old_closed_until: 'date', new_closed_until: 'date', reason: 'text', changed_at: T,
    },
    order: ['id'],
  },
  extracts: {
    columns: {
      serial: 'text', extract_type: 'text', status: 'text', entry_id: 'uuid', record_id: 'uuid', book_id: 'uuid', request_reference: 'text',
      purpose: 'text', restricted: 'bool', issuing_office: 'text', issued_by: 'text', issued_at: T, pdf_sha256: 'text', pdf_key: 'text',
      pdf_version_id: 'text', pdf_size: 'bigint', signer_subject: 'text', supersedes: 'text', superseded_by: 'text', revoked_by: 'text',
      revoked_at: T, revoke_reason: 'text',
    },
    order: ['issued_at', 'serial'],
  },
  disposal_tombstones: {
    columns: { book_id: 'uuid', batch_id: 'uuid', status: 'text', tombstone: 'jsonb', created_at: T, disposed_at: T },
    order: ['book_id'],
  },
  disposal_certificates: {
    columns: { book_id: 'uuid', certificate: 'jsonb', sha256: 'text', issued_at: T },
    order: ['book_id'],
  },
  disposal_batches: {
    columns: {
      id: 'uuid', status: 'text', note: 'text', proposed_by: 'text', proposed_at: T, decided_by: 'text', decided_at: T, decision_note: 'text',
      executed_at: T, report: 'jsonb',
    },
    order: ['proposed_at', 'id'],
  },
  disposal_batch_items: {
    columns: { batch_id: 'uuid', book_id: 'uuid', outcome: 'text', detail: 'text' },
    order: ['batch_id', 'book_id'],
  },
  retention_rules: {
    columns: {
      id: 'uuid', rule_key: 'text', version: 'int', kind: 'text', name: 'text', register_type: 'text', municipality: 'text', year_from: 'int',
      year_to: 'int', period_years: 'int', period_months: 'int', permanent: 'bool', trigger: 'text', trigger_event: 'text', action: 'text',
      change_reason: 'text', created_by: 'text', created_at: T, superseded_at: T,
    },
    order: ['rule_key', 'version'],
  },
  register_layouts: {
    columns: {
      id: 'uuid', layout_key: 'text', version: 'int', name: 'text', register_type: 'text', year_from: 'int', year_to: 'int', columns: 'jsonb',
      change_reason: 'text', created_by: 'text', created_at: T, superseded_at: T,
    },
    order: ['layout_key', 'version'],
  },
  legal_holds: {
    columns: {
      id: 'uuid', name: 'text', reason: 'text', authority: 'text', created_by: 'text', created_at: T, released_by: 'text', released_at: T,
      release_reason: 'text', query: 'jsonb',
    },
    order: ['created_at', 'id'],
  },
  legal_hold_items: {
    columns: { hold_id: 'uuid', book_id: 'uuid', page_id: 'uuid', added_by: 'text', added_at: T },
    order: ['hold_id', 'book_id', 'page_id'],
  },
  users: {
    columns: { id: 'uuid', username: 'text', created_at: T, created_by: 'text', disabled_at: T },
    order: ['username'],
  },
  user_roles: {
    columns: { user_id: 'uuid', role: 'text', granted_at: T, granted_by: 'text' },
    order: ['user_id', 'role'],
  },
  registry_records: {
    columns: {
      id: 'uuid', system: 'text', record_type: 'text', record_id: 'text', person_names: 'text[]', names_norm: 'text', event_date: 'text',
      municipality: 'text', imported_by: 'text', imported_at: T, updated_at: T,
    },
    order: ['id'],
  },
  audit_events: {
    columns: {
      seq: 'bigint', at: T, actor_id: 'uuid', actor: 'text', action: 'text', target_type: 'text', target_id: 'text', from_addr: 'text',
      purpose: 'text', outcome: 'text', detail: 'jsonb', prev_hash: 'text', hash: 'text',
    },
    order: ['seq'],
  },
} as const satisfies Record<string, TableSpec>;

/** A table the catalogue writes. */
export type CatalogueTable = keyof typeof CATALOGUE_TABLES;

/**
 * Columns deliberately not written, by table: a secret, or something derived.
 * The schema test accepts these as the only columns missing from CATALOGUE_TABLES.
 */
export const OMITTED_COLUMNS: Readonly<Partial<Record<CatalogueTable, readonly string[]>>> = {
  users: ['password_hash'],
};

/**
 * Tables of the schema the catalogue does not write, and why (docs/catalogue-format.md, "Table by
 * table"). With CATALOGUE_TABLES this names every table of the migrated schema; the schema test
 * fails on a table in neither, so a new table needs a decision.
 */
export const NOT_WRITTEN_TABLES: Readonly<Record<string, 'derived' | 'not kept'>> = {
  page_words: 'derived', search_terms: 'derived', page_terms: 'derived', page_pairs: 'derived', page_triples: 'derived', entry_name_terms: 'derived', entry_name_postings: 'derived', entry_places: 'derived',
  audit_head: 'derived', schema_migrations: 'derived',
  page_image_cache: 'not kept', retention_stale: 'not kept', disposal_due_lists: 'not kept', fixity_state: 'not kept', fixity_runs: 'not kept',
  fixity_intrusions: 'not kept', api_tokens: 'not kept', sessions: 'not kept', server_keys: 'not kept', package_parts: 'not kept',
  keying_claims: 'not kept', extract_uploads: 'not kept', event_outbox: 'not kept', event_deliveries: 'not kept', event_subscriptions: 'not kept',
  audit_once: 'not kept', catalogue_rebuilds: 'not kept', catalogue_rebuild_books: 'not kept', catalogue_dirty: 'not kept', catalogue_written: 'not kept',
};

/** Where an object of a kind sits: per book, after a disposal, archive-wide, or in a registry shard. */
export type ScopeType = 'book' | 'disposed' | 'global' | 'shard';

/** One kind of catalogue object: where it sits, the tables its `data` holds, and whether it is JSON Lines. */
export interface KindSpec {
  scope: ScopeType;
  tables: readonly CatalogueTable[];
  /** JSON Lines with one table (`events`, `registry-records`); otherwise one JSON document. */
  lines: boolean;
}

/**
 * Every kind of catalogue object except the audit segments, which are append-only and named by
 * their first event. Tables are listed in the order a rebuild inserts them.
 */
export const CATALOGUE_KINDS = {
  book: { scope: 'book', tables: ['books', 'pages', 'stored_objects'], lines: false },
  events: { scope: 'book', tables: ['processing_events'], lines: true },
  entries: { scope: 'book', tables: ['entries', 'entry_names'], lines: false },
  keying: { scope: 'book', tables: ['entry_zones', 'entry_zone_changes', 'keyings', 'keying_decisions'], lines: false },
  links: { scope: 'book', tables: ['record_links', 'record_link_tombstones'], lines: false },
  corrections: { scope: 'book', tables: ['ocr_corrections', 'page_reviews'], lines: false },
  retention: { scope: 'book', tables: ['item_retention', 'retention_history'], lines: false },
  extracts: { scope: 'book', tables: ['extracts'], lines: false },
  disposal: { scope: 'disposed', tables: ['disposal_tombstones', 'disposal_certificates', 'record_links', 'record_link_tombstones'], lines: false },
  rules: { scope: 'global', tables: ['retention_rules'], lines: false },
  layouts: { scope: 'global', tables: ['register_layouts'], lines: false },
  holds: { scope: 'global', tables: ['legal_holds', 'legal_hold_items'], lines: false },
  'disposal-batches': { scope: 'global', tables: ['disposal_batches', 'disposal_batch_items'], lines: false },
  users: { scope: 'global', tables: ['users', 'user_roles'], lines: false },
  'registry-records': { scope: 'shard', tables: ['registry_records'], lines: true },
} as const satisfies Record<string, KindSpec>;

/** A kind of catalogue object. */
export type CatalogueKind = keyof typeof CATALOGUE_KINDS;
/** Every kind, in the order a rebuild reads them: global ones first (books refer to rules, layouts, batches). */
export const KIND_ORDER: readonly CatalogueKind[] = [
  'users', 'rules', 'layouts', 'registry-records', 'disposal-batches', 'holds',
  'book', 'events', 'entries', 'keying', 'links', 'corrections', 'retention', 'extracts', 'disposal',
];

/** Which object: a kind and its scope (book id, registry shard, or '' for global kinds). */
export interface CatalogueRef {
  kind: CatalogueKind;
  scope: string;
}

/** A JSON value. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
/** A table row as written: column name → value (docs/catalogue-format.md, "Value encoding"). */
export type CatalogueRow = Record<string, Json>;
/** The `data` of an object: table name → rows. */
export type CatalogueData = Partial<Record<CatalogueTable, CatalogueRow[]>>;

/** The envelope of a catalogue object (the first line of a JSON Lines one). */
export interface CatalogueHeader {
  format: typeof CATALOGUE_FORMAT;
  formatVersion: number;
  kind: CatalogueKind;
  scope: string;
  version: number;
  contentSha256: string;
  previous: { key: string; contentSha256: string } | null;
  /** The newest migration applied when written, e.g. `024_zone_turn`. */
  migration: string;
  writtenAt: string;
  writtenBy: string;
  /** JSON Lines only: the one table its lines hold, and how many. */
  table?: CatalogueTable;
  rows?: number;
}

/** A catalogue object read back: its envelope and its rows. */
export interface CatalogueObject {
  key: string;
  header: CatalogueHeader;
  data: CatalogueData;
}

/** The first line of an audit segment. */
export interface AuditSegmentHeader {
  format: typeof CATALOGUE_FORMAT;
  formatVersion: number;
  kind: 'audit-segment';
  table: 'audit_events';
  firstSeq: number;
  lastSeq: number;
  /** The hash before `firstSeq` (the genesis hash for the first segment). */
  prevHash: string;
  /** The hash of `lastSeq`: the segment's anchor. */
  lastHash: string;
  rows: number;
  contentSha256: string;
  migration: string;
  writtenAt: string;
  writtenBy: string;
}

/** An audit segment read back. */
export interface AuditSegment {
  key: string;
  header: AuditSegmentHeader;
  rows: CatalogueRow[];
}

const SHA = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHARD = /^[0-9a-f]{2}$/;

/** Sorts object keys at every level, so the same rows always give the same text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** The content hash of a JSON object: SHA-256 of the canonical JSON of its `data`. */
export function dataSha256(data: CatalogueData): string {
  return sha256Hex(canonicalJson(data));
}

/** The row lines of a JSON Lines object (each canonical JSON followed by a newline), and their hash. */
export function rowLines(rows: readonly CatalogueRow[]): { text: string; sha256: string } {
  const text = rows.map((r) => `${canonicalJson(r)}\n`).join('');
  return { text, sha256: sha256Hex(text) };
}

/** The content hash of an object, whatever its form: what is compared to decide on a new version. */
export function contentSha256(kind: CatalogueKind, data: CatalogueData): string {
  const spec: KindSpec = CATALOGUE_KINDS[kind];
  return spec.lines ? rowLines(data[spec.tables[0]!] ?? []).sha256 : dataSha256(data);
}

/** The registry-records shard of a record id: its first two hex digits. */
export function registryShard(recordId: string): string {
  return recordId.slice(0, 2).toLowerCase();
}

/** Checks a scope against its kind; a bad one is a bug in the caller. */
export function assertValidRef(ref: CatalogueRef): void {
  const spec: KindSpec | undefined = CATALOGUE_KINDS[ref.kind];
  if (!spec) throw new Error(`unknown catalogue kind ${JSON.stringify(ref.kind)}`);
  const ok = spec.scope === 'global' ? ref.scope === '' : spec.scope === 'shard' ? SHARD.test(ref.scope) : UUID.test(ref.scope);
  if (!ok) throw new Error(`catalogue ${ref.kind} object with scope ${JSON.stringify(ref.scope)}: expected ${spec.scope === 'global' ? 'no scope' : spec.scope === 'shard' ? 'a two-hex-digit shard' : 'a book id'}`);
}

/** The folder holding every version of one object, ending in `/`. */
export function catalogueFolder(ref: CatalogueRef): string {
  assertValidRef(ref);
  const spec: KindSpec = CATALOGUE_KINDS[ref.kind];
  switch (spec.scope) {
    case 'book': return `${CATALOGUE_PREFIX}books/${ref.scope}/${ref.kind}/`;
    case 'disposed': return `${CATALOGUE_PREFIX}disposed/${ref.scope}/${ref.kind}/`;
    case 'global': return `${CATALOGUE_PREFIX}global/${ref.kind}/`;
    case 'shard': return `${CATALOGUE_PREFIX}global/${ref.kind}/${ref.scope}/`;
  }
}

/** The folder of every per-book object of one book. */
export function bookFolder(bookId: string): string {
  return `${CATALOGUE_PREFIX}books/${bookId}/`;
}

/** The key of one version of an object. */
export function catalogueKey(ref: CatalogueRef, version: number, sha256: string): string {
  if (!Number.isSafeInteger(version) || version < 1 || version > 9_999_999_999) throw new Error(`catalogue version out of range: ${version}`);
  if (!SHA.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
  const spec: KindSpec = CATALOGUE_KINDS[ref.kind];
  return `${catalogueFolder(ref)}${String(version).padStart(10, '0')}-${sha256}.${spec.lines ? 'jsonl' : 'json'}`;
}

/** What a key of a version names; undefined for a key that is not one Arkiva writes. */
export function parseCatalogueKey(key: string): { ref: CatalogueRef; version: number; contentSha256: string } | undefined {
  const m = /^catalogue\/(?:(books|disposed)\/([0-9a-f-]{36})\/([a-z-]+)|global\/([a-z-]+)(?:\/([0-9a-f]{2}))?)\/(\d{10})-([0-9a-f]{64})\.(jsonl?)$/.exec(key);
  if (!m) return undefined;
  const kind = (m[3] ?? m[4]) as CatalogueKind;
  const spec: KindSpec | undefined = CATALOGUE_KINDS[kind];
  if (!spec) return undefined;
  const where = m[1] === 'books' ? 'book' : m[1] === 'disposed' ? 'disposed' : m[5] !== undefined ? 'shard' : 'global';
  if (where !== spec.scope || (m[8] === 'jsonl') !== spec.lines) return undefined;
  const ref = { kind, scope: m[2] ?? m[5] ?? '' };
  if (ref.scope && spec.scope !== 'shard' && !UUID.test(ref.scope)) return undefined;
  return { ref, version: Number(m[6]), contentSha256: m[7]! };
}

/** The key of the audit segment starting at `firstSeq`: predictable, so a writer can tell it is already there. */
export function auditSegmentKey(firstSeq: number): string {
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) throw new Error(`audit segment start out of range: ${firstSeq}`);
  return `${AUDIT_SEGMENT_PREFIX}${String(firstSeq).padStart(16, '0')}.jsonl`;
}

/** The first event of a segment key; undefined for a key that is not a segment. */
export function parseAuditSegmentKey(key: string): number | undefined {
  const m = /^catalogue\/audit\/segments\/(\d{16})\.jsonl$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** The bytes of a catalogue object (JSON, or JSON Lines with the envelope as first line). */
export function serialiseObject(header: CatalogueHeader, data: CatalogueData): Buffer {
  const spec: KindSpec = CATALOGUE_KINDS[header.kind];
  if (spec.lines) {
    const table = spec.tables[0]!;
    const rows = data[table] ?? [];
    const { text } = rowLines(rows);
    return Buffer.from(`${JSON.stringify({ ...header, table, rows: rows.length })}\n${text}`, 'utf8');
  }
  // Pretty-printed for a person; the hash covers the canonical form of `data`, not these bytes.
  return Buffer.from(`${JSON.stringify({ ...header, data: sortKeys(data) }, null, 1)}\n`, 'utf8');
}

/** The bytes of an audit segment. */
export function serialiseAuditSegment(header: AuditSegmentHeader, rows: readonly CatalogueRow[]): Buffer {
  return Buffer.from(`${JSON.stringify(header)}\n${rowLines(rows).text}`, 'utf8');
}

const headerSchema = z.object({
  format: z.literal(CATALOGUE_FORMAT),
  formatVersion: z.number().int().min(1),
  kind: z.string(),
  scope: z.string(),
  version: z.number().int().min(1),
  contentSha256: z.string().regex(SHA),
  previous: z.object({ key: z.string(), contentSha256: z.string().regex(SHA) }).nullable(),
  migration: z.string(),
  writtenAt: z.string(),
  writtenBy: z.string(),
  table: z.string().optional(),
  rows: z.number().int().min(0).optional(),
}).passthrough();

const segmentHeaderSchema = z.object({
  format: z.literal(CATALOGUE_FORMAT),
  formatVersion: z.number().int().min(1),
  kind: z.literal('audit-segment'),
  table: z.literal('audit_events'),
  firstSeq: z.number().int().min(1),
  lastSeq: z.number().int().min(1),
  prevHash: z.string().regex(SHA),
  lastHash: z.string().regex(SHA),
  rows: z.number().int().min(1),
  contentSha256: z.string().regex(SHA),
  migration: z.string(),
  writtenAt: z.string(),
  writtenBy: z.string(),
}).passthrough();

/** Why a catalogue object could not be read: names the key and the problem. */
export class CatalogueFormatError extends Error {
  constructor(readonly key: string, problem: string) {
    super(`catalogue object ${key}: ${problem}`);
    this.name = 'CatalogueFormatError';
  }
}

function rowsOf(key: string, value: unknown, table: string): CatalogueRow[] {
  if (!Array.isArray(value)) throw new CatalogueFormatError(key, `table ${table} is not an array of rows`);
  for (const r of value) if (!r || typeof r !== 'object' || Array.isArray(r)) throw new CatalogueFormatError(key, `table ${table} holds a row that is not an object`);
  return value as CatalogueRow[];
}

function splitLines(key: string, bytes: Buffer): { head: unknown; lines: string[] } {
  const text = bytes.toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0) throw new CatalogueFormatError(key, 'has no envelope line');
  let head: unknown;
  try { head = JSON.parse(text.slice(0, nl)); } catch { throw new CatalogueFormatError(key, 'its first line is not JSON'); }
  const rest = text.slice(nl + 1);
  if (rest !== '' && !rest.endsWith('\n')) throw new CatalogueFormatError(key, 'its last row is cut off (no final newline)');
  return { head, lines: rest === '' ? [] : rest.slice(0, -1).split('\n') };
}

function parseLine(key: string, line: string, n: number): CatalogueRow {
  let r: unknown;
  try { r = JSON.parse(line); } catch { throw new CatalogueFormatError(key, `line ${n} is not JSON`); }
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new CatalogueFormatError(key, `line ${n} is not a row object`);
  return r as CatalogueRow;
}

/**
 * Parses and checks a catalogue object: the envelope, that it names the kind, scope, version and
 * hash its key does, that its tables are the kind's, and that the content hashes to
 * `contentSha256`. Throws CatalogueFormatError naming the key and the problem.
 */
export function parseCatalogueObject(key: string, bytes: Buffer): CatalogueObject {
  const named = parseCatalogueKey(key);
  if (!named) throw new CatalogueFormatError(key, 'is not a key Arkiva writes (catalogue/…/<version>-<sha256>.json[l])');
  const spec: KindSpec = CATALOGUE_KINDS[named.ref.kind];
  let rawHead: unknown;
  let data: CatalogueData;
  if (spec.lines) {
    const { head, lines } = splitLines(key, bytes);
    rawHead = head;
    data = { [spec.tables[0]!]: lines.map((l, i) => parseLine(key, l, i + 2)) };
  } else {
    let doc: unknown;
    try { doc = JSON.parse(bytes.toString('utf8')); } catch { throw new CatalogueFormatError(key, 'is not JSON'); }
    if (!doc || typeof doc !== 'object' || !('data' in doc)) throw new CatalogueFormatError(key, 'has no data');
    const { data: d, ...head } = doc as { data: unknown };
    rawHead = head;
    if (!d || typeof d !== 'object' || Array.isArray(d)) throw new CatalogueFormatError(key, 'its data is not an object of tables');
    data = {};
    for (const [table, rows] of Object.entries(d)) {
      if (!(spec.tables as readonly string[]).includes(table)) throw new CatalogueFormatError(key, `holds table ${table}, which a ${named.ref.kind} object does not`);
      data[table as CatalogueTable] = rowsOf(key, rows, table);
    }
  }
  const parsed = headerSchema.safeParse(rawHead);
  if (!parsed.success) throw new CatalogueFormatError(key, `its envelope is not a catalogue envelope (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  const header = parsed.data as CatalogueHeader;
  if (header.formatVersion > CATALOGUE_FORMAT_VERSION) throw new CatalogueFormatError(key, `is format ${header.formatVersion}; this Arkiva reads format ${CATALOGUE_FORMAT_VERSION} and older`);
  if (header.kind !== named.ref.kind || header.scope !== named.ref.scope || header.version !== named.version || header.contentSha256 !== named.contentSha256) {
    throw new CatalogueFormatError(key, `its envelope (${header.kind} ${header.scope || '-'} v${header.version}) does not match its key`);
  }
  if (spec.lines && header.rows !== undefined && header.rows !== (data[spec.tables[0]!] ?? []).length) {
    throw new CatalogueFormatError(key, `declares ${header.rows} rows but holds ${(data[spec.tables[0]!] ?? []).length}: it was cut short`);
  }
  const actual = contentSha256(named.ref.kind, data);
  if (actual !== header.contentSha256) throw new CatalogueFormatError(key, `its content hashes to ${actual}, not ${header.contentSha256}: it was altered or damaged`);
  return { key, header, data };
}

/** Parses and checks an audit segment: envelope, key, row count, content hash and that the rows chain from `prevHash` to `lastHash` by their own fields. */
export function parseAuditSegment(key: string, bytes: Buffer): AuditSegment {
  const firstSeq = parseAuditSegmentKey(key);
  if (firstSeq === undefined) throw new CatalogueFormatError(key, 'is not an audit segment key (catalogue/audit/segments/<16 digits>.jsonl)');
  const { head, lines } = splitLines(key, bytes);
  const parsed = segmentHeaderSchema.safeParse(head);
  if (!parsed.success) throw new CatalogueFormatError(key, 'its first line is not an audit segment envelope');
  const header = parsed.data as AuditSegmentHeader;
  if (header.firstSeq !== firstSeq) throw new CatalogueFormatError(key, `starts at event ${header.firstSeq}, its key says ${firstSeq}`);
  const rows = lines.map((l, i) => parseLine(key, l, i + 2));
  if (rows.length !== header.rows || header.lastSeq - header.firstSeq + 1 !== rows.length) throw new CatalogueFormatError(key, `declares events ${header.firstSeq}–${header.lastSeq} but holds ${rows.length}`);
  const sha = rowLines(rows).sha256;
  if (sha !== header.contentSha256) throw new CatalogueFormatError(key, `its rows hash to ${sha}, not ${header.contentSha256}: it was altered or damaged`);
  let prev = header.prevHash;
  rows.forEach((r, i) => {
    if (r.seq !== firstSeq + i) throw new CatalogueFormatError(key, `line ${i + 2} holds event ${String(r.seq)}, expected ${firstSeq + i}`);
    if (r.prev_hash !== prev) throw new CatalogueFormatError(key, `event ${String(r.seq)} does not follow the one before it (prev_hash)`);
    prev = String(r.hash);
  });
  if (prev !== header.lastHash) throw new CatalogueFormatError(key, `its last event's hash is not the segment's anchor ${header.lastHash}`);
  return { key, header, rows };
}

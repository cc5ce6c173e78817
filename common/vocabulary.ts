/**
 * The archive's closed lists, written once: the API schemas, the queue's job schemas, the types and
 * the web interface's labels are made from these, and `vocabulary.test.ts` holds them equal to the
 * CHECK constraints of the migrations. No imports: the browser bundle (web/) reads this file too.
 */

/** Kinds of civil register a book belongs to (books.register_type, retention_rules.register_type). */
export const REGISTER_TYPES = ['birth', 'marriage', 'death', 'other'] as const;
/** A kind of civil register. */
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Kinds of event an entry records: those of the registers (entries.event_type). */
export const EVENT_TYPES = REGISTER_TYPES;
/** The kind of event an entry records. */
export type EventType = (typeof EVENT_TYPES)[number];

/** How a book's original arrived (books.source_format). */
export const SOURCE_FORMATS = ['tiff', 'pdf', 'images', 'zip'] as const;
/** How a book's original arrived. */
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Every book status, in pipeline order (books.status). */
export const BOOK_STATUSES = ['received', 'splitting', 'processing', 'complete', 'complete_with_failures', 'failed'] as const;
/** Where a book is in the pipeline. */
export type BookStatus = (typeof BOOK_STATUSES)[number];

/** The statuses a book ends in: every page done or failed, or the book could not be split. */
export const FINAL_BOOK_STATUSES = ['complete', 'complete_with_failures', 'failed'] as const satisfies readonly BookStatus[];

/** Every page status (pages.status). */
export const PAGE_STATUSES = ['pending', 'processing', 'done', 'failed'] as const;
/** Where a page is in the pipeline. */
export type PageStatus = (typeof PAGE_STATUSES)[number];

/** Quarter turns a page image may be stored at (pages.orientation). */
export const PAGE_ORIENTATIONS = [0, 90, 180, 270] as const;
/** A quarter turn of a page image, in degrees. */
export type PageOrientation = (typeof PAGE_ORIENTATIONS)[number];

/**
 * What a scanned page is: register pages are read for entries, blank ones are not read, handwritten
 * ones are keyed by people rather than trusted to OCR (pages.page_type).
 */
export const PAGE_TYPES = ['register', 'cover', 'index', 'blank', 'other', 'handwritten'] as const;
/** A kind of page a register book holds. */
export type PageType = (typeof PAGE_TYPES)[number];

/**
 * Why a page is in the OCR review queue (worked out by the queue's query, not stored): OCR out of
 * its time bound, a blank page to confirm, a page with ink on which OCR read no text, a reading
 * below the confidence floor.
 */
export const REVIEW_REASONS = ['timeout', 'blank', 'no-text', 'low-confidence'] as const;
/** Why a page waits for a clerk. */
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/**
 * OCR profiles a book's pages may be read with: printed form, typewriter, mixed Latin/Cyrillic, or
 * handwritten (read once for what search can use, then routed to keying) (books.ocr_profile).
 */
export const BOOK_OCR_PROFILES = ['printed', 'typewriter', 'mixed', 'handwritten'] as const;
/** An OCR profile a book's pages are read with (ocr/ocr-profiles.ts holds what each one does). */
export type BookOcrProfile = (typeof BOOK_OCR_PROFILES)[number];
/** The profile of a book given none: what every book was read with before profiles were chosen. */
export const DEFAULT_OCR_PROFILE: BookOcrProfile = 'printed';
/**
 * OCR languages of a book given none: Albanian, Serbian in Latin script (read with the Croatian
 * model) and Serbian in Cyrillic. On generated Albanian, Serbian (both scripts) and mixed pages it
 * found 97.6% of the names against 90.6% with the earlier sqi+srp+eng, at the same time a page
 * (bench/ocr-languages.bench.ts, docs/performance.md §2).
 */
export const DEFAULT_BOOK_LANGUAGES = 'sqi+srp_latn+srp';

/** Roles of the objects stored for a book or page (stored_objects.role). */
export const OBJECT_ROLES = ['original', 'source', 'master', 'derivative', 'ocr', 'pdf', 'alto', 'package', 'extract'] as const;
/** The role of a stored object. */
export type ObjectRole = (typeof OBJECT_ROLES)[number];

/** Outcomes of a PREMIS-style processing event (processing_events.outcome). */
export const PROCESSING_EVENT_OUTCOMES = ['success', 'failure', 'warning'] as const;
/** The outcome of a processing event. */
export type ProcessingEventOutcome = (typeof PROCESSING_EVENT_OUTCOMES)[number];

/** Where an entry came from: drawn by staff, proposed from OCR lines, or keyed twice and verified (entries.source). */
export const ENTRY_SOURCES = ['manual', 'ocr', 'keyed'] as const;
/** Where an entry came from. */
export type EntrySource = (typeof ENTRY_SOURCES)[number];

/** Review states of an entry (entries.status). */
export const ENTRY_STATUSES = ['proposed', 'verified', 'rejected'] as const;
/** The review state of an entry. */
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

/** Roles of the persons named in an entry (entry_names.role). */
export const NAME_ROLES = ['subject', 'father', 'mother', 'spouse', 'other'] as const;
/** The role of a person named in an entry. */
export type NameRole = (typeof NAME_ROLES)[number];

/** Kinds of archive item a registry record may be linked to (record_links.target_kind). */
export const LINK_TARGET_KINDS = ['book', 'page', 'entry'] as const;
/** The kind of archive item a link points at. */
export type LinkTargetKind = (typeof LINK_TARGET_KINDS)[number];

/** How an archive item relates to a registry record (record_links.link_type). */
export const LINK_TYPES = ['original-entry', 'amendment', 'marginal-note'] as const;
/** How an archive item relates to a registry record. */
export type LinkType = (typeof LINK_TYPES)[number];

/** Kinds of retention rule: retention disposes at the end, closure only restricts access (retention_rules.kind). */
export const RULE_KINDS = ['retention', 'closure'] as const;
/** The kind of a retention rule. */
export type RuleKind = (typeof RULE_KINDS)[number];

/** What starts a retention or closure period (retention_rules.trigger). */
export const RETENTION_TRIGGERS = ['creation', 'closing-year', 'registry-event'] as const;
/** What starts a retention or closure period. */
export type RetentionTrigger = (typeof RETENTION_TRIGGERS)[number];

/** What happens when a retention period ends (retention_rules.action, item_retention.action). */
export const DISPOSITION_ACTIONS = ['review', 'transfer', 'destroy'] as const;
/** What happens when a retention period ends. */
export type DispositionAction = (typeof DISPOSITION_ACTIONS)[number];

/** States of a disposal batch, proposed to executed under four eyes (disposal_batches.status). */
export const DISPOSAL_BATCH_STATUSES = ['proposed', 'approved', 'rejected', 'executing', 'executed'] as const;
/** The state of a disposal batch. */
export type DisposalBatchStatus = (typeof DISPOSAL_BATCH_STATUSES)[number];

/** Outcomes for one book of a disposal batch (disposal_batch_items.outcome). */
export const DISPOSAL_ITEM_OUTCOMES = ['pending', 'disposed', 'skipped', 'failed'] as const;
/** The outcome for one book of a disposal batch. */
export type DisposalItemOutcome = (typeof DISPOSAL_ITEM_OUTCOMES)[number];

/** States of a disposed book's tombstone: written before its content is deleted (disposal_tombstones.status). */
export const TOMBSTONE_STATUSES = ['deleting', 'disposed'] as const;
/** The state of a disposed book's tombstone. */
export type TombstoneStatus = (typeof TOMBSTONE_STATUSES)[number];

/**
 * Outcomes of a fixity check of one stored object (fixity_state.outcome): `intruded` is a recorded
 * version found whole under a version or delete marker the archive did not write.
 */
export const FIXITY_OUTCOMES = ['ok', 'mismatch', 'missing', 'error', 'intruded'] as const;
/** The outcome of a fixity check of one stored object. */
export type FixityOutcome = (typeof FIXITY_OUTCOMES)[number];

/** Roles a user may hold (user_roles.role); `reviewer` arbitrates keying differences. */
export const ROLES = ['digitiser', 'clerk', 'records_manager', 'auditor', 'admin', 'reviewer'] as const;
/** A role a user may hold. */
export type Role = (typeof ROLES)[number];

/**
 * What a column of a register layout holds (register_layouts.columns[].field): the entry's own
 * fields, the persons' names, and `remarks` (later annotations) and `other` (kept with the keying only).
 */
export const KEYING_FIELDS = [
  'entry_number', 'event_date', 'registration_date', 'given_name', 'surname', 'sex', 'age', 'father', 'mother', 'spouse',
  'spouse_given_name', 'spouse_surname', 'place', 'remarks', 'other',
] as const;
/** What a layout column holds. */
export type KeyingField = (typeof KEYING_FIELDS)[number];

/** Answers a keyer gives instead of a value (keyings.fields). */
export const KEYING_ANSWERS = ['illegible', 'blank'] as const;
/** An answer given instead of a value. */
export type KeyingAnswer = (typeof KEYING_ANSWERS)[number];

/** Where an entry zone came from: found from the ruling, drawn by hand, or made by correcting others (entry_zones.source). */
export const ZONE_SOURCES = ['detected', 'drawn', 'corrected'] as const;
/** Where an entry zone came from. */
export type ZoneSource = (typeof ZONE_SOURCES)[number];

/**
 * Where a zone is in double keying (entry_zones.status). There is no resting "keyed twice": the
 * second keying is compared in the transaction that stores it, so the zone goes straight on to
 * verified or disputed. 'empty': settled (by agreement or arbitration) as a ruled row with nothing
 * written, every column blank; it makes no entry.
 */
export const ZONE_STATUSES = ['open', 'keyed-once', 'disputed', 'verified', 'empty'] as const;
/** Where a zone is in double keying. */
export type ZoneStatus = (typeof ZONE_STATUSES)[number];

/** Corrections of a zone (entry_zone_changes.op). */
export const ZONE_CHANGE_OPS = ['move', 'split', 'merge'] as const;
/** A correction of a zone. */
export type ZoneChangeOp = (typeof ZONE_CHANGE_OPS)[number];

/** How an arbitrator settled a field: keying A's answer, keying B's, or one typed (keying_decisions.choice). */
export const ARBITRATION_CHOICES = ['a', 'b', 'typed'] as const;
/** How an arbitrator settled a field. */
export type ArbitrationChoice = (typeof ARBITRATION_CHOICES)[number];

/** Kinds of extract: that of the register the entry was read from (extracts.extract_type). */
export const EXTRACT_TYPES = REGISTER_TYPES;
/** The kind of an extract. */
export type ExtractType = (typeof EXTRACT_TYPES)[number];

/** What became of an issued extract: in force, revoked with a reason, or replaced by a re-issue (extracts.status). */
export const EXTRACT_STATUSES = ['valid', 'revoked', 'superseded'] as const;
/** The status of an issued extract. */
export type ExtractStatus = (typeof EXTRACT_STATUSES)[number];

/**
 * What other state systems are told about (event_outbox.type): a book archived, an entry verified,
 * a registry link made or ended, an extract issued or revoked, a book disposed of.
 */
export const OUTBOX_EVENT_TYPES = ['book.archived', 'entry.verified', 'link.made', 'link.ended', 'extract.issued', 'extract.revoked', 'book.disposed'] as const;
/** A kind of event other systems may subscribe to. */
export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

/** Where one event's delivery to one subscriber stands (event_deliveries.status): dead means dead-lettered. */
export const EVENT_DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
/** Where a delivery stands. */
export type EventDeliveryStatus = (typeof EVENT_DELIVERY_STATUSES)[number];

// Keying handwritten registers (issue 20): layouts, entry zones, double blind keying, arbitration.
export {
  comparisonForm, sameAnswer, differingColumns, readKeyedDate, dateWarnings, entryFieldsFrom,
  type FieldAnswer, type KeyedFields, type LayoutColumn, type KeyingWarning, type KeyingWarningCode, type ReadDate,
} from './answers.ts';
export { defineLayout, requireLayout, layoutVersions, type RegisterLayout, type LayoutInput } from './layouts.ts';
export { listLayouts } from './layouts.store.ts';
export { proposeZones, pageZones, moveZone, splitZone, mergeZones, requireZone, zonesAfterPageReplaced, type EntryZone, type Keying, type ZoneShape } from './zones.ts';
export { zoneChanges, zoneHistory, keyingsOfZone, decisionsOfZone } from './zones.store.ts';
export {
  nextZone, submitKeying, listDisputes, decideZone, zoneKeyingRecord, isEmptyRow, CLAIM_MINUTES, MAX_VALUE_LENGTH,
  type ZoneKeyingRecord, type KeyingTask, type KeyingReceipt, type Dispute, type FieldDecision, type DecisionReceipt, type BookWithholding,
} from './keyings.ts';
export { keyingStats, exportKeyedEntries, keyedEntriesCsv, type KeyingStats, type BookKeyingStats, type KeyerStats, type KeyedEntryExport } from './stats.ts';
export { suggestKeyedValues, SUGGESTED_FIELDS, type SuggestedField } from './suggestions.ts';
export { zoneCrop, zoneCropRegion, MAX_CONTEXT_ROWS } from './zone-crop.ts';

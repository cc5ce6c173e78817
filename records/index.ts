export * from './records.ts';
export * from './links.ts';
export { parseCsv, csvRecords, toCsv, csvField } from './csv.ts';
export { getRecord, findRecordByKey } from './records.store.ts';
export { getLink, linksOfRecord, linksOfItem, removedLinksOfRecord, type RemovedLink } from './links.store.ts';
export { candidatesForEntry, scoreCandidate, CANDIDATE_WEIGHTS, type Candidate, type CandidateQuery } from './candidates.ts';
export { suggestPlaces, namesOfPlace, GAZETTEER, MUNICIPALITIES, SETTLEMENTS, type GazetteerPlace, type PlaceSuggestion } from './gazetteer.ts';
export {
  linkProposals, bulkLink, isStrongAndUnique, BULK_LINK_MIN_SCORE, BULK_LINK_MIN_MARGIN, BULK_LINK_MAX_PAIRS,
  type LinkProposal, type LinkProposals, type BulkPair, type BulkLinkReport, type NotProposedReason,
} from './link-proposals.ts';

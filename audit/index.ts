export {
  appendAuditEvent, appendInTransaction, listAuditEvents, verifyChain, eventHash, serialiseEvent, GENESIS_HASH,
  type AuditInput, type AuditEvent, type AuditQuery, type ChainReport, type ChainBreak,
} from './chain.ts';
export { writeAnchor, latestAnchor, verifyWithAnchor, ANCHOR_PREFIX, type Anchor } from './anchor.ts';
export { auditHead } from './chain.store.ts';
